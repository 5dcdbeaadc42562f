// Send times of constant and Poisson arrivals.
#include "runner/arrival_schedule.h"

namespace fogm2m::runner {

ArrivalSchedule::ArrivalSchedule(schema::Arrival arrival, double rate, uint64_t seed)
    : arrival_(arrival), rate_(rate), random_(seed), gap_(rate) {}

std::chrono::nanoseconds ArrivalSchedule::next() {
  double seconds = 0;
  if (arrival_ == schema::ARRIVAL_POISSON) {
    poisson_s_ += gap_(random_);
    seconds = poisson_s_;
  } else {
    seconds = static_cast<double>(count_) / rate_;
  }
  ++count_;
  return std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9));
}

}  // namespace fogm2m::runner
