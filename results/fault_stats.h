// The rules that turn a fault run's measurements into FaultStats, in one
// place for the testbed runner (runner/fault_stats.h) and the simulator
// (sim/cluster_model.cc), which measure the same things differently.
//
// Recovery from a fault: the first second from the fault's own on in which
// no request failed (err or timeout), p99 latency is within 2x the p99
// before the first fault (at least 5 ms) and every observed device has
// notified since the fault. Requests are counted by the second they were
// scheduled in, from the fault's second until recovery (or the run's end).
// Observed devices: those that notified before the first fault. An
// observation is lost when its device is silent for more than
// kObservationGapS at the end of the run, re-established when it broke (a
// gap over kObservationGapS that began around or after the first fault)
// and notified again.
#pragma once

#include <cstdint>
#include <vector>

#include "schema/result.pb.h"

namespace fogm2m::results {

inline constexpr double kObservationGapS = 2.0;

// One second of a load, from its start (warm-up included).
struct LoadSecond {
  uint32_t sent = 0, answered = 0, err_replies = 0, timed_out = 0;
  uint32_t resent = 0;  // published again after a bus loss (bus/loss_resender.h)
  uint32_t notifications = 0;
  std::vector<uint32_t> latencies_us;  // answered requests'
};

// What the rules need of one device's notifications (seconds from the
// load's start).
struct DeviceNotifications {
  double first_s = 0, last_s = 0;
  double max_gap_s = 0;                     // longest silence between two of them
  bool broke = false;                       // see above
  std::vector<double> first_since_fault_s;  // per fault: first one at or after it; -1: none
};

// FaultStats with one FaultOutcome per entry of `injected_s` (seconds from
// the load's start; -1: not injected), in that order, with requests and
// recovery_s filled (recovery -1: not within the run), and the run's
// observation figures. The caller adds what only it knows: the faults
// themselves, injection errors, lb_removed_after_s, registrations,
// notifications_lost, timeline_file.
schema::FaultStats fault_stats(const std::vector<LoadSecond>& timeline,
                               const std::vector<DeviceNotifications>& devices,
                               const std::vector<double>& injected_s, double run_s);

}  // namespace fogm2m::results
