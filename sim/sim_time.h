// Simulated time: integer nanoseconds since the start of a simulation run.
// Integers keep event order exact and runs reproducible bit for bit (no
// floating-point drift when a period is added a billion times).
#pragma once

#include <cmath>
#include <cstdint>

namespace fogm2m::sim {

using SimTime = int64_t;  // nanoseconds

constexpr SimTime kNanosecond = 1;
constexpr SimTime kMicrosecond = 1000;
constexpr SimTime kMillisecond = 1000 * kMicrosecond;
constexpr SimTime kSecond = 1000 * kMillisecond;
constexpr SimTime kNever = INT64_MAX;

// Seconds (as written in parameter files) to the nearest nanosecond.
inline SimTime from_seconds(double seconds) {
  return static_cast<SimTime>(std::llround(seconds * 1e9));
}
inline double to_seconds(SimTime t) {
  return static_cast<double>(t) / 1e9;
}  // correctly rounded

}  // namespace fogm2m::sim
