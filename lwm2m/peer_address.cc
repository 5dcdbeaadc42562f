#include "lwm2m/peer_address.h"

namespace fogm2m::lwm2m {

std::string PeerAddress::to_string() const {
  if (address.find(':') != std::string::npos) return "[" + address + "]:" + std::to_string(port);
  return address + ":" + std::to_string(port);
}

}  // namespace fogm2m::lwm2m
