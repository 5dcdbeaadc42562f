// CPU time and resident memory of one process, from /proc/<pid>/stat, for
// processes that run without a cgroup of their own (e.g. Redis or a fleet
// run in the testbed's group).
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
};

// Parses the text of /proc/<pid>/stat (the command name may hold spaces and
// parentheses; fields are counted after its last ')'). Errors: kMalformed.
Result<ProcessUsage> parse_proc_stat(std::string_view text, long clock_ticks_per_s, long page_size);

// Reads <proc_root>/<pid>/stat. Errors: kNotFound when the process is gone.
Result<ProcessUsage> read_process_usage(pid_t pid, const std::string& proc_root = "/proc");

}  // namespace fogm2m::testbed
