// Where the testbed's processes may run: with `cpu_placement: split` the
// server nodes get one half of the CPUs this process may use and Redis, the
// fleets and the load generator (this process) the other half, so what a
// node's cgroup counts is its own work, not a neighbour's cache misses.
// Nodes and the others go in cpuset cgroups (CgroupLimits::cpus); this
// process and its threads are pinned with sched_setaffinity.
#pragma once

#include <sched.h>

#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct CpuSplit {
  std::vector<int> nodes;  // ascending
  std::vector<int> others;
};

// The kernel's list format of `cpus` ("0-3,6"), ascending, ranges merged.
std::string cpu_list(const std::vector<int>& cpus);

// The CPUs this process may run on (sched_getaffinity), ascending.
std::vector<int> allowed_cpus();

// Splits `cpus` (ascending): the nodes get the upper half (rounded down, at
// least one), the others the rest. kInvalidArgument with fewer than two.
Result<CpuSplit> split_cpus(const std::vector<int>& cpus);

// Pins every thread of this process to `cpus` (threads started later
// inherit it) and restores the affinity it had when destroyed.
class ProcessPinning {
 public:
  static Result<ProcessPinning> pin(const std::vector<int>& cpus);
  ProcessPinning(ProcessPinning&& other) noexcept;
  ProcessPinning& operator=(ProcessPinning&&) = delete;
  ProcessPinning(const ProcessPinning&) = delete;
  ~ProcessPinning();

 private:
  ProcessPinning() = default;
  cpu_set_t previous_{};
  bool active_ = false;
};

}  // namespace fogm2m::testbed
