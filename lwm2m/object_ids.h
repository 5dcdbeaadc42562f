// The object ids fogm2m's code names by number: the OMA objects of LwM2M
// itself and the IPSO objects the emulated device carries.
#pragma once

#include <cstdint>

namespace fogm2m::lwm2m::object_id {

constexpr uint16_t kSecurity = 0;
constexpr uint16_t kServer = 1;
constexpr uint16_t kDevice = 3;
constexpr uint16_t kTemperature = 3303;
constexpr uint16_t kAccelerometer = 3313;

}  // namespace fogm2m::lwm2m::object_id
