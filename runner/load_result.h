// What one measured window of the load generator saw, and how it goes into
// a result record.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "results/fault_stats.h"
#include "schema/result.pb.h"

namespace fogm2m::runner {

// One second of a run (warm-up included), by the second a request was
// scheduled in, or a notification arrived in.
using LoadSecond = results::LoadSecond;

// Counts cover only requests scheduled inside the measured window (not the
// warm-up); sent == answered + err_replies + timed_out once a run is over.
struct LoadResult {
  uint32_t sent = 0;
  uint32_t answered = 0;     // a "rep" arrived within the request timeout
  uint32_t err_replies = 0;  // an "err" arrived within the request timeout
  uint32_t timed_out = 0;    // neither arrived within the request timeout
  uint32_t errored() const { return err_replies + timed_out; }
  // Published again after a bus loss, until a node confirmed them
  // (bus/loss_resender.h); each repeat counts. They end as any other.
  uint32_t resent = 0;

  // Scheduled send -> rep, microseconds, one per answered request, in the
  // order the replies arrived.
  std::vector<uint32_t> latencies_us;
  // Notifications seen on the response channel during the window.
  double notifications = 0;
  double window_s = 0;  // the measured window (by schedule)
  // How far behind its schedule the latest request went out (the loop's own
  // lag; latencies include it, as an open loop must).
  double max_send_lag_ms = 0;
  // err replies by message, at most 16 distinct messages (the rest: "other").
  std::map<std::string, uint32_t> error_messages;
  // stop() ended the run early: the counts are partial, do not record them.
  bool interrupted = false;

  // Through the gateway: set, and per answered request that carried a
  // Server-Timing, its latency minus the gateway's "bus;dur" (what the
  // gateway and HTTP added), microseconds, in the order of latencies_us.
  bool via_gateway = false;
  std::vector<uint32_t> gateway_added_us;

  // Second by second from the start of the load (LoadPlan::timeline).
  std::vector<LoadSecond> timeline;
  // Arrival times (seconds from the start of the load) of each observed
  // device's notifications, by endpoint (LoadPlan::timeline; devices
  // observed by observe_all()).
  std::map<std::string, std::vector<float>> notifications_by_device;
};

// Copies the load's figures into `record`: requests_* (errored = err
// replies + timeouts), achieved_rate (answered per second of the window),
// latency (results::latency_stats), notifications_received, window_s; via
// the gateway also gateway.added_latency and gateway.timed_requests (its
// CPU and memory are the sampler's: the runner adds them).
void fill_record(const LoadResult& load, schema::ResultRecord* record);

}  // namespace fogm2m::runner
