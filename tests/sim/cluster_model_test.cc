// The cluster model end to end: a small sweep yields complete records, runs
// are reproducible bit for bit, and the load shapes what it should (more
// nodes, less throttling; a knee for one node).
#include "sim/cluster_model.h"

#include <gtest/gtest.h>

#include "sim/request_kinds.h"
#include "sim/sweep_runner.h"
#include "tests/sim/record_json.h"

namespace fogm2m::sim {
namespace {

using test::record_json;

schema::Scenario small_scenario() {
  schema::Scenario s;
  s.set_name("sim-test");
  s.set_mode(schema::MODE_SIM);
  s.set_warmup_s(1);
  s.set_window_s(4);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(42);
  s.set_request_timeout_s(5);
  return s;
}

schema::Point point(uint32_t devices, uint32_t nodes, double rate, bool dtls = false) {
  schema::Point p;
  p.set_devices(devices);
  p.set_nodes(nodes);
  p.set_request_rate(rate);
  p.set_dtls(dtls);
  p.set_cpu_quota_us(25000);
  p.set_cpu_period_us(100000);
  p.set_memory_limit_mb(512);
  p.set_fleets(1);
  p.set_sampling_interval_ms(50);
  p.set_lifetime_s(300);
  return p;
}

TEST(ClusterModel, RecordHasEveryFieldFilled) {
  const auto s = small_scenario();
  auto out = simulate_point(s, point(50, 2, 100, true), 3, 0, SimParams{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  const schema::ResultRecord& r = out->record;
  EXPECT_EQ(r.scenario(), "sim-test");
  EXPECT_EQ(r.mode(), schema::MODE_SIM);
  EXPECT_EQ(r.point_index(), 3u);
  EXPECT_DOUBLE_EQ(r.window_s(), 4.0);
  EXPECT_NEAR(r.requests_sent(), 400, 1);
  EXPECT_EQ(r.requests_answered() + r.requests_errored(), r.requests_sent());
  EXPECT_EQ(r.requests_answered(), r.requests_sent());
  EXPECT_NEAR(r.achieved_rate(), 100, 1);
  EXPECT_GT(r.latency().mean_ms(), 0.5);
  EXPECT_GT(r.latency().mean_below_p95_ms(), 0);
  EXPECT_GT(r.latency().p50_ms(), 0);
  EXPECT_GE(r.latency().p99_ms(), r.latency().p50_ms());
  EXPECT_GE(r.latency().max_ms(), r.latency().p999_ms());
  ASSERT_EQ(r.nodes_size(), 2);
  uint32_t registrations = 0;
  for (const auto& n : r.nodes()) {
    EXPECT_GT(n.cpu_s(), 0);
    EXPECT_GE(n.throttling_ratio(), 0);
    EXPECT_GT(n.memory_mean_bytes(), 6e6);
    EXPECT_GE(n.memory_peak_bytes(), n.memory_mean_bytes());
    EXPECT_GT(n.rx_bytes(), 0);
    EXPECT_GT(n.tx_bytes(), 0);
    EXPECT_GT(n.rx_packets(), 0);
    EXPECT_GT(n.wakeups(), 0);
    EXPECT_GT(n.tx_packets(), 0);
    registrations += n.registrations();
  }
  EXPECT_EQ(registrations, 50u);
  EXPECT_EQ(r.fleet().registered(), 50u);
  // 50 devices x 20 samples/s x 4 s, every one notifying.
  EXPECT_NEAR(r.fleet().notifications_sent(), 4000, 50);
  EXPECT_NEAR(r.notifications_received(), 4000, 50);
  EXPECT_NEAR(r.fleet().requests_answered(), 400, 5);
  EXPECT_GT(r.fleet().process().cpu_s(), 0);
  EXPECT_GT(r.fleet().process().memory_mean_bytes(), 0);
  EXPECT_GT(r.redis().cpu_s(), 0);
  EXPECT_GT(r.redis().memory_peak_bytes(), 0);
  EXPECT_EQ(out->latency_us.size(), r.requests_answered());
  EXPECT_GT(out->events, 8000u);
}

TEST(ClusterModel, SameSeedSameRecordBitForBit) {
  auto s = small_scenario();
  s.set_arrival(schema::ARRIVAL_POISSON);
  auto a = simulate_point(s, point(80, 1, 150), 0, 0, SimParams{});
  auto b = simulate_point(s, point(80, 1, 150), 0, 0, SimParams{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(record_json(a->record), record_json(b->record));
  EXPECT_EQ(a->latency_us, b->latency_us);
  s.set_seed(43);
  auto c = simulate_point(s, point(80, 1, 150), 0, 0, SimParams{});
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->latency_us, c->latency_us);
}

TEST(ClusterModel, SweepResultsDoNotDependOnThreads) {
  const auto s = small_scenario();
  std::vector<schema::Point> points{point(25, 1, 50), point(50, 2, 100), point(75, 3, 200)};
  auto collect = [&](unsigned threads) {
    std::vector<std::string> out;
    auto status = run_sweep(s, all_runs(points, 2), SimParams{}, threads,
                            [&](const SweepRun&, Result<PointOutcome>& r) -> Status {
                              if (!r) return r.error();
                              out.push_back(record_json(r->record));
                              return {};
                            });
    EXPECT_TRUE(status.ok());
    return out;
  };
  const auto one = collect(1);
  ASSERT_EQ(one.size(), 6u);
  EXPECT_EQ(one, collect(2));
  EXPECT_NE(one[0], one[1]);  // repetitions differ
}

TEST(ClusterModel, OneNodeOverloadsWhereTwoDoNot) {
  const auto s = small_scenario();
  // 200 devices notify 4000/s: at 100 us each (a JVM's cost) that is 40 ms
  // per 100 ms period against a 25 ms quota, so one node is throttled in
  // every period; five nodes get 8 ms each.
  SimParams heavy;
  heavy.node_cpu_notification_s = 100e-6;
  auto one = simulate_point(s, point(200, 1, 50), 0, 0, heavy);
  auto five = simulate_point(s, point(200, 5, 50), 0, 0, heavy);
  ASSERT_TRUE(one.ok() && five.ok());
  EXPECT_GT(one->record.nodes(0).throttling_ratio(), 0.95);
  EXPECT_GT(one->record.latency().mean_ms(), 100);
  for (const auto& n : five->record.nodes()) EXPECT_LT(n.throttling_ratio(), 0.5);
  EXPECT_LT(five->record.latency().mean_ms(), 30);
}

// Each request of the mix costs its owner by its class: with no cost
// variation and no wakeups, a node's CPU grows by exactly what the writes
// and executes cost over reads; a read-only mix is untouched by the
// factors.
TEST(ClusterModel, TheMixsWritesAndExecutesCostTheirFactors) {
  auto scenario = [](std::vector<std::pair<std::string, double>> mix) {
    schema::Scenario s = small_scenario();
    s.set_observe_all(false);
    for (const auto& [kind, weight] : mix) {
      auto* spec = s.add_mix();
      spec->set_kind(kind);
      spec->set_path("/3313/0/5702");
      spec->set_weight(weight);
    }
    return s;
  };
  SimParams p;
  p.node_cpu_cv = 0;
  p.node_cpu_wakeup_s = 0;
  p.node_cpu_notification_s = 0;
  p.node_cpu_registration_s = 0;
  p.node_cpu_request_owned_s = 100e-6;
  p.node_cpu_write_factor = 3;
  p.node_cpu_execute_factor = 2;
  auto cpu = [&](const schema::Scenario& s, const SimParams& params) {
    auto out = simulate_point(s, point(20, 1, 200), 0, 0, params);
    EXPECT_TRUE(out.ok());
    return out.ok() ? out->record.nodes(0).cpu_s() : 0.0;
  };
  const double reads = cpu(scenario({{"read", 1}}), p);
  const double mixed = cpu(scenario({{"read", 2}, {"write", 1}, {"execute", 1}}), p);
  // 800 requests in the window, 100 us a read: 0.08 s; the mix's mean
  // factor is (2 + 3 + 2) / 4 = 1.75.
  EXPECT_NEAR(reads, 0.08, 0.004);
  EXPECT_NEAR(mixed / reads, 1.75, 0.1);
  SimParams cheaper = p;
  cheaper.node_cpu_write_factor = 0.5;
  EXPECT_DOUBLE_EQ(cpu(scenario({{"read", 1}}), cheaper), reads);
  EXPECT_DOUBLE_EQ(mean_owned_cost_factor(scenario({{"read", 2}, {"write", 1}, {"execute", 1}}), p),
                   1.75);
}

// A reply from Redis that lands inside the busy stretch whose job sent the
// command rides on it; one that lands later wakes the node again.
TEST(ClusterModel, RedisRepliesWakeTheNodeOnlyAfterItsStretch) {
  const schema::Scenario s = small_scenario();
  const schema::Point p = point(20, 1, 50);
  auto run = [&](double round_trip_s) {
    SimParams params;
    params.node_cpu_wakeup_s = 30e-6;
    params.node_redis_round_trip_s = round_trip_s;
    auto r = simulate_point(s, p, 0, 0, params);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->record.nodes(0) : schema::NodeStats{};
  };
  const schema::NodeStats inside = run(1e-6), after = run(2e-3);
  // 20 devices x 20 notifications/s + 50 requests/s (two messages each) over
  // the 4 s window: ~1,900 messages, each waking the idle node once; the
  // late replies add about as many again.
  EXPECT_GT(inside.wakeups(), 1500);
  EXPECT_LT(inside.wakeups(), 2100);
  EXPECT_GT(after.wakeups(), 1.7 * inside.wakeups());
  EXPECT_NEAR(after.cpu_s() - inside.cpu_s(), (after.wakeups() - inside.wakeups()) * 30e-6, 1e-3);
}

// A scenario's bus_mode (a Point field) overrides the parameters' when it
// names one; unspecified leaves the parameters' (fog-1m's routed bus).
TEST(ClusterModel, ThePointsBusModeOverridesTheParameters) {
  const auto s = small_scenario();
  auto node_cpu = [&](schema::BusMode in_point, BusMode in_params) {
    schema::Point p = point(50, 3, 100);
    p.set_bus_mode(in_point);
    SimParams params;
    params.bus_mode = in_params;
    auto out = simulate_point(s, p, 0, 0, params);
    EXPECT_TRUE(out.ok()) << out.error().message;
    double cpu = 0;
    if (out.ok())
      for (const auto& n : out->record.nodes()) cpu += n.cpu_s();
    return cpu;
  };
  const double broadcast = node_cpu(schema::BUS_MODE_UNSPECIFIED, BusMode::kBroadcast);
  const double routed = node_cpu(schema::BUS_MODE_UNSPECIFIED, BusMode::kRouted);
  EXPECT_LT(routed, broadcast);  // two of three nodes no longer parse each request
  EXPECT_EQ(node_cpu(schema::BUS_MODE_ROUTED, BusMode::kBroadcast), routed);
  EXPECT_EQ(node_cpu(schema::BUS_MODE_BROADCAST, BusMode::kRouted), broadcast);
  schema::Point p;
  SimParams params;
  params.bus_mode = BusMode::kRouted;
  EXPECT_EQ(bus_mode_of(p, params), BusMode::kRouted);
  p.set_bus_mode(schema::BUS_MODE_BROADCAST);
  EXPECT_EQ(bus_mode_of(p, params), BusMode::kBroadcast);
}

TEST(ClusterModel, RejectsImpossiblePoints) {
  const auto s = small_scenario();
  auto none = simulate_point(s, point(10, 0, 10), 0, 0, SimParams{});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("nodes"), std::string::npos);
  auto bad = small_scenario();
  bad.set_window_s(0);
  EXPECT_FALSE(simulate_point(bad, point(10, 1, 10), 0, 0, SimParams{}).ok());
}

}  // namespace
}  // namespace fogm2m::sim
