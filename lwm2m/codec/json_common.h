// What the two JSON formats (LwM2M JSON and SenML JSON) share: parsing the
// payload with Boost.JSON, resolving record names against the request path,
// typing JSON numbers by the model, choosing among timestamped duplicates,
// assembling leaves into a Node, and writing names, strings and numbers.
// SenML CBOR uses the parts that are not JSON text (names, number typing,
// assembly), so the SenML formats decode alike. Internal to lwm2m/codec.
#pragma once

#include <boost/json/value.hpp>
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

namespace fogm2m::lwm2m::json_detail {

// The JSON document in `payload` (which must be UTF-8). Never throws; a
// syntax error is kMalformed naming `format` and Boost.JSON's reason. Beyond
// plain JSON it rejects an object that repeats a key or has more than 64
// keys, and a number outside the double range; numbers with a fraction or
// exponent are converted with std::from_chars, so they read back exactly what
// append_number() wrote.
Result<boost::json::value> parse(std::string_view format, std::span<const uint8_t> payload);

// "record 3": how errors name a record (0-based).
std::string record_label(size_t record);

// The path a record names: `base` + `name` (string concatenation, as SenML
// defines it, so "/3/0/1" + "1/0" is "/3/0/11/0"), with a leading '/' added
// when missing (old LwM2M JSON clients send "bn":"3/0/"). Errors name
// `format` and `record`.
Result<Path> parse_record_name(std::string_view format, size_t record, std::string_view base,
                               std::string_view name);

// parse_record_name(), and the path must name a resource or resource
// instance (depth 3 or 4) and lie inside `request`.
Result<Path> resolve_name(std::string_view format, size_t record, std::string_view base,
                          std::string_view name, const Path& request);

// A JSON number as a value for a resource of `model` (null: untyped). Untyped
// numbers keep their JSON kind: an integer becomes Integer (Unsigned Integer
// above INT64_MAX), a number with a fraction or exponent becomes Float.
// Integer, Time and Unsigned Integer resources accept any number whose value
// is integral and in range (3800, 3.8e3). Errors (kTypeMismatch,
// kInvalidArgument) carry no format prefix.
Result<Value> number_value(const boost::json::value& number, const ResourceModel* model);

// A JSON number as a double (the times "bt" and "t"); `number` must be one.
double number_as_double(const boost::json::value& number);

// One decoded record: its path, value, resolved time (base time + time, 0
// when absent) and position in the payload.
struct Record {
  Path path;
  Value value;
  double time = 0;
  size_t index = 0;
};

// The node at `request` holding `records`. When several records name the
// same path (a series of timestamped values), the one with the greatest time
// wins; two with the same greatest time are an error. Records at depth 3 and
// 4 of the same resource, or a multiplicity that contradicts the model, are
// errors. An empty record list gives an empty Object, ObjectInstance or
// multiple Resource; for a single resource or a resource instance it is an
// error.
Result<Node> assemble(std::string_view format, const Path& request, std::vector<Record> records,
                      const ModelRegistry& models);

// Appends `text` as a quoted, escaped JSON string.
void append_string(std::string& out, std::string_view text);

// Appends a numeric value (Integer, Unsigned Integer, Float, Time) as a JSON
// number. Floats always carry a '.' or an exponent ("23.0", "1e+21") so an
// untyped reader keeps them Float; non-finite floats are kInvalidArgument.
Status append_number(std::string& out, const Value& value);

// The value keys of one JSON format: LwM2M JSON writes "v"/"bv"/"sv"/"ov"
// (opaque as padded standard base64 in "sv"), SenML JSON "v"/"vb"/"vs"/"vlo"
// (opaque as unpadded base64url in "vd").
struct ValueKeys {
  std::string_view number, boolean, string, opaque, object_link;
  bool opaque_url_alphabet;  // base64url without padding, else standard with padding
};

// Appends "key":value for one leaf value with the keys of one format.
Status append_value(std::string& out, const Value& value, const ValueKeys& keys);

// The base name and the per-leaf names a JSON encoder writes for a node at
// `request`: when the node is a single value (single resource, resource
// instance) the base name is the full path and leaves have no name; otherwise
// the base name is the path with a trailing '/' and each leaf is named by the
// ids below the request ("6/0").
std::string base_name(const Path& request, bool single_value);
std::string relative_name(const Path& request, const Path& leaf);

// kInvalidArgument (prefixed by `format`) when `value` is none or holds a
// string that is not UTF-8; the JSON writers check every leaf with it.
Status check_leaf(std::string_view format, const Path& leaf, const Value& value);

// ---- Composite packs (senml_composite.cc) ----------------------------------------------

// The path a record of a composite request's list of paths names (`base` +
// `name`, a leading '/' added when missing): any path but the root. Errors
// name `format` and `record`.
Result<Path> resolve_target(std::string_view format, size_t record, std::string_view base,
                            std::string_view name);

// The nodes a composite pack holds at `paths` (records resolved against the
// root): for each path that any record lies under, in the order of `paths`,
// the node assemble() makes of those records (a record may lie under two
// overlapping paths). A path no record lies under is left out. A record
// under none of `paths` is kInvalidArgument.
Result<std::vector<PathNode>> group_composite(std::string_view format, std::span<const Path> paths,
                                              const std::vector<Record>& records,
                                              const ModelRegistry& models);

// The resource paths (/o/i/r) `records` lie under, each once, in the order
// they first appear: what a Write-Composite writes.
std::vector<Path> resource_paths(const std::vector<Record>& records);

// The leaves of `nodes` for one composite pack, each path once (the first
// node that gives it wins, so overlapping paths such as /3/0 and /3/0/9 do
// not repeat a record), in the order of `nodes`. kInvalidArgument
// (prefixed by `format`) when a node does not belong at its path, or a leaf
// fails check_leaf().
Result<std::vector<PathValue>> composite_leaves(std::string_view format,
                                                std::span<const PathNode> nodes);

}  // namespace fogm2m::lwm2m::json_detail
