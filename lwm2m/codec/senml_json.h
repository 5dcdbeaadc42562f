// SenML JSON (content-format 110) as LwM2M 1.1 uses it (TS-Core 7.4.4,
// RFC 8428):
//
//   [{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},
//    {"n":"9","v":95},{"n":"7/0","v":3800}]
//
// Value keys: "v" number (Integer, Unsigned Integer, Float, Time), "vs"
// string (String, Corelnk), "vb" boolean, "vd" Opaque as base64url without
// padding (padding is tolerated on decode), "vlo" object link "3:0". A
// record's name is the current base name + "n"; "bn" and "bt" carry forward
// to the following records until replaced. "bt"/"t" are accepted; time is
// otherwise ignored, except that of several records for one path the newest
// wins. "bver", "u", "bu" and "ut" are accepted and ignored.
//
// Encoding writes "bn" in the first record only: the request path (with a
// trailing '/' unless the node is a single value), and "n" relative to it;
// records in path order; floats always with a '.' or an exponent. A node
// without leaves is "[]".
//
// Decoding types values by the model; without one a number keeps its JSON
// kind (Integer or Float), "vs" is a String. Errors (never exceptions) for:
// invalid JSON, a document that is not an array of objects, a key SenML
// defines but LwM2M cannot carry ("bv", "bs", "s", or any must-understand
// key ending in '_'; kUnsupported), any other unknown key, records with no
// value or two, a JSON type that does not fit the key or the model, names
// that are not paths or lie outside the request path, bad base64 or object
// links.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::senml_json {

// The SenML JSON text of `node` at `path`. kInvalidArgument when the node
// does not belong at `path`, a value is none or a non-finite float, or a
// string is not UTF-8.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// The node at `path` that `payload` holds. kUnsupported for the root path.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

// ---- Composite operations (TS-Core 6.3.x, 6.4.x) ------------------------------
//
// Read-Composite and Observe-Composite ask with a pack of records that carry
// only names ([{"n":"/3/0/9"},{"n":"/3313/0"}]); the answer,
// the notifications and a Write-Composite carry the values of several paths
// in one pack ([{"n":"/3/0/15","vs":"UTC"},{"n":"/3/0/14","vs":"+02"}]).

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

}  // namespace fogm2m::lwm2m::senml_json
