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

}  // namespace fogm2m::lwm2m::senml_json
