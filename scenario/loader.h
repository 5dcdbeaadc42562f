// Scenario files: YAML text -> schema::Scenario, checked before anything is
// deployed.
//
// Keys are the proto field names of schema::Scenario (scenario.proto) and
// its messages, mapped through protobuf reflection, so a field added to
// Point or Sweep is a valid key without a change here:
//
//   name: quick                  # default: the file name without extension
//   mode: emulate                # emulate | sim (enum names, prefix dropped, lower case)
//   defaults: {devices: 50, cpu_quota_us: 25000}   # a Point
//   sweep:                       # axes: lists, or inclusive ranges
//     devices: [25, 50]
//     request_rate: {from: 25, to: 300, step: 25}
//   points: [{devices: 10, nodes: 2}]  # instead of sweep: explicit points over defaults
//   warmup_s: 5                  # durations are numbers of seconds
//   mix: [{kind: read, path: "/3313/0/{xyz}", weight: 1}]
//   arrival: poisson             # constant | poisson
//   via: gateway                 # bus (default) | gateway: the load's path into the cluster
//   backend: container           # namespaces (default) | container: podman/docker containers
//                                 # (no faults); `fogm2m run --backend` overrides it
//   defaults: {bus_mode: routed}  # broadcast (default) | routed: a Point field, so
//                                 # `sweep: {bus_mode: [broadcast, routed]}` works; via: bus only
//
// Every mistake is one Error (kMalformed: YAML syntax, unknown or duplicate
// key, wrong type; kInvalidArgument: impossible value) whose message is
// exactly "<file>:<line>: <message>", line 1-based, of the offending node.
//
// Defaults of absent keys: see kDefaultPoint() and load_scenario_text();
// the output directory defaults to "results/<name>" and is stored as given
// (a relative path is the caller's to resolve, against the working directory).
#pragma once

#include <string>
#include <string_view>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"

namespace fogm2m::scenario {

// Reads and checks a scenario file; errors name `path` as the file.
Result<schema::Scenario> load_scenario_file(const std::string& path);

// Same, from text; `display_name` is the file name errors carry (and the
// default scenario name, without directory and extension).
Result<schema::Scenario> load_scenario_text(std::string_view text, const std::string& display_name);

// The Point every scenario starts from before `defaults:` overrides it:
// devices 50, nodes 1, request_rate 100, dtls false, cpu_quota_us 25000,
// cpu_period_us 100000, memory_limit_mb 512, fleets 1,
// sampling_interval_ms 50, lifetime_s 300, fleet limits 0 (unlimited),
// bus_mode unspecified (broadcast; the simulator takes its sim_params').
schema::Point default_point();

}  // namespace fogm2m::scenario
