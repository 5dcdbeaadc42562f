// Requests on the bus (channel Channels::requests, LWM2M_REQ), in the
// reference study's shape:
//   {"ep":"dev-1","ticket":"<uuid>","req":{"kind":"read","path":"/3313/0/5702",
//    "contentFormat":"TLV"}}
// Kinds (Leshan's camelCase spellings accepted too): read, discover, write
// (+"mode":"replace"|"update", "node":{...} or "value"), execute
// (+"parameters"), create (+"node":{instance}), delete, observe,
// cancel_observe (+"observeTicket"), write_attributes (+"attributes":
// {"pmin":..,"pmax":..,"gt":..,"lt":..,"st":..}), sec_info (+"action":
// "add"|"get"|"delete", "identity", "key" in hex).
//
// Composite kinds (LwM2M 1.1 TS-Core 6.3.x, 6.4.x; no "path"; contentFormat
// SENML_JSON, the default, or SENML_CBOR):
//   read_composite / readComposite, observe_composite / observeComposite
//     +"paths":["/3/0/9","/3313/0"]
//   write_composite / writeComposite
//     +"nodes":{"/3/0/15":{"id":15,"value":"UTC"},...}  (path -> node JSON)
//     or the shorthand "values":{"/3/0/15":"UTC",...}  (resource paths)
//   cancel_observe_composite / cancelCompositeObservation
//     +"observeTicket" and/or "paths" (the observation with exactly those)
//
// Any request may say how long its requester waits for the answer, in ms,
// beside "ticket": {"ep":..,"ticket":..,"timeout":30000,"req":{..}}. A node
// uses it only to bound how long the request waits for a sleeping
// queue-mode device (server/services/presence.h).
//
// A ticket names one request. A requester may publish the same request
// again under the same ticket (after a bus loss, bus/loss_resender.h): the
// owner serves it once, acking a repeat of a request still under way and
// answering a repeat of an answered one with the same reply
// (server/services/served_requests.h).
//
// The answers to a request are in reply.h.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lwm2m/content_format.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::bus {

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
  kReadComposite,
  kWriteComposite,
  kObserveComposite,
  kCancelObserveComposite,
};
inline constexpr RequestKind kAllRequestKinds[] = {
    RequestKind::kRead,
    RequestKind::kDiscover,
    RequestKind::kWrite,
    RequestKind::kExecute,
    RequestKind::kCreate,
    RequestKind::kDelete,
    RequestKind::kObserve,
    RequestKind::kCancelObserve,
    RequestKind::kWriteAttributes,
    RequestKind::kSecInfo,
    RequestKind::kReadComposite,
    RequestKind::kWriteComposite,
    RequestKind::kObserveComposite,
    RequestKind::kCancelObserveComposite,
};

// True for the four composite kinds (they carry paths, not a path).
constexpr bool is_composite(RequestKind kind) {
  return kind == RequestKind::kReadComposite || kind == RequestKind::kWriteComposite ||
         kind == RequestKind::kObserveComposite || kind == RequestKind::kCancelObserveComposite;
}

const char* to_string(RequestKind kind);  // the thesis' spelling: "read", "cancel_observe", ...
// Either spelling ("cancel_observe" or Leshan's "cancelObservation"); nullopt
// for an unknown kind.
std::optional<RequestKind> parse_request_kind(std::string_view name);

// LwM2M <NOTIFICATION> attributes of Write-Attributes.
struct NotificationAttributes {
  std::optional<int64_t> pmin, pmax;
  std::optional<double> gt, lt, st;  // finite
  // "pmin=10&pmax=60&gt=3.5" as CoAP Uri-Query options, in this order.
  std::vector<std::string> to_queries() const;
  bool empty() const { return !pmin && !pmax && !gt && !lt && !st; }
};

enum class SecInfoAction { kAdd, kGet, kDelete };

struct Request {
  std::string endpoint;
  std::string ticket;
  std::optional<int64_t> timeout_ms;  // "timeout": how long the requester waits, ms (> 0)
  RequestKind kind = RequestKind::kRead;
  lwm2m::Path path;  // the root for the composite kinds
  std::optional<lwm2m::ContentFormat> content_format;
  // write / create
  bool replace = true;                     // write mode "replace" (PUT) or "update" (POST)
  std::optional<boost::json::value> node;  // node JSON (node_json.h), decoded with the models;
                                           // write_composite: an object of path -> node JSON
  // read_composite, observe_composite, cancel_observe_composite: the paths,
  // each once, none the root
  std::vector<lwm2m::Path> paths{};
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
// holds the error (kMalformed, naming the field at fault) and `ticket` and
// `endpoint` whatever could still be read, so the error can be answered.
struct ParsedRequest {
  std::optional<std::string> ticket;
  std::optional<std::string> endpoint;
  Result<Request> request;
};

ParsedRequest parse_request(std::string_view message);
// The message for `request`; parse_request() reads it back equal.
std::string format_request(const Request& request);

// The request's "nodes" of a write_composite as (path, node JSON) pairs, in
// order; empty when `node` is not such an object.
std::vector<std::pair<lwm2m::Path, const boost::json::value*>> composite_nodes(
    const Request& request);

namespace detail {
// The composite kinds' "req" members after "kind", read and written
// (bus/composite.cc); parse_request() and format_request() use them.
Result<Request> parse_composite(const boost::json::object& req, Request r);
boost::json::object format_composite(const Request& r);
}  // namespace detail

// The node JSON of a single resource value, as the "value" shorthand of a
// write request gives it: {"id":<resource id of path>,"value":...}.
boost::json::value single_value_node(const lwm2m::Path& path, boost::json::value value);

}  // namespace fogm2m::bus
