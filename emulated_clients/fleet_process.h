// A fleet as a process runs it (what `fogm2m fleet` runs): optionally inside
// a network namespace and cgroups (the testbed's containers), the Fleet
// until SIGINT, SIGTERM or a duration; live counters on stderr and in a
// stats file, a JSON summary at the end.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "emulated_clients/fleet.h"

namespace fogm2m::emulated {

struct FleetProcessOptions {
  FleetConfig fleet;
  std::string netns;                 // enter /run/netns/<netns> first (sockets then live there)
  std::vector<std::string> cgroups;  // join these cgroup directories (one per v1 hierarchy)
  std::string stats_file;            // rewritten with the counters (JSON) every interval
  std::chrono::milliseconds stats_interval{1000};  // 0: no live counters
  bool quiet = false;                              // no live counters on stderr
  std::string summary_file;                        // the final counters (JSON)
  std::chrono::milliseconds duration{0};           // 0: until a signal
};

// Runs the fleet; returns the process exit code: 0, or 2 when it could not
// be placed or started (the reason on stderr). The final counters are
// printed as JSON on stdout.
int run_fleet_process(const FleetProcessOptions& options);

}  // namespace fogm2m::emulated
