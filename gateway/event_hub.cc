#include "gateway/event_hub.h"

#include <boost/json.hpp>
#include <vector>

#include "gateway/leshan_json.h"

namespace fogm2m::gateway {

namespace json = boost::json;

GatewayEvent registration_event(bus::RegistrationEventKind kind, const store::Registration& reg) {
  switch (kind) {
    case bus::RegistrationEventKind::kNew:
      return {"REGISTRATION", reg.endpoint, json::serialize(registration_json(reg))};
    case bus::RegistrationEventKind::kDelete:
      return {"DEREGISTRATION", reg.endpoint, json::serialize(registration_json(reg))};
    case bus::RegistrationEventKind::kUpdate:
      break;
  }
  json::object update{{"registrationId", reg.reg_id},
                      {"address", reg.peer.to_string()},
                      {"lifetime", reg.lifetime_s},
                      {"bindingMode", reg.binding},
                      {"objectLinks", links_json(reg.object_links)}};
  json::object data{{"registration", registration_json(reg)}, {"update", std::move(update)}};
  return {"UPDATED", reg.endpoint, json::serialize(data)};
}

namespace {

// The NOTIFICATION of a composite observation (its rep has "paths").
std::optional<GatewayEvent> composite_notification_event(const BusReply& notification,
                                                         const json::string& ep,
                                                         const json::array& paths,
                                                         const lwm2m::ModelRegistry& models) {
  auto response = bus::composite_response_from_json(notification.body, models);
  if (!response || !response->content) return std::nullopt;
  json::object data{{"ep", ep},
                    {"kind", "composite"},
                    {"val", composite_content_json(*response->content)},
                    {"paths", paths}};
  return GatewayEvent{"NOTIFICATION", std::string(ep), json::serialize(data)};
}

}  // namespace

std::optional<GatewayEvent> notification_event(const BusReply& notification,
                                               const lwm2m::ModelRegistry& models) {
  if (const json::value* paths = notification.body.if_contains("paths")) {
    const json::value* ep = notification.body.if_contains("ep");
    if (!ep || !ep->is_string() || !paths->is_array()) return std::nullopt;
    return composite_notification_event(notification, ep->get_string(), paths->get_array(), models);
  }
  const json::value* ep = notification.body.if_contains("ep");
  const json::value* path_text = notification.body.if_contains("path");
  if (!ep || !ep->is_string() || !path_text || !path_text->is_string()) return std::nullopt;
  auto path = lwm2m::Path::parse(path_text->get_string());
  if (!path) return std::nullopt;
  auto response = bus::device_response_from_json(notification.body, *path, models);
  if (!response || !response->content) return std::nullopt;
  json::object data{{"ep", ep->get_string()},
                    {"kind", "single"},
                    {"res", path_text->get_string()},
                    {"val", node_json(*response->content)}};
  return GatewayEvent{"NOTIFICATION", std::string(ep->get_string()), json::serialize(data)};
}

std::optional<GatewayEvent> device_event(std::string_view message,
                                         const lwm2m::ModelRegistry& models) {
  auto event = bus::parse_device_event(message, models);
  if (!event) return std::nullopt;
  switch (event->kind) {
    case bus::DeviceEventKind::kSleeping:
      return GatewayEvent{"SLEEPING", event->endpoint,
                          json::serialize(json::object{{"ep", event->endpoint}})};
    case bus::DeviceEventKind::kAwake:
      return GatewayEvent{"AWAKE", event->endpoint,
                          json::serialize(json::object{{"ep", event->endpoint}})};
    case bus::DeviceEventKind::kSend:
      break;
  }
  json::object val;
  for (const lwm2m::PathNode& pn : event->content) val[pn.path.to_string()] = node_json(pn.node);
  return GatewayEvent{
      "SEND", event->endpoint,
      json::serialize(json::object{{"ep", event->endpoint}, {"val", std::move(val)}})};
}

uint64_t EventHub::subscribe(Listener listener, std::string endpoint) {
  const uint64_t id = ++next_id_;
  auto shared = std::make_shared<const Listener>(std::move(listener));
  if (endpoint.empty()) {
    everything_.emplace(id, std::move(shared));
  } else {
    by_endpoint_[endpoint].emplace(id, std::move(shared));
  }
  by_id_.emplace(id, std::move(endpoint));
  return id;
}

void EventHub::unsubscribe(uint64_t id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  if (it->second.empty()) {
    everything_.erase(id);
  } else if (auto e = by_endpoint_.find(it->second); e != by_endpoint_.end()) {
    e->second.erase(id);
    if (e->second.empty()) by_endpoint_.erase(e);
  }
  by_id_.erase(it);
}

void EventHub::publish(const GatewayEvent& event) {
  // Copies of the listeners: one may unsubscribe (itself or another) while
  // the event goes out; an unsubscribed one is skipped.
  std::vector<std::pair<uint64_t, Shared>> targets(everything_.begin(), everything_.end());
  if (auto e = by_endpoint_.find(event.endpoint); e != by_endpoint_.end())
    targets.insert(targets.end(), e->second.begin(), e->second.end());
  for (const auto& [id, listener] : targets)
    if (by_id_.count(id)) (*listener)(event);
}

}  // namespace fogm2m::gateway
