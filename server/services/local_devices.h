// The devices this node talks to, in memory: registration and the CoAP peer
// to reach them. Answers "is this endpoint mine?" without a Redis round trip
// and finds a registration by endpoint, regId or peer address in O(1).
#pragma once

#include <string>
#include <unordered_map>

#include "server/transport/coap_transport.h"
#include "store/registration.h"

namespace fogm2m::server {

struct LocalDevice {
  store::Registration registration;
  PeerInfo peer;
};

class LocalDevices {
 public:
  // Adds or replaces the device of registration.endpoint.
  void put(LocalDevice device);
  // Removes the device of `endpoint`; false when it was not here.
  bool erase(const std::string& endpoint);

  const LocalDevice* by_endpoint(const std::string& endpoint) const;
  const LocalDevice* by_reg_id(const std::string& reg_id) const;
  const LocalDevice* by_peer(const lwm2m::PeerAddress& peer) const;
  size_t size() const { return devices_.size(); }

  template <class F>
  void for_each(F f) const {
    for (const auto& [_, d] : devices_) f(d);
  }

 private:
  std::unordered_map<std::string, LocalDevice> devices_;  // by endpoint
  std::unordered_map<std::string, std::string> endpoint_by_reg_id_;
  std::unordered_map<std::string, std::string> endpoint_by_peer_;  // "ip:port"
};

}  // namespace fogm2m::server
