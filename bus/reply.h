// Replies on the bus (channel Channels::responses, LWM2M_RESP), in the
// reference study's shapes. The owner of a request's endpoint answers, in
// order:
//   {"ticket":"<ticket>","ack":true}
// then one of
//   {"ticket":"<ticket>","rep":{...}}
//   {"ticket":"<ticket>","err":{"errorMessage":"..."}}
// An observation's notifications are reps with the observe request's ticket.
//
// The "rep" objects, by what answered:
//   a device (DeviceResponse; every kind but cancel_observe and sec_info):
//     {"code":"CONTENT","coapCode":"2.05"
//      [,"errorMessage":..]        the diagnostic payload of an error code
//      [,"location":"/3313/1"]     create
//      [,"links":[{"url","at":{}}]] discover
//      [,"contentFormat":"TLV","content":<node JSON>]   read, observe
//      [,"observe":true,"token":"<hex>"]                observe
//      [,"notification":true,"ep":..,"path":..]}        a notification
//   a device, to a composite kind (CompositeResponse):
//     {"code":"CONTENT","coapCode":"2.05"
//      [,"errorMessage":..]
//      [,"contentFormat":"SENML_JSON","content":{"/3/0/9":<node JSON>|null,...}]
//                                                       read_composite, observe_composite
//      [,"observe":true,"token":"<hex>"]                observe_composite
//      [,"notification":true,"ep":..,"paths":["/3/0/9",..]]}   a notification
//     ("content" has every requested path, in the request's order; null for
//     one the device sent nothing for; write_composite answers no content)
//   cancel_observe, cancel_observe_composite:
//                   {"code":"CANCELLED","observeTicket":..,"coapCode":"2.05"|null[,"warning":..]}
//   sec_info:       {"code":"CREATED"|"CONTENT"|"DELETED"[,"secInfo":{"ep","identity"}]}
// Codes are named as Leshan names them (lwm2m/coap_code.h); node JSON is
// node_json.h's.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/content_format.h"
#include "lwm2m/link_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"
#include "store/security_info.h"

namespace fogm2m::bus {

// ---- Writing ----------------------------------------------------------------

// What a device answered to one request, as the reply's "rep".
struct DeviceResponse {
  uint8_t code = 0;                                    // the device's CoAP response code
  std::string error_message;                           // an error code's diagnostic payload
  std::string location;                                // create: where the new instance is
  std::optional<std::vector<lwm2m::Link>> links;       // discover
  std::optional<lwm2m::ContentFormat> content_format;  // with `content`
  std::optional<lwm2m::Node> content;                  // read, observe, notification
  std::optional<bool> observe;                         // observe: the device keeps the observation
  std::string token_hex;                               // observe: the observation's CoAP token
};

// What a device answered to a composite request, as the reply's "rep".
struct PathContent {
  lwm2m::Path path;
  std::optional<lwm2m::Node> node;  // nullopt: the device sent nothing for `path`
};
struct CompositeResponse {
  uint8_t code = 0;                                    // the device's CoAP response code
  std::string error_message;                           // an error code's diagnostic payload
  std::optional<lwm2m::ContentFormat> content_format;  // with `content`
  std::optional<std::vector<PathContent>> content;     // read, observe, notification
  std::optional<bool> observe;                         // observe: the device keeps the observation
  std::string token_hex;                               // observe: the observation's CoAP token
};

// Where a notification comes from: its "ep" and "path".
struct NotificationSource {
  std::string_view endpoint;
  const lwm2m::Path& path;
};

std::string format_ack(std::string_view ticket);
std::string format_err(std::string_view ticket, std::string_view message);
std::string format_rep(std::string_view ticket, const DeviceResponse& response);
// A notification: format_rep's shape with "notification":true, "ep" and
// "path" at the end. The node's hot path: written straight to text.
std::string format_notification(std::string_view ticket, const DeviceResponse& response,
                                const NotificationSource& source);
// A composite kind's answer, and a notification of a composite observation
// (these and composite_response_from_json() live in bus/composite.cc)
// ("notification":true, "ep" and the observed "paths" at the end).
struct CompositeSource {
  std::string_view endpoint;
  std::span<const lwm2m::Path> paths;
};
std::string format_composite_rep(std::string_view ticket, const CompositeResponse& response);
std::string format_composite_notification(std::string_view ticket,
                                          const CompositeResponse& response,
                                          const CompositeSource& source);
// The answer to cancel_observe: the device's code, or none (nullopt) when it
// did not answer; `warning` says why then.
std::string format_cancelled(std::string_view ticket, std::string_view observe_ticket,
                             std::optional<uint8_t> coap_code, std::string_view warning);
// The answer to sec_info: "CREATED", "CONTENT" or "DELETED", with the entry
// (never its key) for the first two.
std::string format_sec_info(std::string_view ticket, std::string_view code,
                            const store::SecurityInfo* info);

// ---- Reading ----------------------------------------------------------------

enum class ReplyType { kAck, kRep, kErr };

// A reply read whole: its ticket, type and, for rep and err, the object.
struct Reply {
  std::string ticket;
  ReplyType type = ReplyType::kAck;
  boost::json::object body;  // the rep or err object; empty for an ack
};
// kMalformed unless the message is an object with a string "ticket" and one
// of "ack" (a boolean), "rep" or "err" (objects).
Result<Reply> parse_reply(std::string_view message);

// What routing a reply needs: its ticket and type, read without building the
// document. Reading stops as soon as both are known; the node writes them
// first, so of a 300-byte notification this reads about 40 bytes. The rest
// of the message is not checked.
struct ReplyHead {
  std::string ticket;
  ReplyType type = ReplyType::kAck;
};
Result<ReplyHead> parse_reply_head(std::string_view message);

// A device's answer read back from a "rep" object; the content is decoded
// for `path` (the request's) with `models`. kMalformed names the field at
// fault.
Result<DeviceResponse> device_response_from_json(const boost::json::object& rep,
                                                 const lwm2m::Path& path,
                                                 const lwm2m::ModelRegistry& models);

// A composite answer read back from a "rep" object; each path of "content"
// is decoded with `models`. kMalformed names the field at fault.
Result<CompositeResponse> composite_response_from_json(const boost::json::object& rep,
                                                       const lwm2m::ModelRegistry& models);

}  // namespace fogm2m::bus
