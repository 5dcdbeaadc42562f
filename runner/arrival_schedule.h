// When an open-loop load sends its requests: the n-th send time as an offset
// from the load's start, from the arrival process alone (never from how
// fast anything answers), so a slow system cannot slow the load down.
//
//   constant: offsets 0, 1/rate, 2/rate, ... (computed as n/rate, so no
//             rounding error accumulates over a long window);
//   poisson:  the first offset and every gap are exponential with mean
//             1/rate, drawn from a generator seeded with `seed` (the same
//             seed gives the same times on the same standard library).
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

#include "schema/scenario.pb.h"

namespace fogm2m::runner {

class ArrivalSchedule {
 public:
  // `rate` > 0 requests per second.
  ArrivalSchedule(schema::Arrival arrival, double rate, uint64_t seed);

  // The next send time (offset from the start); non-decreasing.
  std::chrono::nanoseconds next();

 private:
  schema::Arrival arrival_;
  double rate_;
  uint64_t count_ = 0;
  double poisson_s_ = 0;
  std::mt19937_64 random_;
  std::exponential_distribution<double> gap_;
};

}  // namespace fogm2m::runner
