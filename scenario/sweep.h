// The points of a scenario and the runs a runner performs on them.
//
// Expansion order (stable: a point's index names it in result records and
// --resume relies on it): the cartesian product of the Sweep's non-empty
// axes, nested in the Sweep message's field order (devices outermost, then
// nodes, dtls, cpu_quota_us, ...), except request_rate, which is always the
// innermost axis. Consecutive points therefore differ only in request rate
// for as long as possible, so a runner can keep one deployment for them
// (same_deployment()). Axes left empty take the defaults' value. With an
// explicit `points:` list instead, the points are that list, in file order.
#pragma once

#include <cstdint>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"

namespace fogm2m::scenario {

// Every point of the scenario, in the order above.
std::vector<schema::Point> expand_points(const schema::Scenario& scenario);

// True when two points need the same deployment: they differ at most in
// request_rate (compared over every Point field, so new fields count).
bool same_deployment(const schema::Point& a, const schema::Point& b);

// One measurement to perform: a point (by index in expand_points()) and the
// number of its repetition (0-based).
struct PlannedRun {
  uint32_t point_index = 0;
  uint32_t repetition = 0;
  schema::Point point;
};

// --shard K/N: this host runs shard `index` (1-based) of `count`.
struct Shard {
  uint32_t index = 1;
  uint32_t count = 1;
};

// Parses "K/N" with 1 <= K <= N. Errors (kInvalidArgument) say what is wrong.
Result<Shard> parse_shard(std::string_view text);

// (point_index, repetition) pairs already measured, for --resume.
using DoneRuns = std::set<std::pair<uint32_t, uint32_t>>;

// How a point's repetitions are ordered (scenario field repetition_order).
enum class RepetitionOrder {
  kConsecutive,  // point by point, each point's repetitions one after another
  kInterleaved,  // within a group of points sharing a deployment: round by round
};

// The runs to perform, in order: point by point, each point's repetitions
// one after another (so a deployment serves them all), or, interleaved,
// each group of points sharing a deployment round by round (repetition 0 of
// every point of the group, then repetition 1, ...).
//
// Sharding keeps deployments whole: the points are cut into groups of
// consecutive points with the same deployment (same_deployment()), and
// shard K/N takes groups K-1, K-1+N, K-1+2N, ... When every point needs its
// own deployment, that is every N-th point. The N shards together select
// every run exactly once.
//
// Runs in `done` are left out (--resume); the shard still is the same
// groups, so resuming a shard continues that shard.
std::vector<PlannedRun> select_runs(const std::vector<schema::Point>& points, uint32_t repetitions,
                                    Shard shard = {}, const DoneRuns& done = {},
                                    RepetitionOrder order = RepetitionOrder::kConsecutive);

}  // namespace fogm2m::scenario
