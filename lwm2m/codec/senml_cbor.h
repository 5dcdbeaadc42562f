// SenML CBOR (content-format 112) as LwM2M 1.1 uses it (TS-Core 7.4.5,
// RFC 8428 section 6): SenML JSON's records with CBOR's integer labels.
//
//   [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"},
//    {0: "9", 2: 95}, {0: "7/0", 2: 3800}]
//
// Labels: bn -2, bt -3, n 0, t 6; values 2 "v" number (Integer, Unsigned
// Integer, Float, Time), 3 "vs" text (String, Corelnk), 4 "vb" boolean,
// 8 "vd" Opaque as a byte string, and the text label "vlo" (no integer
// label exists for it) an object link "3:0" as text. A record's name is the
// current base name + "n"; "bn" and "bt" carry forward to the following
// records until replaced. "bt"/"t" are accepted; time is otherwise ignored,
// except that of several records for one path the newest wins. bver -1
// (an unsigned integer), bu -4, u 1 and ut 7 are accepted and ignored.
//
// Encoding writes "bn" in the first record only: the request path (with a
// trailing '/' unless the node is a single value), and "n" relative to it;
// records in path order, each map's keys in the order bn, n, value;
// definite lengths; integers as CBOR integers, floats as the shortest of
// half, single and double that holds them exactly. A node without leaves is
// the empty array 0x80.
//
// Decoding accepts any well-formed CBOR (cbor.h: indefinite lengths, any
// float width, labels in any order) and types values by the model; without
// one a CBOR integer is an Integer (Unsigned Integer above INT64_MAX), a
// CBOR float a Float, "vs" a String. A number may also be a decimal fraction
// (tag 4, RFC 8949 3.4.4) of 64-bit integers. Errors (never exceptions) for:
// CBOR that is not well-formed (the message names the byte offset), a
// document that is not an array of maps, a label SenML defines but LwM2M
// cannot carry (bv -5, bs -6, s 5, or any must-understand text label ending
// in '_'; kUnsupported), any other unknown label, a repeated label, records
// with no value or two, a CBOR type that does not fit the label or the
// model, names that are not paths or lie outside the request path, object
// links that do not parse, other tags.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::senml_cbor {

// The SenML CBOR bytes of `node` at `path`. kInvalidArgument when the node
// does not belong at `path`, a value is none or a non-finite float, or a
// string is not UTF-8.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// The node at `path` that `payload` holds. kUnsupported for the root path.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

// ---- Composite operations (TS-Core 6.3.x, 6.4.x) ------------------------------
//
// Read-Composite and Observe-Composite ask with a pack of records that carry
// only names ([{0: "/3/0/9"}, {0: "/3313/0"}]); the answer,
// the notifications and a Write-Composite carry the values of several paths
// in one pack ([{0: "/3/0/15", 3: "UTC"}, {0: "/3/0/14", 3: "+02"}]).

// The pack of names of `paths` ("n" the full path, no base name).
// kInvalidArgument for the root path.
Result<std::vector<uint8_t>> encode_paths(std::span<const Path> paths);
// The paths a pack of names lists, in order. Errors for a record with a
// value, names that are not paths, the root path, and what decode() refuses
// of the keys.
Result<std::vector<Path>> decode_paths(std::span<const uint8_t> payload);

// One pack holding the leaves of every node, each record named by its full
// path, without a base name; a leaf that two overlapping nodes give is
// written once. Errors as encode().
Result<std::vector<uint8_t>> encode_composite(std::span<const PathNode> nodes);
// The nodes a pack holds at `paths` (json_common.h group_composite(): paths
// nothing lies under are left out, a record outside every path is an error).
Result<std::vector<PathNode>> decode_composite(std::span<const Path> paths,
                                               std::span<const uint8_t> payload,
                                               const ModelRegistry& models);
// The resources (/o/i/r nodes, a multiple one from its resource instances)
// a Write-Composite pack writes, in the order they first appear.
Result<std::vector<PathNode>> decode_composite_resources(std::span<const uint8_t> payload,
                                                         const ModelRegistry& models);

}  // namespace fogm2m::lwm2m::senml_cbor
