// CFS bandwidth control of a FIFO server, booked job by job (see cfs_server.h).
#include "sim/cfs_server.h"

#include <algorithm>

namespace fogm2m::sim {

CfsServer::CfsServer(SimTime quota, SimTime period)
    : quota_(period > 0 ? quota : 0), period_(period > 0 ? period : 1) {}

void CfsServer::set_window(SimTime start, SimTime end) {
  window_start_ = start;
  window_end_ = end;
}

bool CfsServer::period_in_window(int64_t k) const {
  const SimTime end = (k + 1) * period_;  // the expiry that counts period k
  return end > window_start_ && end <= window_end_;
}

void CfsServer::count_period(int64_t k) {
  if (k <= last_counted_period_) return;
  last_counted_period_ = k;
  if (period_in_window(k)) ++counters_.nr_periods;
}

void CfsServer::note_runnable(int64_t k) {
  if (k <= last_runnable_period_) return;
  // The timer of an earlier busy stretch expired once more after it (the
  // trailing idle period), unless this period is that one.
  if (last_runnable_period_ != INT64_MIN) count_period(last_runnable_period_ + 1);
  last_runnable_period_ = k;
  count_period(k);
}

void CfsServer::run(SimTime from, SimTime to) {
  const SimTime a = std::max(from, window_start_), b = std::min(to, window_end_);
  if (b > a) counters_.cpu_time += b - a;
}

void CfsServer::throttle(int64_t k, SimTime from, SimTime to) {
  if (k != last_throttled_period_) {
    last_throttled_period_ = k;
    if (period_in_window(k)) ++counters_.nr_throttled;
  }
  const SimTime a = std::max(from, window_start_), b = std::min(to, window_end_);
  if (b > a) counters_.throttled_time += b - a;
}

SimTime CfsServer::submit(SimTime arrival, SimTime work) {
  if (arrival >= free_at_) {  // idle: the process is woken for this job
    work += wakeup_work_;
    if (arrival >= window_start_ && arrival < window_end_) ++counters_.wakeups;
  }
  SimTime t = std::max(arrival, free_at_);
  last_start_ = t;
  if (quota_ == 0) {
    run(t, t + work);
    free_at_ = t + work;
    return free_at_;
  }
  SimTime remaining = work;
  for (;;) {
    const int64_t k = t / period_;
    if (k != current_period_) {
      current_period_ = k;
      used_ = 0;
    }
    note_runnable(k);
    const SimTime period_end = (k + 1) * period_;
    if (remaining == 0) break;
    if (used_ >= quota_) {  // quota gone, work left: throttled to the boundary
      throttle(k, t, period_end);
      t = period_end;
      continue;
    }
    if (remaining == work) last_start_ = t;  // first slice
    const SimTime slice = std::min({remaining, quota_ - used_, period_end - t});
    run(t, t + slice);
    used_ += slice;
    remaining -= slice;
    t += slice;
    if (remaining == 0) break;
  }
  free_at_ = t;
  return t;
}

}  // namespace fogm2m::sim
