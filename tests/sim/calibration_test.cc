// Calibration recovers known parameters from results the simulator itself
// produced with them.
#include "sim/calibration.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/cluster_model.h"

namespace fogm2m::sim {
namespace {

SimParams truth() {
  SimParams p;
  p.node_cpu_notification_s = 22e-6;
  p.node_cpu_request_owned_s = 55e-6;
  p.node_cpu_request_ignored_s = 7e-6;
  p.node_cpu_dtls_datagram_s = 6e-6;
  p.node_cpu_wakeup_s = 30e-6;
  p.node_cpu_cv = 0;  // even costs: the least squares see exact sums
  p.network_hop_latency_s = 80e-6;
  p.node_memory_base_bytes = 9e6;
  p.node_memory_per_registration_bytes = 4000;
  p.node_memory_per_observation_bytes = 1000;
  return p;
}

schema::Scenario synthetic_scenario(schema::Arrival arrival) {
  schema::Scenario s;
  s.set_name("synthetic");
  s.set_warmup_s(1);
  s.set_window_s(5);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(7);
  s.set_arrival(arrival);
  return s;
}

// A point of the synthetic sweeps: one fleet of observed devices sampled
// every 50 ms, 300 s lifetime, a 100 ms CPU period.
schema::Point synthetic_point(uint32_t devices, uint32_t nodes, double rate, bool dtls,
                              uint32_t cpu_quota_us) {
  schema::Point p;
  p.set_devices(devices);
  p.set_nodes(nodes);
  p.set_request_rate(rate);
  p.set_dtls(dtls);
  p.set_cpu_quota_us(cpu_quota_us);
  p.set_cpu_period_us(100000);
  p.set_fleets(1);
  p.set_sampling_interval_ms(50);
  p.set_lifetime_s(300);
  return p;
}

std::vector<schema::ResultRecord> synthetic_records(const SimParams& params) {
  const schema::Scenario s = synthetic_scenario(schema::ARRIVAL_POISSON);
  std::vector<schema::ResultRecord> out;
  uint32_t index = 0;
  for (uint32_t devices : {20u, 60u, 120u})
    for (uint32_t nodes : {1u, 2u, 3u})
      for (bool dtls : {false, true})
        for (double rate : {20.0, 100.0, 250.0}) {
          auto r = simulate_point(s, synthetic_point(devices, nodes, rate, dtls, 25000), index++, 0,
                                  params);
          EXPECT_TRUE(r.ok());
          if (r.ok()) out.push_back(r->record);
        }
  return out;
}

TEST(Calibration, RecoversCostsFromSimulatedResults) {
  const SimParams t = truth();
  const auto records = synthetic_records(t);
  ASSERT_EQ(records.size(), 54u);
  auto report = calibrate(records, SimParams{});  // starts from the defaults
  ASSERT_TRUE(report.ok()) << report.error().message;
  const SimParams& f = report->params;
  EXPECT_NEAR(f.node_cpu_notification_s / t.node_cpu_notification_s, 1, 0.03);
  EXPECT_NEAR(f.node_cpu_request_owned_s / t.node_cpu_request_owned_s, 1, 0.05);
  EXPECT_NEAR(f.node_cpu_request_ignored_s / t.node_cpu_request_ignored_s, 1, 0.08);
  EXPECT_NEAR(f.node_cpu_dtls_datagram_s / t.node_cpu_dtls_datagram_s, 1, 0.05);
  EXPECT_NEAR(f.node_cpu_wakeup_s / t.node_cpu_wakeup_s, 1, 0.05);
  EXPECT_NEAR(f.network_hop_latency_s / t.network_hop_latency_s, 1, 0.05);
  EXPECT_NEAR(f.node_memory_base_bytes / t.node_memory_base_bytes, 1, 0.01);
  EXPECT_NEAR((f.node_memory_per_registration_bytes + f.node_memory_per_observation_bytes) / 5000,
              1, 0.01);
  EXPECT_GT(report->cpu_r_squared, 0.99);
  // Every point has the same lifetime and sampling interval: the update
  // cost cannot be told from the notification cost and keeps its prior.
  EXPECT_NE(std::find(report->kept.begin(), report->kept.end(), "node_cpu_registration_s"),
            report->kept.end());
}

// A DTLS-only sweep cannot tell the DTLS record's cost from the others
// (every row has it in the same proportion); fitted together with a plain
// sweep, each simulated with its own scenario, it comes back.
TEST(Calibration, APlainAndADtlsRunTogetherTellTheDtlsRecordCostApart) {
  const SimParams t = truth();
  auto sweep = [&](bool dtls, const schema::Scenario& s) {
    MeasuredRun run;
    run.scenario = s;
    uint32_t index = 0;
    for (uint32_t devices : {20u, 60u, 120u})
      for (uint32_t nodes : {1u, 2u})
        for (double rate : {20.0, 100.0, 250.0}) {
          auto r =
              simulate_point(s, synthetic_point(devices, nodes, rate, dtls, 25000), index++, 0, t);
          EXPECT_TRUE(r.ok());
          if (r.ok()) run.records.push_back(r->record);
        }
    return run;
  };
  schema::Scenario plain = synthetic_scenario(schema::ARRIVAL_POISSON);
  schema::Scenario secure = plain;
  secure.set_name("synthetic-dtls");
  const MeasuredRun dtls_run = sweep(true, secure);
  auto alone = calibrate_runs({dtls_run}, SimParams{});
  ASSERT_TRUE(alone.ok()) << alone.error().message;
  EXPECT_NE(std::find(alone->kept.begin(), alone->kept.end(), "node_cpu_dtls_datagram_s"),
            alone->kept.end());

  auto together = calibrate_runs({sweep(false, plain), dtls_run}, SimParams{});
  ASSERT_TRUE(together.ok()) << together.error().message;
  EXPECT_NE(std::find(together->fitted.begin(), together->fitted.end(), "node_cpu_dtls_datagram_s"),
            together->fitted.end());
  EXPECT_NEAR(together->params.node_cpu_dtls_datagram_s / t.node_cpu_dtls_datagram_s, 1, 0.1);
  EXPECT_NEAR(together->params.node_cpu_notification_s / t.node_cpu_notification_s, 1, 0.05);
  EXPECT_GT(together->cpu_samples, alone->cpu_samples);
}

// With the scenario, the Redis round trip (from the wakeups) and the cost
// variation (from the throttling ratios) come back too.
TEST(Calibration, RecoversRoundTripAndCostVariationBySimulating) {
  SimParams t = truth();
  t.node_redis_round_trip_s = 60e-6;
  t.node_cpu_cv = 1.0;
  const schema::Scenario s = synthetic_scenario(schema::ARRIVAL_CONSTANT);
  std::vector<schema::ResultRecord> records;
  uint32_t index = 0;
  for (uint32_t nodes : {1u, 2u})
    for (double rate : {50.0, 200.0, 400.0, 600.0, 800.0}) {
      auto r = simulate_point(s, synthetic_point(20, nodes, rate, false, 10000), index++, 0, t);
      ASSERT_TRUE(r.ok());
      records.push_back(r->record);
    }
  // Whatever cost variation the prior has, the fit comes back to the same.
  SimParams uneven;
  uneven.node_cpu_cv = 3;
  auto report = calibrate(records, SimParams{}, &s);
  auto from_uneven = calibrate(records, uneven, &s);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_TRUE(from_uneven.ok()) << from_uneven.error().message;
  EXPECT_DOUBLE_EQ(from_uneven->params.node_cpu_cv, report->params.node_cpu_cv);
  EXPECT_DOUBLE_EQ(from_uneven->params.node_redis_round_trip_s,
                   report->params.node_redis_round_trip_s);
  EXPECT_NEAR(report->params.node_cpu_wakeup_s / t.node_cpu_wakeup_s, 1, 0.1);
  EXPECT_NEAR(report->params.node_redis_round_trip_s / t.node_redis_round_trip_s, 1, 0.15);
  EXPECT_NEAR(report->params.node_cpu_cv, 1.0, 0.26);
}

TEST(Calibration, RecordsMeasuredOnASlowedMachineAreLeftOut) {
  auto records = synthetic_records(truth());
  for (auto& r : records) r.mutable_host()->set_speed_probe_us(110);
  auto clean = calibrate(records, SimParams{});
  ASSERT_TRUE(clean.ok()) << clean.error().message;
  // A slowed machine charged one point's nodes ten times their CPU.
  records[5].mutable_host()->set_speed_probe_us(300);
  for (auto& n : *records[5].mutable_nodes()) n.set_cpu_s(n.cpu_s() * 10);
  auto report = calibrate(records, SimParams{});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->slowed, "point 5 rep 0 (probe 2.73x, steal 0.0%)");
  EXPECT_EQ(report->cpu_samples, clean->cpu_samples - records[5].nodes_size());
  EXPECT_NEAR(report->params.node_cpu_notification_s / clean->params.node_cpu_notification_s, 1,
              0.02);
}

TEST(Calibration, NoUsableRecordsIsAnError) {
  std::vector<schema::ResultRecord> none(1);
  none[0].set_error("deployment failed");
  EXPECT_FALSE(calibrate(none, SimParams{}).ok());
  EXPECT_FALSE(calibrate({}, SimParams{}).ok());
}

}  // namespace
}  // namespace fogm2m::sim
