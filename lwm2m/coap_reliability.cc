#include "lwm2m/coap_reliability.h"

#include <algorithm>

namespace fogm2m::lwm2m {

CoapClock::duration CoapTransmission::initial_timeout(double unit) const {
  const double factor = 1.0 + std::clamp(unit, 0.0, 1.0) * std::max(0.0, ack_random_factor - 1.0);
  return std::chrono::duration_cast<CoapClock::duration>(
      std::chrono::duration<double, std::milli>(static_cast<double>(ack_timeout.count()) * factor));
}

std::array<uint8_t, 4> empty_coap_message(CoapType type, uint16_t mid) {
  return {static_cast<uint8_t>(0x40 | static_cast<uint8_t>(type) << 4), 0,
          static_cast<uint8_t>(mid >> 8), static_cast<uint8_t>(mid & 0xff)};
}

std::optional<uint16_t> rejectable_con_id(std::span<const uint8_t> datagram) {
  if (datagram.size() < 4) return std::nullopt;
  const bool version_1 = (datagram[0] >> 6) == 1;
  const bool con = ((datagram[0] >> 4) & 3) == static_cast<uint8_t>(CoapType::kCon);
  if (!version_1 || !con) return std::nullopt;
  return static_cast<uint16_t>(datagram[2] << 8 | datagram[3]);
}

}  // namespace fogm2m::lwm2m
