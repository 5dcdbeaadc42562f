// The machine a run shares with whatever else the host runs, sampled so a
// window measured on a slowed machine can be told apart:
// - steal: the host CPU time the hypervisor gave other guests while this
//   one's vCPUs were ready (the "steal" column of /proc/stat; a hypervisor
//   that does not report it leaves it 0);
// - a speed probe: the thread CPU time a fixed piece of arithmetic takes.
//   A guest whose vCPU is held back without steal being reported sees its
//   clock run on, so the time is charged to whatever ran, the probe as much
//   as the node: the probe's time rises with every other process's CPU time
//   and marks the window. It is about 100 µs per sample on a 2020s core.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

// The machine-wide "cpu" line of /proc/stat, in clock ticks.
struct HostCpuTicks {
  uint64_t total = 0;  // user .. steal
  uint64_t steal = 0;
};

// Parses the text of /proc/stat. Errors: kMalformed without a "cpu " line of
// at least four numbers. A kernel without the steal column gives steal 0.
Result<HostCpuTicks> parse_proc_stat_cpu(std::string_view text);

// Reads <proc_root>/stat. Errors: kNotFound, kMalformed.
Result<HostCpuTicks> read_host_cpu_ticks(const std::string& proc_root = "/proc");

// Runs the probe's fixed arithmetic on the calling thread and returns the
// thread CPU time it took, in microseconds.
double run_speed_probe_us();

}  // namespace fogm2m::testbed
