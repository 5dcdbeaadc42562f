// Runs the points of a scenario through the cluster model on several
// threads (one Simulator per point) and hands the outcomes back in order.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"
#include "sim/cluster_model.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

struct SweepRun {
  uint32_t point_index = 0;
  uint32_t repetition = 0;
  schema::Point point;
};

// Called on the calling thread, once per run, in the order of `runs`. A
// failed sink status stops the sweep (runs in progress finish) and is
// returned.
using SweepSink = std::function<Status(const SweepRun& run, Result<PointOutcome>& outcome)>;

// Simulates `runs` on `threads` worker threads (0: one per hardware thread).
// Outcomes do not depend on the thread count.
Status run_sweep(const schema::Scenario& scenario, const std::vector<SweepRun>& runs,
                 const SimParams& params, unsigned threads, const SweepSink& sink);

// Every (point, repetition) of `points`, point by point, repetitions
// 0..max(1, repetitions)-1.
std::vector<SweepRun> all_runs(const std::vector<schema::Point>& points, uint32_t repetitions);

}  // namespace fogm2m::sim
