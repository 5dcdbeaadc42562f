// Control groups made by the testbed: where they live (v1 or v2, detected at
// run time), creating one per server node / fleet with a CFS CPU quota, a
// memory limit and optionally a set of CPUs (cpuset), moving processes into
// it, reading its counters, and removing it (and leftovers of crashed runs)
// again.
//
// All file access goes through the cgroup root and the procfs root given to
// CgroupHost::detect(), so tests point both at a fake tree.
//
// Placement. Every group sits below one parent group ("fogm2m-<run>") that
// sits below the testbed process's own cgroup:
//   v1: <mount of cpu|cpuacct|memory>/<own path>/<parent>/<name>, one
//       directory per hierarchy (a combined "cpu,cpuacct" mount is one).
//   v2: the "no internal processes" rule forbids enabling controllers in a
//       group that holds processes, and the testbed's own group holds at
//       least the testbed. So the parent group goes below the own group only
//       when that group is the root or has no processes (e.g. a fake tree or
//       a delegated empty group); otherwise it becomes a sibling of the own
//       group, below the own group's parent. +cpu +memory are enabled in
//       cgroup.subtree_control from the root down to the parent's location
//       where missing, and in the parent group itself. No process is ever
//       moved out of its group to make room.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

enum class CgroupVersion { kV1, kV2 };

const char* to_string(CgroupVersion version);  // "v1" / "v2" (schema RunMetadata.cgroup_version)

struct CgroupLimits {
  uint32_t cpu_quota_us = 0;  // 0 = unlimited
  uint32_t cpu_period_us = 100000;
  uint64_t memory_limit_bytes = 0;  // 0 = unlimited
  // CPUs the group may run on, in the kernel's list format ("1", "0-3,6");
  // empty: no cpuset (the group runs wherever its parent may).
  std::string cpus;
};

// Counters of one group at one instant. Cumulative since the group was made.
struct CgroupSample {
  double cpu_s = 0;  // v1 cpuacct.usage, v2 cpu.stat usage_usec
  uint64_t nr_periods = 0;
  uint64_t nr_throttled = 0;
  double throttled_s = 0;     // v1 cpu.stat throttled_time (ns), v2 throttled_usec
  uint64_t memory_bytes = 0;  // v1 memory.usage_in_bytes, v2 memory.current
  // v1 memory.max_usage_in_bytes, v2 memory.peak when the kernel has it
  // (>= 5.19); otherwise memory_bytes, so the maximum over a series of
  // samples is the peak the sampler saw.
  uint64_t memory_peak_bytes = 0;
  bool memory_peak_from_kernel = false;
};

// One cgroup hierarchy (v1: one mount; v2: the unified tree).
struct CgroupHierarchy {
  std::vector<std::string>
      controllers;        // v1: e.g. {"cpu", "cpuacct"}; v2: cgroup.controllers of the root
  std::string mount_dir;  // e.g. /sys/fs/cgroup/cpu,cpuacct (v2: the cgroup root)
  std::string own_dir;    // this process's group in it, e.g. <mount_dir>/user.slice
};

// Where cgroups live on this host and which version; read once at start.
class CgroupHost {
 public:
  // Reads <proc_root>/self/cgroup (and <proc_root>/self/mountinfo when
  // present, to strip the root of a mount that shows only a subtree).
  // v2 when <cgroup_root>/cgroup.controllers exists, else v1 with the cpu,
  // cpuacct and memory controllers each found as <cgroup_root>/<controller>
  // or a combined mount such as <cgroup_root>/cpu,cpuacct. Errors: kNotFound
  // when no usable hierarchy or controller is there, kMalformed for a bad
  // /proc/self/cgroup.
  static Result<CgroupHost> detect(std::string cgroup_root = "/sys/fs/cgroup",
                                   std::string proc_root = "/proc");

  CgroupVersion version() const { return version_; }
  const std::string& cgroup_root() const { return cgroup_root_; }
  const std::string& proc_root() const { return proc_root_; }

  // v2: the one unified hierarchy. v1: the distinct hierarchies holding cpu,
  // cpuacct and memory (two when cpu and cpuacct share a mount).
  const std::vector<CgroupHierarchy>& hierarchies() const { return hierarchies_; }
  // v1: the cpuset hierarchy when it is mounted (groups join it only when
  // given CPUs); v2: none (cpuset is a controller of the unified tree).
  const CgroupHierarchy* v1_cpuset() const { return v1_cpuset_ ? &*v1_cpuset_ : nullptr; }

