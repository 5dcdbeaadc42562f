// The data tree as JSON on the bus, in the shape of the reference study's
// Leshan cluster (LwM2mNodeSerDes):
//   object           {"id":3,"instances":[<instance>...]}
//   object instance  {"id":0,"resources":[<resource>...]}
//   resource         {"id":1,"type":"STRING","value":"Model"}
//   multi resource   {"id":7,"type":"INTEGER","values":{"0":3800,"1":5000}}
//   resource inst.   {"id":0,"type":"INTEGER","value":3800}
// Values: numbers as JSON numbers, booleans, strings; time as Unix seconds;
// opaque as lower-case hex; objlnk as "3:0"; corelnk as its text.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/result.h"

namespace fogm2m::bus {

boost::json::value node_to_json(const lwm2m::Node& node);
boost::json::value value_to_json(const lwm2m::Value& value);

// Appends serialize(node_to_json(node)) to `out`, byte for byte, without
// building the DOM (the notification path).
void append_node_json(std::string& out, const lwm2m::Node& node);

// Reads a node for `path` (its depth picks the kind: 1 object, 2 instance,
// 3 resource, 4 resource instance). Value types come from the "type" field
// when present, else from the model of the resource, else from the JSON
// type. Errors name the JSON field at fault.
Result<lwm2m::Node> node_from_json(const boost::json::value& json, const lwm2m::Path& path,
                                   const lwm2m::ModelRegistry& models);

// Converts one JSON value to `type` ("3:0" for objlnk, hex for opaque,
// seconds for time).
Result<lwm2m::Value> value_from_json(const boost::json::value& json, lwm2m::ResourceType type);

// Leshan's upper-case type names: "STRING", "INTEGER", "UNSIGNED_INTEGER",
// "FLOAT", "BOOLEAN", "OPAQUE", "TIME", "OBJLNK", "CORELINK", "NONE".
const char* leshan_type_name(lwm2m::ResourceType type);
bool parse_leshan_type_name(std::string_view name, lwm2m::ResourceType* out);

}  // namespace fogm2m::bus
