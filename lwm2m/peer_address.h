// Where a device's datagrams come from: the address and port a server sees
// (after the load balancer, which preserves them). The transports name their
// peers with it and the registration record keeps it.
#pragma once

#include <cstdint>
#include <string>

namespace fogm2m::lwm2m {

struct PeerAddress {
  std::string address;  // "10.1.0.7" or "::1"
  uint16_t port = 0;
  std::string to_string() const;  // "10.1.0.7:40112", "[::1]:40112"
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

}  // namespace fogm2m::lwm2m
