// The collector of a run: samples a set of named targets (a node's cgroup,
// the network namespace a pid lives in, a bare process) every interval on
// its own thread, keeps each target's time series, and summarises a window
// [start, end] per target into the figures of schema/result.proto
// (NodeStats, ProcessStats): throttling ratio, throttled and CPU time,
// memory mean and peak, bytes and packets received and sent.
//
// Every tick also samples the host (testbed/host_stats.h): its steal and
// the speed probe, summarised per window into HostSummary.
//
// For exact before/after deltas, call sample_now() at the window's start and
// end: the window's first and last samples are then those instants.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/cgroup.h"
#include "testbed/host_stats.h"
#include "testbed/netdev_stats.h"
#include "testbed/process_stats.h"

namespace fogm2m::testbed {

using SamplerClock = std::chrono::steady_clock;

// What to sample for one target; any combination of the three.
struct SamplerTarget {
  std::string name;              // unique, e.g. "node1", "redis", "fleet"
  std::optional<Cgroup> cgroup;  // cpu.stat, cpuacct/usage, memory
  pid_t net_pid = 0;             // > 0: /proc/<net_pid>/net/dev (its namespace's interfaces)
  pid_t process_pid = 0;         // > 0: /proc/<process_pid>/stat, status (CPU time, RSS, wakeups)
  std::string proc_root = "/proc";
};

// One sample of one target. A part whose read failed (process gone, group
// removed) is empty; the error is counted in TargetErrors.
struct TargetSample {
  SamplerClock::time_point at;
  double unix_s = 0;
  std::optional<CgroupSample> cgroup;
  std::optional<NetDevCounters> net;
  std::optional<ProcessUsage> process;
};

// A target over a window, named like schema NodeStats / ProcessStats.
// CPU and memory come from the cgroup when the target has one, else from the
// process. Counter deltas add up the increases between consecutive samples;
// a counter that fell below half its previous value (a restarted process, a
// new namespace) counts from zero again, a smaller fall is read jitter.
struct TargetSummary {
  std::string name;
  size_t samples = 0;           // samples in the window
  double window_s = 0;          // from the window's first to its last sample
  double throttling_ratio = 0;  // delta nr_throttled / delta nr_periods, 0 without periods
  double nr_periods = 0;        // deltas
  double nr_throttled = 0;
  double throttled_s = 0;
  double cpu_s = 0;
  double memory_mean_bytes = 0;
  double memory_peak_bytes = 0;  // max of the samples' peak (kernel high-water mark where known)
  double rx_bytes = 0;
  double tx_bytes = 0;
  double rx_packets = 0;
  double tx_packets = 0;
  double wakeups = 0;  // voluntary context switches of the process (0 without one)
  bool has_cgroup = false;
  bool has_net = false;
  bool has_process = false;
};

// One sample of the host. ticks is empty when /proc/stat could not be read.
struct HostSample {
  SamplerClock::time_point at;
  double unix_s = 0;
  std::optional<HostCpuTicks> ticks;
  double speed_probe_us = 0;
};

// The host over a window.
struct HostSummary {
  size_t samples = 0;
  double steal_ratio = 0;     // delta steal / delta total ticks, 0 where not read
  double speed_probe_us = 0;  // median of the window's probes
};

struct TargetErrors {
  uint64_t count = 0;
  std::string last;  // message of the last failed read
};

class Sampler {
 public:
  // host_proc_root: where the host's stat file is read (tests use a fake tree).
  explicit Sampler(std::chrono::milliseconds interval = std::chrono::seconds(1),
                   std::string host_proc_root = "/proc");
  ~Sampler();  // stops the thread
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Adds a target (also while running; it is sampled from the next tick).
  // kInvalidArgument when the name is empty or taken by an active target,
  // or when the target has nothing to sample.
  Status add_target(SamplerTarget target);
  // Stops sampling a target; its series stays. kNotFound when unknown.
  Status remove_target(const std::string& name);

  // Starts the sampling thread, which samples at once and then every
  // interval. Idempotent.
  void start();
  // Stops and joins the thread. Idempotent.
  void stop();
  bool running() const;

  // Samples every active target now on the caller's thread; returns the
  // instant, to use as a window boundary.
  SamplerClock::time_point sample_now();

  std::vector<std::string> target_names() const;  // in the order added
  std::vector<TargetSample> series(const std::string& name) const;
  TargetErrors errors(const std::string& name) const;

  // Summary of the samples taken in [start, end]. kNotFound for an unknown
  // target or fewer than two samples in the window.
  Result<TargetSummary> summarize(const std::string& name, SamplerClock::time_point start,
                                  SamplerClock::time_point end) const;
  // Every target with at least two samples in the window.
  std::vector<TargetSummary> summarize_all(SamplerClock::time_point start,
                                           SamplerClock::time_point end) const;
  // The host over [start, end]. kNotFound with fewer than two samples.
  Result<HostSummary> summarize_host(SamplerClock::time_point start,
                                     SamplerClock::time_point end) const;
  std::vector<HostSample> host_series() const;

  // Every sample of every target as CSV, one row per (target, instant):
  // target,unix_s,elapsed_s,cpu_s,nr_periods,nr_throttled,throttled_s,
  // memory_bytes,memory_peak_bytes,rx_bytes,rx_packets,tx_bytes,tx_packets,
  // process_cpu_s,process_memory_bytes,process_wakeups,host_total_ticks,
  // host_steal_ticks,speed_probe_us (empty cells where not sampled; the host
  // columns only on the rows of target "host"); elapsed_s counts from the
  // sampler's construction.
  void write_csv(std::ostream& out) const;
  Status write_csv_file(const std::string& path) const;

 private:
  struct Series {
    SamplerTarget target;
    bool active = true;
    std::vector<TargetSample> samples;
    TargetErrors errors;
  };

  void run();
  void sample_all(SamplerClock::time_point at);
  Series* find_active(const std::string& name);
  const Series* find_latest(const std::string& name) const;

  const std::chrono::milliseconds interval_;
  const std::string host_proc_root_;
  const SamplerClock::time_point origin_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
  std::vector<Series> series_;    // in the order added; a re-added name gets a new Series
  std::vector<HostSample> host_;  // in time order
};

}  // namespace fogm2m::testbed
