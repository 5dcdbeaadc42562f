// The JSON shapes of the Eclipse Leshan demo server's HTTP API (2.x line),
// which existing scripts and dashboards speak:
//   registration  {"endpoint","registrationId","registrationDate","lastUpdate",
//                  "address":"ip:port","lwM2mVersion","lifetime","bindingMode",
//                  "rootPath","objectLinks":[{"url","attributes":{}}],"secure",
//                  "additionalRegistrationAttributes","queuemode",
//                  "availableInstances":{"3":[0]}[,"smsNumber"]}
//   response      {"status":"CONTENT(69)","valid","success","failure"
//                  [,"content"|"objectLinks"|"location"][,"errormessage"]}
//                 composite: "content" is {"/3/0/9":<node>|null,...}
//   node          {"kind":"obj","id","instances"} | {"kind":"instance","id","resources"}
//                 | {"kind":"singleResource","id","type","value"}
//                 | {"kind":"multiResource","id","type","values":{"0":..}}
//                 | {"kind":"resourceInstance","id","type","value"}
// Integers, unsigned integers and floats travel as strings (JavaScript loses
// precision above 2^53), opaque as hex, time as Unix milliseconds; incoming
// nodes may give numbers as numbers too.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <string_view>
#include <vector>

#include "bus/reply.h"
#include "lwm2m/link_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"
#include "store/registration.h"

namespace fogm2m::gateway {

boost::json::object registration_json(const store::Registration& reg);
boost::json::array links_json(const std::vector<lwm2m::Link>& links);

boost::json::value node_json(const lwm2m::Node& node);
// A node of Leshan's shape (the body of a write or create) for `path`,
// typed by its "type" fields, else by the models. Errors name the field at
// fault.
Result<lwm2m::Node> node_from_json(const boost::json::value& json, const lwm2m::Path& path,
                                   const lwm2m::ModelRegistry& models);

// "CONTENT(69)": Leshan 2.x's ResponseCode text.
std::string status_text(uint8_t coap_code);
// A device's answer, as Leshan answers the request that asked it.
boost::json::object response_json(const bus::DeviceResponse& response);
// A device's answer to a composite request: "content" maps each path to its
// node, null for one the device sent nothing for.
boost::json::object composite_response_json(const bus::CompositeResponse& response);
// {"/3/0/9":<node>|null,...} of a composite answer's content.
boost::json::object composite_content_json(const std::vector<bus::PathContent>& content);

}  // namespace fogm2m::gateway
