// Messages of the Redis pub/sub bus, in the reference study's shapes.
//
// Requests on LWM2M_REQ:
//   {"ep":"dev-1","ticket":"<uuid>","req":{"kind":"read","path":"/3313/0/5702",
//    "contentFormat":"TLV"}}
// Kinds (Leshan's camelCase spellings accepted too): read, discover, write
// (+"mode":"replace"|"update", "node":{...} or "value"), execute
// (+"parameters"), create (+"node":{instance}), delete, observe,
// cancel_observe, write_attributes (+"attributes":{"pmin":..,"pmax":..,
// "gt":..,"lt":..,"st":..}), sec_info (+"action":"add"|"get"|"delete",
// "identity", "key" in hex).
//
// Replies on LWM2M_RESP, in order: {"ticket","ack":true}, then
// {"ticket","rep":{...}} or {"ticket","err":{"errorMessage":"..."}}.
// Notifications: {"ticket":<observe ticket>,"rep":{...,"notification":true}}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "lwm2m/content_format.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::server {

enum class RequestKind {
  kRead,
  kDiscover,
  kWrite,
  kExecute,
  kCreate,
  kDelete,
  kObserve,
  kCancelObserve,
  kWriteAttributes,
  kSecInfo,
};

const char* to_string(RequestKind kind);  // the thesis' spelling: "read", "cancel_observe", ...

// LwM2M <NOTIFICATION> attributes of Write-Attributes.
struct NotificationAttributes {
  std::optional<int64_t> pmin, pmax;
  std::optional<double> gt, lt, st;
  // "pmin=10&pmax=60&gt=3.5" as CoAP Uri-Query options, in this order.
  std::vector<std::string> to_queries() const;
  bool empty() const { return !pmin && !pmax && !gt && !lt && !st; }
};

enum class SecInfoAction { kAdd, kGet, kDelete };

struct BusRequest {
  std::string endpoint;
  std::string ticket;
  RequestKind kind = RequestKind::kRead;
  lwm2m::Path path;
  std::optional<lwm2m::ContentFormat> content_format;
  // write / create
  bool replace = true;                     // write mode "replace" (PUT) or "update" (POST)
  std::optional<boost::json::value> node;  // node JSON (server/node_json.h), decoded with the models
  // execute
  std::string parameters;
  // write_attributes
  NotificationAttributes attributes;
  // cancel_observe: the ticket of the observe to cancel (optional; else by path)
  std::string observe_ticket;
  // sec_info
  SecInfoAction sec_action = SecInfoAction::kGet;
  std::string identity;
  std::string key_hex;
};

// A request read off the bus. When the message is malformed, `request`
// holds the error and `ticket` whatever ticket could still be read, so the
// error can be answered.
struct ParsedRequest {
  std::optional<std::string> ticket;
  std::optional<std::string> endpoint;
  Result<BusRequest> request;
};

ParsedRequest parse_bus_request(std::string_view message);
std::string format_bus_request(const BusRequest& request);

// Replies.
std::string format_ack(std::string_view ticket);
// `rep` is the reply object: code, content, ...
std::string format_rep(std::string_view ticket, boost::json::object rep);
std::string format_err(std::string_view ticket, std::string_view message);
// A 2.05 Content notification of observation `ticket`: the same bytes as
// format_rep with the reply {"code":"CONTENT","coapCode":"2.05",
// "contentFormat":<format_name>,"content":<node JSON>,"notification":true,
// "ep":<endpoint>,"path":<path>}, written without building that object.
std::string format_content_notification(std::string_view ticket, std::string_view format_name,
                                        const lwm2m::Node& content, std::string_view endpoint,
                                        const lwm2m::Path& path);

// A reply read back (load generator, tests).
struct BusReply {
  std::string ticket;
  enum class Type { kAck, kRep, kErr } type = Type::kAck;
  boost::json::object body;  // rep or err object
};
Result<BusReply> parse_bus_reply(std::string_view message);

}  // namespace fogm2m::server
