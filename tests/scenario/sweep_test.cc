// Sweep expansion order and counts, and the runs --shard and --resume select.
#include "scenario/sweep.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "scenario/loader.h"

namespace fogm2m::scenario {
namespace {

namespace pb = google::protobuf;

schema::Scenario load(const std::string& text) {
  auto s = load_scenario_text(text, "t.yaml");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : schema::Scenario();
}

schema::Scenario shipped(const std::string& name) {
  auto s = load_scenario_file(std::string(FOGM2M_SOURCE_DIR) + "/scenarios/" + name + ".yaml");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : schema::Scenario();
}

// Every Sweep axis must name a Point field of the same type, or expansion
// could not set it.
TEST(Sweep, EveryAxisIsAPointField) {
  const pb::Descriptor* sweep = schema::Sweep::descriptor();
  for (int i = 0; i < sweep->field_count(); ++i) {
    const pb::FieldDescriptor* axis = sweep->field(i);
    const pb::FieldDescriptor* field = schema::Point::descriptor()->FindFieldByName(axis->name());
    ASSERT_NE(field, nullptr) << axis->name();
    EXPECT_EQ(field->cpp_type(), axis->cpp_type()) << axis->name();
    EXPECT_TRUE(axis->is_repeated()) << axis->name();
  }
}

// bus_mode is the innermost axis but the rate: each mode its own deployment.
TEST(Sweep, BusModeIsAnAxisAndADeployment) {
  auto points = expand_points(load(R"(sweep:
  nodes: [1, 3]
  bus_mode: [broadcast, routed]
  request_rate: [10, 20]
)"));
  ASSERT_EQ(points.size(), 8u);
  EXPECT_EQ(points[0].bus_mode(), schema::BUS_MODE_BROADCAST);
  EXPECT_EQ(points[1].bus_mode(), schema::BUS_MODE_BROADCAST);
  EXPECT_EQ(points[2].bus_mode(), schema::BUS_MODE_ROUTED);
  EXPECT_EQ(points[4].nodes(), 3u);
  EXPECT_EQ(points[4].bus_mode(), schema::BUS_MODE_BROADCAST);
  EXPECT_TRUE(same_deployment(points[0], points[1]));
  EXPECT_FALSE(same_deployment(points[1], points[2]));
}

TEST(Sweep, NoAxesIsTheDefaultsPoint) {
  auto points = expand_points(load("defaults: {devices: 7}\n"));
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].devices(), 7u);
}

TEST(Sweep, RequestRateIsInnermostAndAxesNestInSchemaOrder) {
  // Written in another order than the schema's: the order does not follow the file.
  auto points = expand_points(load(R"(sweep:
  request_rate: [10, 20, 30]
  dtls: [false, true]
  nodes: [1, 2]
)"));
  ASSERT_EQ(points.size(), 12u);
  // nodes outermost, then dtls, then request_rate.
  const struct {
    uint32_t nodes;
    bool dtls;
    double rate;
  } expected[] = {{1, false, 10}, {1, false, 20}, {1, false, 30}, {1, true, 10},
                  {1, true, 20},  {1, true, 30},  {2, false, 10}, {2, false, 20},
                  {2, false, 30}, {2, true, 10},  {2, true, 20},  {2, true, 30}};
  for (size_t i = 0; i < points.size(); ++i) {
    EXPECT_EQ(points[i].nodes(), expected[i].nodes) << i;
    EXPECT_EQ(points[i].dtls(), expected[i].dtls) << i;
    EXPECT_EQ(points[i].request_rate(), expected[i].rate) << i;
    EXPECT_EQ(points[i].devices(), 50u) << i;  // the default
  }
}

TEST(Sweep, ThesisHas1080PointsIn90Deployments) {
  auto points = expand_points(shipped("thesis"));
  ASSERT_EQ(points.size(), 1080u);
  EXPECT_EQ(points[0].devices(), 25u);
  EXPECT_EQ(points[0].nodes(), 1u);
  EXPECT_FALSE(points[0].dtls());
  EXPECT_EQ(points[0].request_rate(), 25);
  EXPECT_EQ(points[11].request_rate(), 300);
  EXPECT_TRUE(points[12].dtls());
  EXPECT_EQ(points[24].nodes(), 2u);
  EXPECT_EQ(points[1079].devices(), 225u);
  EXPECT_EQ(points[1079].nodes(), 5u);
  EXPECT_TRUE(points[1079].dtls());
  EXPECT_EQ(points[1079].request_rate(), 300);
  size_t deployments = 1;
  for (size_t i = 1; i < points.size(); ++i)
    if (!same_deployment(points[i - 1], points[i])) ++deployments;
  EXPECT_EQ(deployments, 90u);
  // Every point is distinct.
  std::map<std::string, int> seen;
  for (const auto& p : points) EXPECT_EQ(++seen[p.SerializeAsString()], 1);
}

TEST(Sweep, QuickAndCi) {
  auto quick = expand_points(shipped("quick"));
  EXPECT_EQ(quick.size(), 8u);
  auto ci = expand_points(shipped("ci"));
  ASSERT_EQ(ci.size(), 2u);
  EXPECT_EQ(ci[0].request_rate(), 50);
  EXPECT_EQ(ci[1].request_rate(), 200);
  EXPECT_TRUE(same_deployment(ci[0], ci[1]));
}

TEST(Sweep, ExplicitPointsKeepTheirOrder) {
  auto points = expand_points(load("points:\n  - {nodes: 3}\n  - {nodes: 1}\n  - {nodes: 2}\n"));
  ASSERT_EQ(points.size(), 3u);
  EXPECT_EQ(points[0].nodes(), 3u);
  EXPECT_EQ(points[1].nodes(), 1u);
  EXPECT_EQ(points[2].nodes(), 2u);
}

TEST(Sweep, SameDeploymentIgnoresOnlyTheRate) {
  schema::Point a = default_point(), b = default_point();
  b.set_request_rate(a.request_rate() + 50);
  EXPECT_TRUE(same_deployment(a, b));
  b.set_dtls(true);
  EXPECT_FALSE(same_deployment(a, b));
  b = a;
  b.set_fleet_memory_limit_mb(64);  // a field far down the message counts too
  EXPECT_FALSE(same_deployment(a, b));
}

TEST(Sweep, ParseShard) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2u);
  EXPECT_EQ(s->count, 4u);
  ASSERT_TRUE(parse_shard("1/1").ok());
  for (const char* bad : {"", "2", "0/4", "5/4", "1/0", "a/b", "2/4x", "-1/4", "2//4", " 2/4"}) {
    auto r = parse_shard(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_NE(r.error().message.find("shard"), std::string::npos);
  }
}

TEST(Sweep, ShardsPartitionTheRunsAndKeepDeploymentsWhole) {
  auto points = expand_points(shipped("thesis"));
  const uint32_t reps = 2;
  std::map<std::pair<uint32_t, uint32_t>, int> taken;
  for (uint32_t k = 1; k <= 4; ++k) {
    auto runs = select_runs(points, reps, Shard{k, 4});
    // Groups of 12 rates x 2 repetitions; 90 groups over 4 shards: 23, 23, 22, 22.
    EXPECT_EQ(runs.size(), (k <= 2 ? 23u : 22u) * 12 * reps) << k;
    for (size_t i = 0; i < runs.size(); ++i) {
      ++taken[{runs[i].point_index, runs[i].repetition}];
      EXPECT_EQ(runs[i].point.SerializeAsString(), points[runs[i].point_index].SerializeAsString());
      // Point by point, repetitions together.
      if (i > 0) {
        const auto& prev = runs[i - 1];
        EXPECT_TRUE(
            prev.point_index < runs[i].point_index ||
            (prev.point_index == runs[i].point_index && prev.repetition + 1 == runs[i].repetition));
      }
    }
    // Shard k's first point opens deployment group k-1.
    EXPECT_EQ(runs.front().point_index, (k - 1) * 12);
  }
  EXPECT_EQ(taken.size(), points.size() * reps);
  for (const auto& [run, n] : taken) EXPECT_EQ(n, 1);
}

TEST(Sweep, EveryNthPointWhenNoDeploymentIsShared) {
  auto points = expand_points(load("sweep:\n  nodes: [1, 2, 3, 4, 5]\n"));
  auto runs = select_runs(points, 1, Shard{2, 2});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].point_index, 1u);
  EXPECT_EQ(runs[1].point_index, 3u);
}

