// What an emulated device counts of its own work (a fleet sums them).
#pragma once

#include <cstdint>

namespace fogm2m::emulated {

struct DeviceCounters {
  uint32_t requests_answered = 0;   // every handle_request call
  uint32_t error_responses = 0;     // of those, answered with 4.xx/5.xx
  uint32_t notifications_sent = 0;  // notifications returned by tick
  uint32_t registrations = 0;       // Register answered 2.01
  uint32_t updates = 0;             // Update answered 2.04
  uint32_t deregistrations = 0;     // De-register answered (any code) or timed out
  uint32_t errors = 0;          // failed or timed-out registration requests, cancelled observations
  uint32_t sends = 0;           // Send (POST /dp) answered 2.04
  uint32_t send_errors = 0;     // Send answered otherwise, or timed out
  uint32_t dropped_asleep = 0;  // requests dropped unanswered in queue mode's sleep
};

}  // namespace fogm2m::emulated
