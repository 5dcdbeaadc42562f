// CPU time, resident memory and wakeups of one process, from
// /proc/<pid>/stat and /proc/<pid>/status: CPU and memory for processes that
// run without a cgroup of their own (e.g. Redis or a fleet run in the
// testbed's group), wakeups for every process the testbed samples.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct ProcessUsage {
  double cpu_s = 0;           // utime + stime of the process (all its threads)
  uint64_t memory_bytes = 0;  // resident set size
  // Voluntary context switches of the main thread: how often it blocked
  // (epoll_wait with nothing to do) and was woken again. For a single-
  // threaded event loop, the number of wakeups, a large part of its CPU cost.
  uint64_t wakeups = 0;
};

// Parses the text of /proc/<pid>/stat (the command name may hold spaces and
// parentheses; fields are counted after its last ')'). Errors: kMalformed.
Result<ProcessUsage> parse_proc_stat(std::string_view text, long clock_ticks_per_s, long page_size);

// The voluntary_ctxt_switches of the text of /proc/<pid>/status.
// Errors: kMalformed when the line is missing or not a number.
Result<uint64_t> parse_proc_status_wakeups(std::string_view text);

// Reads <proc_root>/<pid>/stat and <proc_root>/<pid>/status. Errors: kNotFound when the process is
// gone.
Result<ProcessUsage> read_process_usage(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace fogm2m::testbed
