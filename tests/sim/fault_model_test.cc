// kill_node in the cluster model: the load balancer takes the dead node out,
// survivors take its devices over, the fallback node answers requests for
// them meanwhile, and the record's FaultStats says what it cost. Other
// fault kinds are recorded as not modelled.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "sim/cluster_model.h"
#include "sim/simulate.h"
#include "tests/sim/record_json.h"

namespace fogm2m::sim {
namespace {

using test::record_json;

// scenarios/faults.yaml's first fault, shortened: 3 nodes, 300 observed
// devices notifying 20/s each, 200 reads/s, node-2 killed 6 s into the load.
schema::Scenario kill_scenario() {
  schema::Scenario s;
  s.set_name("sim-faults");
  s.set_mode(schema::MODE_SIM);
  s.set_warmup_s(2);
  s.set_window_s(12);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(7);
  s.set_request_timeout_s(5);
  schema::Fault* f = s.add_faults();
  f->set_at_s(6);
  f->set_kind("kill_node");
  f->set_target("node-2");
  return s;
}

// With the default calibration, 25 ms of CPU per 100 ms leaves the two
// survivors no headroom for 300 devices' 6,000 notifications/s (79 us each:
// 0.24 CPU per survivor before any request), so their queues grow without
// bound after the kill; the assertions use a 50 ms quota.
schema::Point faults_point(uint32_t quota_us = 50000) {
  schema::Point p;
  p.set_devices(300);
  p.set_nodes(3);
  p.set_request_rate(200);
  p.set_cpu_quota_us(quota_us);
  p.set_cpu_period_us(100000);
  p.set_memory_limit_mb(512);
  p.set_fleets(1);
  p.set_sampling_interval_ms(50);
  p.set_lifetime_s(300);
  return p;
}

void print_figures(const char* what, const schema::ResultRecord& r) {
  const schema::FaultStats& fs = r.faults();
  const schema::FaultOutcome& f = fs.faults(0);
  std::printf(
      "%s: kill_node err %u timed_out %u (of %u sent until recovery) recovery %.2f s "
      "lb_removed %.2f s | observed %u lost %u reestablished %u notifications_lost %.0f "
      "gap max %.3f s p99 %.3f s | window: sent %u errored %u p99 %.2f ms | registrations by "
      "node %u %u %u\n",
      what, f.requests_err(), f.requests_timed_out(), f.requests_sent(), f.recovery_s(),
      f.lb_removed_after_s(), fs.observed_devices(), fs.observations_lost(),
      fs.observations_reestablished(), fs.notifications_lost(), fs.notification_gap_max_s(),
      fs.notification_gap_p99_s(), r.requests_sent(), r.requests_errored(), r.latency().p99_ms(),
      r.nodes(0).registrations(), r.nodes(1).registrations(), r.nodes(2).registrations());
}

TEST(FaultModel, KillNodeIsRecoveredFromLikeOnTheTestbed) {
  SimParams params;
  auto out = simulate_point(kill_scenario(), faults_point(), 0, 0, params);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const schema::ResultRecord& r = out->record;
  ASSERT_TRUE(r.has_faults());
  const schema::FaultStats& fs = r.faults();
  ASSERT_EQ(fs.faults_size(), 1);
  const schema::FaultOutcome& f = fs.faults(0);
  print_figures("50 ms quota", r);

  EXPECT_EQ(f.fault().kind(), "kill_node");
  EXPECT_EQ(f.error(), "");
  EXPECT_DOUBLE_EQ(f.lb_removed_after_s(), params.lb_removal_delay_s);
  EXPECT_GE(f.recovery_s(), 0);
  EXPECT_LT(f.recovery_s(), 3);
  // Requests to the dead node's devices failed until the takeover ...
  EXPECT_GT(f.requests_err() + f.requests_timed_out(), 0u);
  EXPECT_GT(f.requests_sent(), f.requests_err() + f.requests_timed_out());
  // ... and none of the window's failures came after the recovery.
  EXPECT_EQ(r.requests_errored(), f.requests_err() + f.requests_timed_out());
  EXPECT_EQ(r.requests_answered() + r.requests_errored(), r.requests_sent());

  // Every device stays registered and observed; the dead node's devices
  // notify again through the survivors, which own them all at the end.
  EXPECT_EQ(fs.registrations_before(), 300u);
  EXPECT_EQ(fs.registrations_after(), 300u);
  EXPECT_EQ(fs.registrations_lost(), 0u);
  EXPECT_EQ(fs.observed_devices(), 300u);
  EXPECT_EQ(fs.observations_lost(), 0u);
  EXPECT_EQ(fs.observations_reestablished(), 0u);  // no silence over 2 s
  EXPECT_GT(fs.notification_gap_max_s(), params.lb_removal_delay_s);
  EXPECT_LT(fs.notification_gap_max_s(), 1.0);
  EXPECT_LE(fs.notification_gap_p99_s(), fs.notification_gap_max_s());
  EXPECT_GT(fs.notifications_lost(), 0);
  // Roughly a third of the devices (100) x 20/s x 0.47 s.
  EXPECT_LT(fs.notifications_lost(), 2000);
  EXPECT_NEAR(r.notifications_received() + fs.notifications_lost(), r.fleet().notifications_sent(),
              1e-9);
  EXPECT_EQ(r.nodes(1).registrations(), 0u);
  EXPECT_EQ(r.nodes(0).registrations() + r.nodes(2).registrations(), 300u);
  EXPECT_EQ(fs.timeline_file(), "");
}

// scenarios/faults.yaml's point as it is (25 ms quota): the fault itself
// costs what it costs above, but the overloaded survivors never get their
// p99 back within 2x, so there is no recovery.
TEST(FaultModel, FaultsYamlPointOverloadsTheSurvivors) {
  SimParams params;
  auto out = simulate_point(kill_scenario(), faults_point(25000), 0, 0, params);
  ASSERT_TRUE(out.ok()) << out.error().message;
  const schema::ResultRecord& r = out->record;
  print_figures("25 ms quota (faults.yaml)", r);
  const schema::FaultStats& fs = r.faults();
  EXPECT_DOUBLE_EQ(fs.faults(0).lb_removed_after_s(), params.lb_removal_delay_s);
  EXPECT_GT(fs.faults(0).requests_err(), 0u);
  EXPECT_EQ(fs.faults(0).requests_timed_out(), 0u);
  EXPECT_EQ(fs.observations_lost(), 0u);
  EXPECT_LT(fs.notification_gap_max_s(), 1.0);
  EXPECT_GT(r.latency().p99_ms(), 100);
}

TEST(FaultModel, SameSeedSameRecord) {
  auto s = kill_scenario();
  s.set_arrival(schema::ARRIVAL_POISSON);
  auto a = simulate_point(s, faults_point(), 0, 0, SimParams{});
  auto b = simulate_point(s, faults_point(), 0, 0, SimParams{});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(record_json(a->record), record_json(b->record));
  EXPECT_EQ(a->latency_us, b->latency_us);
}

// The health check's delay is the parameter: a slower one loses more.
TEST(FaultModel, SlowerHealthCheckCostsMore) {
  SimParams fast, slow;
  slow.lb_removal_delay_s = 1.5;
  auto a = simulate_point(kill_scenario(), faults_point(), 0, 0, fast);
  auto b = simulate_point(kill_scenario(), faults_point(), 0, 0, slow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_DOUBLE_EQ(b->record.faults().faults(0).lb_removed_after_s(), 1.5);
  EXPECT_GT(b->record.faults().notifications_lost(), 2 * a->record.faults().notifications_lost());
  EXPECT_GT(b->record.faults().notification_gap_max_s(), 1.5);
  EXPECT_GE(b->record.faults().faults(0).requests_err(),
            a->record.faults().faults(0).requests_err());
}

// A fault after the run is never injected.
TEST(FaultModel, FaultAfterTheRunIsNotInjected) {
  auto s = kill_scenario();
  s.mutable_faults(0)->set_at_s(100);
  auto out = simulate_point(s, faults_point(), 0, 0, SimParams{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  const schema::FaultOutcome& f = out->record.faults().faults(0);
  EXPECT_EQ(f.recovery_s(), -1);
  EXPECT_EQ(f.lb_removed_after_s(), -1);
  EXPECT_EQ(out->record.requests_errored(), 0u);
  EXPECT_EQ(out->record.faults().observations_lost(), 0u);
}

TEST(FaultModel, NoFaultsNoFaultStats) {
  auto s = kill_scenario();
  s.clear_faults();
  auto out = simulate_point(s, faults_point(), 0, 0, SimParams{});
  ASSERT_TRUE(out.ok());
  EXPECT_FALSE(out->record.has_faults());
}

// A fault scenario runs in both modes: kinds the model does not simulate
// are recorded as such, the kill_node beside them is simulated as alone.
TEST(FaultModel, OtherKindsAreRecordedAsNotModelled) {
  auto s = kill_scenario();
  schema::Fault* stop = s.add_faults();
  stop->set_at_s(8);
  stop->set_kind("stop_node");
  stop->set_target("node-3");
  stop->set_duration_s(2);
  schema::Fault* redis = s.add_faults();
  redis->set_at_s(9);
  redis->set_kind("restart_redis");
  auto out = simulate_point(s, faults_point(), 0, 0, SimParams{});
  ASSERT_TRUE(out.ok()) << out.error().message;
  const auto& faults = out->record.faults();
  ASSERT_EQ(faults.faults_size(), 3);
  EXPECT_TRUE(faults.faults(0).error().empty());
  EXPECT_GE(faults.faults(0).recovery_s(), 0);
  for (int i : {1, 2}) {
    EXPECT_NE(faults.faults(i).error().find("not modelled by the simulator"), std::string::npos)
        << faults.faults(i).error();
    EXPECT_EQ(faults.faults(i).recovery_s(), -1);
  }
  auto alone = simulate_point(kill_scenario(), faults_point(), 0, 0, SimParams{});
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->record.requests_answered(), out->record.requests_answered());

  auto far = kill_scenario();
  far.mutable_faults(0)->set_target("node-4");
  auto beyond = simulate_point(far, faults_point(), 0, 0, SimParams{});
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.error().message.find("node-4"), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::sim
