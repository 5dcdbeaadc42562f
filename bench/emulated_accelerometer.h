// What the hot-path benchmarks carry: the IPSO 3313 instance an emulated
// device (emulated_clients/device_objects.h) reports — X, Y, Z, units and
// range as the fleet sends them — and its registration links, so a codec or
// the node is measured on the same bytes a real run moves.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "emulated_clients/device_objects.h"

namespace fogm2m::bench {

inline const emulated::DeviceObjects& emulated_accelerometer() {
  static const emulated::DeviceObjects objects(
      std::make_shared<emulated::DeviceConfig>(),
      emulated::DeviceIdentity{"urn:imei:356938035643809", 1, "", ""});
  return objects;
}

// /3313/0 of the emulated device.
inline const lwm2m::Node& accelerometer_instance() {
  static const lwm2m::Node node = [] {
    uint8_t code = 0;
    auto read = emulated_accelerometer().read_for_server(lwm2m::Path(3313, 0),
                                                         emulated::TimePoint{}, &code);
    if (!read) {
      std::fprintf(stderr, "emulated accelerometer: /3313/0 unreadable (code %u)\n", code);
      std::abort();
    }
    return *read;
  }();
  return node;
}

}  // namespace fogm2m::bench
