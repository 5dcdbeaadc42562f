// Host-wide kernel settings a run raises for its duration, and their restore.
//
// A few net.* sysctls exist once for the whole host: the root namespace's
// value holds in every namespace, and a namespace cannot write it. The one
// the testbed needs is net.netfilter.nf_conntrack_max, the most
// connection-tracking entries any one namespace may hold: the load
// balancer keeps one entry per device (source ip:port), so a run of a
// million devices needs more than the usual 262144. Such a run raises the
// host's value and puts it back when it ends.
//
// Every raise is written down before the value changes, in
// /run/fogm2m/<run>.sysctl, one "<key> <original> <wanted>" line per key,
// so the cleanup of a crashed run (cleanup.h: remove_run()) restores it as
// well. Runs side by side share the original value: the first raise records
// the host's value, later raises copy it from the other runs' records. A
// restore removes the run's record and sets the largest value still wanted
// by runs that are alive, or the original when none is. All of it happens
// under an flock on /run/fogm2m/sysctl.lock.
//
// net.* keys show the namespace of the thread that opens them: call these
// from a thread in the root network namespace (checked for /proc/sys).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

inline constexpr const char* kConntrackMaxKey = "net.netfilter.nf_conntrack_max";

// Where the settings and the records live (tests point both elsewhere).
struct HostSysctlPaths {
  std::string proc_sys = "/proc/sys";
  std::string state_dir = "/run/fogm2m";
};

struct SysctlChange {
  std::string key;
  uint64_t before = 0;  // the value found
  uint64_t after = 0;   // the value left (== before: unchanged)
  bool changed() const { return before != after; }
};

// /run/fogm2m/<run>.sysctl (under paths.state_dir).
std::string run_sysctl_path(const std::string& run, const HostSysctlPaths& paths = {});

// Reads a numeric sysctl ("net.netfilter.nf_conntrack_max").
Result<uint64_t> read_host_sysctl(const std::string& key, const HostSysctlPaths& paths = {});

// Raises `key` to at least `value` for run `run`, recording it first (see
// above). Nothing is changed or recorded when the value is already there.
Result<SysctlChange> raise_host_sysctl(const std::string& run, const std::string& key,
                                       uint64_t value, const HostSysctlPaths& paths = {});

// Puts back what run `run` raised (nothing when it raised nothing) and
// removes its record; `alive` tells which other runs still hold their
// raise (default: cleanup.h's run_alive()). Returns the keys set back.
Result<std::vector<SysctlChange>> restore_host_sysctls(
    const std::string& run, const HostSysctlPaths& paths = {},
    const std::function<bool(const std::string&)>& alive = {});

// Run ids that have a sysctl record.
std::vector<std::string> runs_with_sysctl_records(const HostSysctlPaths& paths = {});

}  // namespace fogm2m::testbed
