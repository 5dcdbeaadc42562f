// The testbed's main job: runs every point of a scenario on a real cluster
// of this machine and writes one result record per (point, repetition).
//
// For each planned run (scenario/sweep.h: sweep order, --shard, --resume):
//   1. deploy the point's cluster with the scenario's backend (namespaces:
//      testbed/deployment.h, or container: testbed/container_deployment.h;
//      both record the same fields): Redis, nodes under
//      their CPU/memory quotas, the nftables load balancer, the gateway with
//      `via: gateway`, the fleets), or
//      keep the previous one when the points differ only in request rate;
//   2. on a fresh deployment, observe every device (observe_all), as the
//      reference study did before its load;
//   3. sample the nodes', Redis', the fleets' (and the gateway's) cgroups
//      and namespaces (testbed/sampler.h) while the open-loop load generator
//      (runner/load_generator.h) runs its warm-up and measured window on the
//      bus, or through the gateway (`via: gateway`), from inside the
//      cluster's control namespace;
//   4. write the record (latency, per-node throttling/CPU/memory/network,
//      fleet, Redis and gateway figures) and the raw latency samples.
// A point whose deployment or load fails gets a record with `error` set and
// the runner goes on with a fresh deployment. cancel (Ctrl-C) stops the load
// at once, tears the cluster down and keeps every finished record.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>

#include "lwm2m/result.h"
#include "scenario/sweep.h"
#include "schema/result.pb.h"
#include "schema/scenario.pb.h"
#include "testbed/cluster_backend.h"

namespace fogm2m::runner {

struct RunnerOptions {
  std::string scenario_file;
  std::string output_dir;  // empty: the scenario's output_dir
  bool resume = false;     // skip runs already in output_dir/records.jsonl
  // Leave <output_dir>/work (the last deployment's node, fleet and Redis
  // logs, fleet stats) in place at the end, for a look at what the
  // processes said; each new deployment still starts it empty.
  bool keep_work = false;
  scenario::Shard shard;
  std::string fogm2m_binary;  // the executable run as node and fleet
  // Overrides the scenario's `backend:` (testbed/cluster_backend.h); the
  // container backend takes its engine and images from `containers`.
  std::optional<testbed::BackendKind> backend;
  testbed::ContainerOptions containers;
  std::string git_revision;
  double sample_interval_s = 0.5;
  const std::atomic<bool>* cancel = nullptr;
  // Called after each run with one line of progress.
  std::function<void(const std::string&)> on_progress;
};

struct RunnerSummary {
  std::string output_dir;
  size_t planned = 0;    // runs selected (after shard and resume)
  size_t completed = 0;  // records written
  size_t failed = 0;     // of those, with an error
  size_t skipped = 0;    // already done (--resume)
  bool interrupted = false;
};

// Runs the scenario in emulation mode. Errors before anything is deployed
// (scenario file, output directory) come back as errors; failures of single
// points are in their records.
Result<RunnerSummary> run_scenario(const RunnerOptions& options);

}  // namespace fogm2m::runner
