// The gateway's view of who is registered: every registration of the
// cluster, mirrored in memory from the store and kept current by the bus'
// registration events, so GET /api/clients and the unknown-client check of
// every request cost no Redis round trip.
//
// Reloaded whole at start and after every Redis reconnection (pub/sub keeps
// no history: events published while the gateway was cut off are lost).
// Events that arrive during a reload are applied again on top of it, so a
// reload never brings back a registration that ended meanwhile.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bus/registration_event.h"
#include "io/lifetime.h"
#include "lwm2m/result.h"
#include "store/registration.h"
#include "store/registration_store.h"

namespace fogm2m::gateway {

class RegistrationDirectory {
 public:
  explicit RegistrationDirectory(store::RegistrationStore& store) : store_(store) {}

  void reload(std::function<void(Status)> done);
  void apply(bus::RegistrationEventKind kind, const store::Registration& reg);

  const store::Registration* find(const std::string& endpoint) const;
  // The mirror may lag the store by an event in flight: a miss asks the
  // store before it says "unknown".
  void lookup(const std::string& endpoint, store::Done<std::optional<store::Registration>> done);

  const std::map<std::string, store::Registration>& all() const { return by_endpoint_; }
  size_t size() const { return by_endpoint_.size(); }

 private:
  struct Event {
    bus::RegistrationEventKind kind;
    store::Registration reg;
  };
  void apply_now(bus::RegistrationEventKind kind, const store::Registration& reg);

  store::RegistrationStore& store_;
  std::map<std::string, store::Registration> by_endpoint_;
  bool reloading_ = false;
  std::vector<Event> during_reload_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::gateway
