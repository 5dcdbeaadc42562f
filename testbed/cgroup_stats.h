// Parsers of cgroup v1 and v2 interface files (cpu.stat, cpu.max,
// memory.*, cgroup.procs, cgroup.controllers, /proc/<pid>/cgroup) and the
// reading of one group's counters from its directories. Pure text in,
// values out, so both layouts are tested on fixtures.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/cgroup.h"

namespace fogm2m::testbed {

// "key value" per line (cpu.stat, memory.stat). Errors: kMalformed naming
// `file` and the line.
Result<std::map<std::string, uint64_t>> parse_flat_keyed(std::string_view text,
                                                         std::string_view file);

// One unsigned number, optionally followed by a newline (cpuacct.usage,
// memory.current, cpu.cfs_period_us). "max" is refused (kMalformed).
Result<uint64_t> parse_single_value(std::string_view text, std::string_view file);

// v2 cpu.max: "<quota> <period>" or "max <period>" (quota_us 0 = unlimited).
struct CpuMax {
  uint64_t quota_us = 0;
  uint64_t period_us = 100000;
};
Result<CpuMax> parse_cpu_max(std::string_view text);

// Space-separated controller names (cgroup.controllers,
// cgroup.subtree_control); a leading '+' is dropped.
std::vector<std::string> parse_controllers(std::string_view text);

// One pid per line (cgroup.procs, tasks).
Result<std::vector<pid_t>> parse_procs(std::string_view text);

// One line of /proc/<pid>/cgroup: "hierarchy-id:controller,list:/path".
// v2's line is "0::/path" (no controllers); v1 named hierarchies appear as
// "name=systemd".
struct ProcCgroupEntry {
  int hierarchy_id = 0;
  std::vector<std::string> controllers;
  std::string path;
};
Result<std::vector<ProcCgroupEntry>> parse_proc_cgroup(std::string_view text);

// Counters of a v1 group: cpu.stat (nr_periods, nr_throttled, throttled_time
// ns) in cpu_dir, cpuacct.usage (ns) in cpuacct_dir, memory.usage_in_bytes
// and memory.max_usage_in_bytes in memory_dir.
Result<CgroupSample> read_v1_sample(const std::string& cpu_dir, const std::string& cpuacct_dir,
                                    const std::string& memory_dir);

// Counters of a v2 group: cpu.stat (usage_usec, nr_periods, nr_throttled,
// throttled_usec; the last three only exist with the cpu controller enabled
// and count 0 otherwise), memory.current, memory.peak when present.
Result<CgroupSample> read_v2_sample(const std::string& dir);

// Whole small file (kernel interface files are read in one go). Errors:
// kNotFound (ENOENT/ESRCH) or kIo with the path and errno text.
Result<std::string> read_text_file(const std::string& path);

// Writes text to an existing file (never creates one: a missing kernel file
// is an error, also in a fake tree). Errors: kNotFound or kIo with the path,
// the text written and errno text.
Status write_text_file(const std::string& path, std::string_view text);

}  // namespace fogm2m::testbed
