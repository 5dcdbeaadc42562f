// The L4 load balancer's choice of node for a device, and the address a
// simulated device sends from.
//
// The real balancer (nftables DNAT with `jhash ip saddr . udp sport mod N`)
// sends every datagram of one source ip:port to one node. Its jhash (Bob
// Jenkins' lookup3 with a random per-ruleset seed) is not reproduced here:
// the simulator uses a deterministic 64-bit mix of (ip, port) modulo N
// instead. Both are uniform hashes of the same key, so the spread of devices
// over nodes has the same statistics; which device lands on which node
// differs.
#pragma once

#include <cstdint>

namespace fogm2m::sim {

struct DeviceAddress {
  uint32_t ip = 0;    // IPv4, host order
  uint16_t port = 0;  // UDP source port
};

// Device `device` of a fleet split over `fleets` fleet namespaces (device d
// in fleet d mod fleets): fleet f has addresses 10.88.f.x, each carrying up
// to 50,000 devices on source ports 10000..59999.
DeviceAddress device_address(uint32_t device, uint32_t fleets);

// The node (0..nodes-1) that traffic from `address` goes to. nodes > 0.
uint32_t pick_node(const DeviceAddress& address, uint32_t nodes);

}  // namespace fogm2m::sim
