#include "bus/device_event.h"

#include <boost/json.hpp>

#include "bus/json_text.h"
#include "bus/node_json.h"

namespace fogm2m::bus {

namespace json = boost::json;

namespace {

Error malformed_event(const std::string& why) {
  return make_error(ErrorKind::kMalformed, "device event: " + why);
}

// {"kind":"<kind>","ep":"<ep>","ts":<ms>  (no closing brace)
void open_event(std::string& out, DeviceEventKind kind, std::string_view endpoint,
                int64_t time_ms) {
  out += "{\"kind\":\"";
  out += to_string(kind);
  out += "\",\"ep\":";
  append_json_string(out, endpoint);
  out += ",\"ts\":";
  append_json_number(out, time_ms);
}

}  // namespace

const char* to_string(DeviceEventKind kind) {
  switch (kind) {
    case DeviceEventKind::kSend:
      return "send";
    case DeviceEventKind::kSleeping:
      return "sleeping";
    case DeviceEventKind::kAwake:
      break;
  }
  return "awake";
}

std::string format_send_event(std::string_view endpoint, int64_t time_ms,
                              lwm2m::ContentFormat format, std::span<const lwm2m::PathNode> nodes) {
  std::string out;
  out.reserve(128 + endpoint.size() + 64 * nodes.size());
  open_event(out, DeviceEventKind::kSend, endpoint, time_ms);
  out += ",\"contentFormat\":";
  append_json_string(out, lwm2m::to_name(format));
  out += ",\"content\":{";
  bool first = true;
  for (const lwm2m::PathNode& pn : nodes) {
    if (!first) out += ',';
    first = false;
    out += '"';
    pn.path.append_to(out);  // digits and slashes: nothing to escape
    out += "\":";
    append_node_json(out, pn.node);
  }
  out += "}}";
  return out;
}

std::string format_presence_event(DeviceEventKind kind, std::string_view endpoint,
                                  int64_t time_ms) {
  std::string out;
  out.reserve(48 + endpoint.size());
  open_event(out, kind, endpoint, time_ms);
  out += '}';
  return out;
}

Result<DeviceEvent> parse_device_event(std::string_view message,
                                       const lwm2m::ModelRegistry& models) {
  boost::system::error_code ec;
  const json::value v = json::parse(message, ec);
  if (ec) return malformed_event("invalid JSON: " + ec.message());
  const json::object* o = v.if_object();
  if (o == nullptr) return malformed_event("not a JSON object");
  DeviceEvent event;
  const json::value* kind = o->if_contains("kind");
  if (kind == nullptr || !kind->is_string()) return malformed_event("\"kind\" must be a string");
  if (kind->get_string() == "send")
    event.kind = DeviceEventKind::kSend;
  else if (kind->get_string() == "sleeping")
    event.kind = DeviceEventKind::kSleeping;
  else if (kind->get_string() == "awake")
    event.kind = DeviceEventKind::kAwake;
  else
    return malformed_event("unknown kind \"" + std::string(kind->get_string()) + "\"");
  const json::value* ep = o->if_contains("ep");
  if (ep == nullptr || !ep->is_string() || ep->get_string().empty())
    return malformed_event("\"ep\" must be a non-empty string");
  event.endpoint = std::string(ep->get_string());
  const json::value* ts = o->if_contains("ts");
  if (ts == nullptr || !ts->is_int64())
    return malformed_event("\"ts\" must be an integer (Unix ms)");
  event.time_ms = ts->get_int64();
  if (event.kind != DeviceEventKind::kSend) return event;

  const json::value* cf = o->if_contains("contentFormat");
  if (cf == nullptr || !cf->is_string())
    return malformed_event("\"contentFormat\" must be a string");
  const auto format = lwm2m::parse_content_format(cf->get_string());
  if (!format) return malformed_event("\"contentFormat\" names no content format");
  event.content_format = *format;
  const json::value* content = o->if_contains("content");
  if (content == nullptr || !content->is_object())
    return malformed_event("\"content\" must be an object of path -> node");
  for (const auto& kv : content->get_object()) {
    auto path = lwm2m::Path::parse(kv.key());
    if (!path || path->depth() < 3)
      return malformed_event("content key \"" + std::string(kv.key()) +
                             "\" is not a resource or resource instance path");
    auto node = node_from_json(kv.value(), *path, models);
    if (!node) return malformed_event("content " + path->to_string() + ": " + node.error().message);
    event.content.push_back(lwm2m::PathNode{*path, std::move(*node)});
  }
  return event;
}

}  // namespace fogm2m::bus
