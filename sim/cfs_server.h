// A single-threaded FIFO server (one CPU) under Linux CFS bandwidth control,
// computed job by job instead of event by event.
//
// CFS bandwidth control lets a group run at most `quota` of CPU time per
// `period`; when the quota of the current period is used up while work
// remains, the group is throttled until the next period boundary. Periods
// are aligned to time 0. Jobs are booked in arrival order (arrivals never
// decrease, which event order guarantees): a job starts when it arrives or
// when the job before it completes, whichever is later, and consumes its
// work at rate 1 while quota remains. submit() returns its completion time,
// so a model needs one event per arrival and none for service.
//
// Counters follow the kernel's cpu.stat (kernel/sched/fair.c,
// do_sched_cfs_period_timer): the period timer is armed while the group
// runs, and every expiry at the end of a period increments nr_periods; it
// disarms at the first expiry that finds the period just ended idle and not
// throttled, which is still counted. So a period counts when the server was
// runnable in it or in the period before; nr_throttled counts periods that
// ended with the group throttled; throttled time is wall time spent
// throttled. Only periods ending inside the accounting window, and CPU and
// throttled time inside it, are counted (a cgroup delta over the window).
// With quota 0 the server is unlimited (a plain FIFO: Redis, M/M/1 tests).
//
// Wakeups: an event-loop process that finds nothing to do blocks (epoll_wait)
// and is woken by the next message; on a real host that costs CPU of its own
// (the context switch in and out, the syscalls of an empty round), paid once
// per busy stretch however many messages the stretch then handles. A job
// that arrives while the server is idle costs `wakeup_work` on top of its
// own work and counts as a wakeup; jobs that queue behind others (or behind
// a throttled period) ride on the running stretch. This is why a throttled
// server gets cheaper per message: its backlog is served in batches.
#pragma once

#include <cstdint>

#include "sim/sim_time.h"

namespace fogm2m::sim {

struct CfsCounters {
  uint64_t nr_periods = 0;
  uint64_t nr_throttled = 0;
  SimTime throttled_time = 0;
  SimTime cpu_time = 0;
  uint64_t wakeups = 0;  // jobs arriving in the window to an idle server
  double throttling_ratio() const {
    return nr_periods == 0 ? 0.0
                           : static_cast<double>(nr_throttled) / static_cast<double>(nr_periods);
  }
};

class CfsServer {
 public:
  // quota 0: unlimited. period must be > 0 when quota > 0.
  CfsServer(SimTime quota, SimTime period);

  // Counters cover [start, end) from now on (default: all time).
  void set_window(SimTime start, SimTime end);
  // CPU a job arriving at an idle server costs on top of its work (default 0).
  void set_wakeup_work(SimTime work) { wakeup_work_ = work; }

  // Books a job arriving at `arrival` (>= every earlier arrival) that needs
  // `work` of CPU. Returns when it completes.
  SimTime submit(SimTime arrival, SimTime work);

  // When the last booked job completes (the server is idle from then on).
  SimTime busy_until() const { return free_at_; }
  // When the last booked job started running (its wakeup included).
  SimTime last_start() const { return last_start_; }
  const CfsCounters& counters() const { return counters_; }
  SimTime quota() const { return quota_; }
  SimTime period() const { return period_; }

 private:
  void run(SimTime from, SimTime to);  // CPU busy in [from, to)
  void throttle(int64_t period_index, SimTime from, SimTime to);
  void note_runnable(int64_t period_index);  // period timer bookkeeping
  void count_period(int64_t period_index);   // an expiry at the end of it
  bool period_in_window(int64_t period_index) const;

  SimTime quota_;
  SimTime period_;
  SimTime window_start_ = INT64_MIN;
  SimTime window_end_ = INT64_MAX;
  SimTime wakeup_work_ = 0;

  SimTime free_at_ = INT64_MIN;
  SimTime last_start_ = INT64_MIN;
  int64_t current_period_ = INT64_MIN;  // period whose quota `used_` is
  SimTime used_ = 0;
  int64_t last_runnable_period_ = INT64_MIN;  // periods up to here (+1 trailing idle) are counted
  int64_t last_counted_period_ = INT64_MIN;
  int64_t last_throttled_period_ = INT64_MIN;
  CfsCounters counters_;
};

}  // namespace fogm2m::sim
