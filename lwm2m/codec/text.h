// text/plain (content-format 0): one value as UTF-8 text (LwM2M 1.1
// TS-Core 7.4.1 and Appendix C).
//
//   Integer, Time      decimal, optional '-'           "-42", "1367491215"
//   Unsigned Integer   decimal                          "18446744073709551615"
//   Float              shortest text that reads back to the same double
//                      (C++ to_chars), finite values only  "56.4", "1e+21"
//   Boolean            "0" or "1"
//   Objlnk             "object:instance"                "3:0"
//   Opaque             base64, standard alphabet, padded   "AQIDBAU="
//   String, Corelnk    the text itself (must be UTF-8)
//
// Only a single-instance resource (/o/i/r) or a resource instance
// (/o/i/r/ri) can be carried. Decoding is typed by the model of the resource;
// a resource without a model (or an executable one) decodes as String.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"
#include "lwm2m/value.h"

namespace fogm2m::lwm2m::text {

// The payload for the single resource or resource instance `node` at `path`.
// kUnsupported for other node kinds and multiple resources; kInvalidArgument
// when the node does not belong at `path`, carries no value, a non-finite
// float, or a string that is not UTF-8.
Result<std::vector<uint8_t>> encode(const Path& path, const Node& node);

// A Resource (path depth 3) or ResourceInstance (depth 4) holding the value
// `payload` spells, typed by the resource's model. kUnsupported for other
// depths; kTypeMismatch when the model says the resource's multiplicity
// differs from the path's; kMalformed when the text is not a value of the type.
Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models);

// The text of one value, as in the table above. kInvalidArgument for the
// none value, non-finite floats and non-UTF-8 strings.
Result<std::string> format_value(const Value& value);

// Reads `text` as a value of `type` (kNone reads as String). Errors are
// kMalformed and name the type, e.g. "\"12a\" is not an Integer".
Result<Value> parse_value(std::string_view text, ResourceType type);

// "3:0" -> {3, 0}; each id a decimal 0..65535 without sign.
Result<ObjectLink> parse_object_link(std::string_view text);
std::string format_object_link(ObjectLink link);

// The shortest decimal text that reads back to `value` exactly ("56.4",
// "1e+21", "nan", "inf"); callers reject non-finite values where the format
// cannot carry them.
std::string format_double(double value);

}  // namespace fogm2m::lwm2m::text
