// Deterministic source-hash load balancing (see load_balancer.h).
#include "sim/load_balancer.h"

#include "sim/random_stream.h"

namespace fogm2m::sim {

namespace {
constexpr uint32_t kDevicesPerAddress = 50000;
constexpr uint32_t kFirstPort = 10000;
constexpr uint64_t kHashSeed = 0x6c62'2d6e'6674'6a68ULL;  // any fixed value
}  // namespace

DeviceAddress device_address(uint32_t device, uint32_t fleets) {
  if (fleets == 0) fleets = 1;
  const uint32_t fleet = device % fleets;
  const uint32_t index = device / fleets;
  DeviceAddress a;
  a.ip =
      (10u << 24) | (88u << 16) | ((fleet & 0xff) << 8) | ((1 + index / kDevicesPerAddress) & 0xff);
  a.port = static_cast<uint16_t>(kFirstPort + index % kDevicesPerAddress);
  return a;
}

uint32_t pick_node(const DeviceAddress& address, uint32_t nodes) {
  const uint64_t key = (static_cast<uint64_t>(address.ip) << 16) | address.port;
  return static_cast<uint32_t>(mix64(kHashSeed, key) % nodes);
}

}  // namespace fogm2m::sim