TEST(Sweep, InterleavedRepetitionsGoRoundByRoundWithinADeployment) {
  // Nodes 1 and 2 at two rates each: two deployments of two points.
  auto points = expand_points(load("sweep:\n  nodes: [1, 2]\n  request_rate: [10, 20]\n"));
  ASSERT_EQ(points.size(), 4u);
  auto runs = select_runs(points, 2, Shard{}, {}, RepetitionOrder::kInterleaved);
  std::vector<std::pair<uint32_t, uint32_t>> order;
  for (const auto& r : runs) order.emplace_back(r.point_index, r.repetition);
  const std::vector<std::pair<uint32_t, uint32_t>> expected = {{0, 0}, {1, 0}, {0, 1}, {1, 1},
                                                               {2, 0}, {3, 0}, {2, 1}, {3, 1}};
  EXPECT_EQ(order, expected);
  // The same runs as consecutive, in another order; resume still skips.
  EXPECT_EQ(runs.size(), select_runs(points, 2).size());
  auto resumed = select_runs(points, 2, Shard{}, {{0, 0}, {1, 0}}, RepetitionOrder::kInterleaved);
  ASSERT_EQ(resumed.size(), 6u);
  EXPECT_EQ(resumed[0].point_index, 0u);
  EXPECT_EQ(resumed[0].repetition, 1u);
  // A shard takes whole deployments, interleaved within each.
  auto second = select_runs(points, 2, Shard{2, 2}, {}, RepetitionOrder::kInterleaved);
  ASSERT_EQ(second.size(), 4u);
  EXPECT_EQ(second[0].point_index, 2u);
  EXPECT_EQ(second[1].point_index, 3u);
  EXPECT_EQ(second[2].repetition, 1u);
}

TEST(Sweep, ResumeSkipsDoneRuns) {
  auto points = expand_points(shipped("quick"));
  DoneRuns done = {{0, 0}, {1, 0}, {1, 1}, {5, 1}};
  auto runs = select_runs(points, 2, Shard{}, done);
  EXPECT_EQ(runs.size(), points.size() * 2 - done.size());
  for (const auto& r : runs) EXPECT_EQ(done.count({r.point_index, r.repetition}), 0u);
  EXPECT_EQ(runs.front().point_index, 0u);
  EXPECT_EQ(runs.front().repetition, 1u);
  // Resume within a shard: the same groups, less what is done.
  auto shard = select_runs(points, 1, Shard{1, 2});
  auto resumed = select_runs(points, 1, Shard{1, 2}, {{shard[0].point_index, 0}});
  ASSERT_EQ(resumed.size() + 1, shard.size());
  EXPECT_EQ(resumed[0].point_index, shard[1].point_index);
}

}  // namespace
}  // namespace fogm2m::scenario
