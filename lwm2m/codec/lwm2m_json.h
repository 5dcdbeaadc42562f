// OMA LwM2M JSON (content-format 11543; the pre-registration number 1543 is
// the same format), OMA-TS-LightweightM2M-V1_0 6.4.4:
//
//   {"bn":"/3/0/","e":[{"n":"0","sv":"Open Mobile Alliance"},
//                      {"n":"9","v":95},{"n":"7/0","v":3800}]}
//
// Value keys: "v" number (Integer, Unsigned Integer, Float, Time), "sv"
// string (String, Corelnk, and Opaque as standard padded base64, as Leshan
// writes it), "bv" boolean, "ov" object link "3:0". Names are "bn" + "n"
// (string concatenation). "bt" and "t" are accepted; time is otherwise
// ignored, except that of several records for one path the newest wins.
//
// Encoding writes "bn" as the request path (with a trailing '/' unless the
// node is a single value) and "n" relative to it, records in path order,
// floats always with a '.' or an exponent.
//
// Decoding types values by the model; without one a number keeps its JSON
// kind (Integer or Float), "sv" is a String. Errors (never exceptions) for:
// invalid JSON, a document that is not {"e":[...]} with only the keys bn, bt
// and e, records with a key other than n, t, v, sv, bv, ov, with no value or
// two, a JSON type that does not fit the key or the model, names that are not
// paths or lie outside the request path, bad base64 or object links.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m::lwm2m_json {

// The LwM2M JSON text of `node` at `path`. kInvalidArgument when the node does
// not belong at `path`, a value is none or a non-finite float, or a string is
// not UTF-8.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// The node at `path` that `payload` holds. kUnsupported for the root path.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

}  // namespace fogm2m::lwm2m::lwm2m_json
