// The gateway's live events, in the Leshan demo server's names and shapes
// (LESHAN-API.md, "Events"): REGISTRATION, UPDATED, DEREGISTRATION,
// NOTIFICATION, SEND, SLEEPING and AWAKE, each made once and handed to every listener (the
// Server-Sent Events streams and the STOMP sessions).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "bus/registration_event.h"
#include "gateway/bus_client.h"
#include "lwm2m/model.h"
#include "store/registration.h"

namespace fogm2m::gateway {

struct GatewayEvent {
  std::string name;      // "REGISTRATION", "UPDATED", "DEREGISTRATION", "NOTIFICATION", "SEND", ...
  std::string endpoint;  // whose event it is
  std::string data;      // JSON text
};

// REGISTRATION / DEREGISTRATION: the registration JSON; UPDATED:
// {"registration":{..},"update":{"registrationId","address","lifetime","bindingMode","objectLinks"}}.
GatewayEvent registration_event(bus::RegistrationEventKind kind, const store::Registration& reg);
// NOTIFICATION {"ep","kind":"single","res":"/3313/0/5702","val":<node>}, or
// of a composite observation {"ep","kind":"composite","val":{path:<node>|null},
// "paths":[...]}; nullopt when the bus message is not a readable
// notification.
std::optional<GatewayEvent> notification_event(const BusReply& notification,
                                               const lwm2m::ModelRegistry& models);

// Of a device event (bus/device_event.h): SEND {"ep","val":{path:<node>}}
// (Leshan's most recent nodes of a Send), SLEEPING and AWAKE {"ep"};
// nullopt when the bus message is not a readable device event.
std::optional<GatewayEvent> device_event(std::string_view message,
                                         const lwm2m::ModelRegistry& models);

class EventHub {
 public:
  using Listener = std::function<void(const GatewayEvent&)>;

  // `endpoint` empty: every event; else only that endpoint's (an index, so
  // ten thousand one-device listeners cost one lookup per event, not ten
  // thousand).
  uint64_t subscribe(Listener listener, std::string endpoint = {});
  void unsubscribe(uint64_t id);
  void publish(const GatewayEvent& event);
  bool has_listeners() const { return !by_id_.empty(); }
  size_t listeners() const { return by_id_.size(); }

 private:
  using Shared = std::shared_ptr<const Listener>;
  uint64_t next_id_ = 0;
  std::map<uint64_t, std::string> by_id_;  // -> its endpoint filter
  std::map<uint64_t, Shared> everything_;
  std::unordered_map<std::string, std::map<uint64_t, Shared>> by_endpoint_;
};

}  // namespace fogm2m::gateway