  // The testbed process's own group directory in the hierarchy holding
  // `controller` ("cpu", "cpuacct", "memory"); v2 ignores the controller.
  Result<std::string> own_directory(const std::string& controller) const;

 private:
  CgroupVersion version_ = CgroupVersion::kV1;
  std::string cgroup_root_;
  std::string proc_root_;
  std::vector<CgroupHierarchy> hierarchies_;
  std::optional<CgroupHierarchy> v1_cpuset_;
};

// One cgroup made by the testbed. A Cgroup is a handle: copies name the same
// kernel group, and nothing happens when it goes out of scope; destroy() (or
// remove_leftover_cgroups()) removes the group.
class Cgroup {
 public:
  // Makes <parent_name>/<name> (see the placement note at the top) and sets
  // the limits. Existing directories are reused (a group of the same name
  // left over is taken over, not an error). Errors: kIo with the path and
  // errno text (e.g. not root, controller not delegated).
  static Result<Cgroup> create(const CgroupHost& host, const std::string& parent_name,
                               const std::string& name, const CgroupLimits& limits);

  // Attaches to a group made earlier (e.g. by `fogm2m cluster up` in another
  // process) without writing anything. kNotFound when it does not exist in
  // every hierarchy.
  static Result<Cgroup> open(const CgroupHost& host, const std::string& parent_name,
                             const std::string& name);

  // The group process `pid` is in (e.g. a container's, made by its
  // runtime), read from <proc_root>/<pid>/cgroup: a handle for sample() and
  // processes(). The testbed did not make it: its owner removes it, never
  // destroy(). kNotFound when the process or a group directory is missing.
  static Result<Cgroup> of_process(const CgroupHost& host, pid_t pid);

  // v1: cpu.cfs_period_us, cpu.cfs_quota_us (-1 when unlimited),
  // memory.limit_in_bytes (-1 when unlimited). v2: cpu.max "quota period" or
  // "max period", memory.max (or "max"). Both: cpuset.cpus when CPUs are
  // given (v1: the group must have been created with CPUs, to be in the
  // cpuset hierarchy; its cpuset.mems is its parent's).
  Status set_limits(const CgroupLimits& limits);

  // Moves the process (all its threads) into the group, in every hierarchy.
  Status add_process(pid_t pid);

  // Reads the counters. Errors: kIo / kNotFound when the files are gone,
  // kMalformed when they do not parse.
  Result<CgroupSample> sample() const;

  // Resets the kernel's memory high-water mark (v1 memory.max_usage_in_bytes,
  // v2 memory.peak on kernels >= 6.12), e.g. at the start of a measured
  // window. kUnsupported where the kernel cannot.
  Status reset_memory_peak();

  // Pids in the group (union over hierarchies, sorted, no duplicates).
  std::vector<pid_t> processes() const;

  // Kills (SIGKILL) the processes in the group, waits until it is empty
  // (up to 5 s), removes its directories, then the parent group's where it
  // has no children left. Idempotent: a group already gone is success.
  Status destroy();

  const std::string& name() const { return name_; }
  const std::string& parent_name() const { return parent_name_; }
  CgroupVersion version() const { return version_; }
  // v2: one directory; v1: one per hierarchy (cpu's first, then cpuacct's,
  // memory's, and cpuset's last when the group was made with CPUs).
  const std::vector<std::string>& directories() const { return dirs_; }

 private:
  CgroupVersion version_ = CgroupVersion::kV1;
  std::string name_;
  std::string parent_name_;
  std::vector<std::string> dirs_;                   // the group's own directories
  std::vector<std::string> parent_dirs_;            // the parent group's, same order
  std::string cpu_dir_, cpuacct_dir_, memory_dir_;  // v2: all three are dirs_[0]
  std::string cpuset_dir_;  // v2: dirs_[0] when made with CPUs; v1: the cpuset one; else empty
};

// Removes every group whose directory name starts with `prefix` (leftovers of
// crashed runs, e.g. prefix "fogm2m-"), with everything below it, killing the
// processes in it: looked for below the own group, beside it (v2, where
// create() may put parents) and at the hierarchy roots. Returns how many
// directories named <prefix>* were removed. An empty prefix is refused.
Result<int> remove_leftover_cgroups(const CgroupHost& host, const std::string& prefix);

}  // namespace fogm2m::testbed
