// Validation: knee detection, and a model validated against its own output
// shows no error; against a different model, the knee moves.
#include "sim/validation.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/cluster_model.h"

namespace fogm2m::sim {
namespace {

TEST(Validation, KneeIsTheFirstRateAboveTwiceTheBase) {
  bool has = false;
  EXPECT_DOUBLE_EQ(knee_rate({{100, 3.5}, {25, 3.0}, {50, 3.1}, {75, 6.1}, {125, 40}}, &has), 75);
  EXPECT_TRUE(has);
  EXPECT_DOUBLE_EQ(knee_rate({{25, 3.0}, {50, 3.1}, {75, 3.2}}, &has), 100);  // one step beyond
  EXPECT_FALSE(has);
}

schema::Scenario scenario() {
  schema::Scenario s;
  s.set_name("validation");
  s.set_warmup_s(1);
  s.set_window_s(5);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(5);
  s.set_request_timeout_s(5);
  return s;
}

std::vector<schema::ResultRecord> curve(const SimParams& params, uint32_t repetitions = 1) {
  std::vector<schema::ResultRecord> out;
  uint32_t i = 0;
  for (double rate : {25.0, 75.0, 125.0, 175.0, 225.0, 275.0}) {
    schema::Point p;
    p.set_devices(100);
    p.set_nodes(1);
    p.set_request_rate(rate);
    p.set_cpu_quota_us(25000);
    p.set_cpu_period_us(100000);
    p.set_fleets(1);
    p.set_sampling_interval_ms(50);
    p.set_lifetime_s(300);
    for (uint32_t rep = 0; rep < repetitions; ++rep) {
      auto r = simulate_point(scenario(), p, i, rep, params);
      EXPECT_TRUE(r.ok());
      if (r.ok()) out.push_back(r->record);
    }
    ++i;
  }
  return out;
}

SimParams heavy() {
  SimParams p;
  p.node_cpu_notification_s = 80e-6;  // 160 ms/s of the 250 ms/s quota on notifications
  p.node_cpu_request_owned_s = 600e-6;
  p.node_cpu_wakeup_s = 0;  // constant costs: the knee comes from the request cost alone
  p.node_cpu_cv = 0;
  return p;
}

TEST(Validation, AModelAgainstItselfHasNoError) {
  const auto measured = curve(heavy());
  auto report = validate(measured, scenario(), heavy(), 2);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->points.size(), measured.size());
  EXPECT_DOUBLE_EQ(report->mean_latency_error, 0);
  EXPECT_DOUBLE_EQ(report->knee_error, 0);
  ASSERT_EQ(report->knees.size(), 1u);
  EXPECT_TRUE(report->knees[0].measured_has_knee);
  const std::string text = format_validation(*report);
  EXPECT_NE(text.find("validation: mean latency error below knee 0.0%, knee error 0.0%"),
            std::string::npos)
      << text;
  EXPECT_EQ(report->points_accepted(), measured.size());
  EXPECT_EQ(report->knees[0].grid_steps, 0);
  EXPECT_TRUE(report->accepted());
  EXPECT_NE(text.find("criterion: 6 of 6 points within"), std::string::npos) << text;
  EXPECT_NE(text.find("1 of 1 knees within one grid step: PASS"), std::string::npos) << text;
}

// Three repetitions of each point whose mean latency is 0.7x, 1x and 1.3x
// the curve's, node CPU and throttling as measured.
std::vector<schema::ResultRecord> spread_out(std::vector<schema::ResultRecord> records) {
  for (auto& r : records) {
    const double factor = r.repetition() == 0 ? 0.7 : r.repetition() == 1 ? 1.0 : 1.3;
    r.mutable_latency()->set_mean_ms(r.latency().mean_ms() * factor);
  }
  return records;
}

TEST(Validation, APointPassesWithinTheWiderOfItsIntervalAndTenPercent) {
  // Against repetitions that agree, 15 % off is outside +-10 %.
  auto tight = curve(heavy(), 3);
  auto off = tight;
  for (auto& r : off) r.mutable_latency()->set_mean_ms(r.latency().mean_ms() * 1.15);
  auto report = validate_against(tight, off);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->points_accepted(), 0u);
  EXPECT_FALSE(report->accepted());
  const auto& band = report->points[0].latency_band;
  EXPECT_NEAR(band.high / band.centre, 1.10, 1e-9);
  EXPECT_NE(format_validation(*report).find(": FAIL"), std::string::npos);

  // Against repetitions 0.7x / 1x / 1.3x apart, the 95 % interval of their
  // mean is wider than +-10 %, and 15 % off is inside it.
  const auto wide = spread_out(curve(heavy(), 3));
  report = validate_against(wide, off);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& wide_band = report->points[0].latency_band;
  EXPECT_GT(wide_band.high / wide_band.centre, 1.15);
  EXPECT_LT(wide_band.low / wide_band.centre, 0.85);
  EXPECT_EQ(report->points_accepted(), report->points.size());
}

TEST(Validation, NodeCpuOutsideItsBandFailsThePoint) {
  const auto measured = curve(heavy(), 2);
  auto second = measured;
  for (auto& r : second)
    for (auto& n : *r.mutable_nodes()) n.set_cpu_s(n.cpu_s() * 1.5);
  auto report = validate_against(measured, second);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->points_accepted(), 0u);
  EXPECT_NEAR(report->node_cpu_error, 0.5, 1e-9);
  EXPECT_FALSE(report->points[0].accepted);
}

TEST(Validation, RepetitionsFoldIntoTheMedianSoOneDisturbedRunDoesNotMoveAPoint) {
  auto measured = curve(heavy(), 3);
  ASSERT_EQ(measured.size(), 18u);
  // The slowest repetition of the lowest rate ran on a slowed machine: it
  // gets slower still, and the median stays where it was.
  auto slowest = std::max_element(
      measured.begin(), measured.begin() + 3,
      [](const auto& a, const auto& b) { return a.latency().mean_ms() < b.latency().mean_ms(); });
  slowest->mutable_latency()->set_mean_ms(slowest->latency().mean_ms() * 5);
  auto report = validate(measured, scenario(), heavy(), 2);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->points.size(), 6u);
  EXPECT_EQ(report->points[0].repetitions, 3u);
  EXPECT_DOUBLE_EQ(report->mean_latency_error, 0);
  EXPECT_DOUBLE_EQ(report->knee_error, 0);
  // The disturbed run shows as measurement spread of its point, not as error.
  EXPECT_GT(report->points[0].measured_spread, 1.0);
  EXPECT_EQ(report->points_repeated, 6u);
  const std::string text = format_validation(*report);
  EXPECT_NE(text.find("measurement spread: repetitions deviate"), std::string::npos) << text;
}

TEST(Validation, RecordsMeasuredOnASlowedMachineAreLeftOut) {
  auto measured = curve(heavy());
  for (auto& r : measured) r.mutable_host()->set_speed_probe_us(110);
  // Point 2 ran while the whole machine was slowed: its probe took 3x as
  // long, and its latency is ten times what the model says.
  measured[2].mutable_host()->set_speed_probe_us(330);
  measured[2].mutable_latency()->set_mean_ms(measured[2].latency().mean_ms() * 10);
  auto report = validate(measured, scenario(), heavy(), 2);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->points.size(), measured.size() - 1);
  EXPECT_DOUBLE_EQ(report->mean_latency_error, 0);
  EXPECT_EQ(report->slowed, "point 2 rep 0 (probe 3.00x, steal 0.0%)");
  EXPECT_NE(format_validation(*report).find("left out, measured on a slowed machine: point 2"),
            std::string::npos);
}

TEST(Validation, ASecondRunOfTheSameScenarioComparesAsRepeatability) {
  const auto first = curve(heavy());
  auto second = first;
  for (auto& r : second) r.mutable_latency()->set_mean_ms(r.latency().mean_ms() * 1.1);
  second.pop_back();  // the second run stopped one point early
  auto report = validate_against(first, second);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->second_sweep);
  EXPECT_EQ(report->points.size(), first.size() - 1);
  EXPECT_EQ(report->points_in_one_sweep_only, 1u);
  EXPECT_NEAR(report->mean_latency_error_below_knee, 0.1, 1e-9);
  EXPECT_DOUBLE_EQ(report->knee_error, 0);
  const std::string text = format_validation(*report);
  EXPECT_NE(text.find("2nd_ms"), std::string::npos) << text;
  EXPECT_NE(text.find("second run"), std::string::npos) << text;
  EXPECT_NE(text.find("skipped, measured in one run only: 1 points"), std::string::npos) << text;
  EXPECT_NE(
      text.find("repeatability: mean latency difference below knee 10.0%, knee difference 0.0%"),
      std::string::npos)
      << text;
}

TEST(Validation, RunsOfDifferentScenariosAreNotCompared) {
  const auto first = curve(heavy());
  auto second = first;
  second[2].mutable_point()->set_request_rate(second[2].point().request_rate() + 1);
  auto report = validate_against(first, second);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(
      report.error().message,
      "validate: point 2 is a different point in the two runs; they are not of the same scenario");
  std::vector<schema::ResultRecord> other_indices = first;
  for (auto& r : other_indices) r.set_point_index(r.point_index() + 100);
  EXPECT_FALSE(validate_against(first, other_indices).ok());
}

TEST(Validation, ASlowedRunIsLeftOutOfEitherSide) {
  auto first = curve(heavy());
  for (auto& r : first) r.mutable_host()->set_speed_probe_us(110);
  auto second = first;
  second[1].mutable_host()->set_speed_probe_us(400);
  second[1].mutable_latency()->set_mean_ms(50);
  auto report = validate_against(first, second);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->points.size(), first.size() - 1);
  EXPECT_DOUBLE_EQ(report->mean_latency_error, 0);
  EXPECT_EQ(report->slowed, "second run: point 1 rep 0 (probe 3.64x, steal 0.0%)");
}

TEST(Validation, ACheaperModelMissesTheKnee) {
  SimParams cheap = heavy();
  cheap.node_cpu_request_owned_s = 40e-6;
  auto report = validate(curve(heavy()), scenario(), cheap, 1);
  ASSERT_TRUE(report.ok());
  EXPECT_GT(report->knee_error, 0.1);
  EXPECT_FALSE(report->knees[0].compared_has_knee);
  // The measured knee is inside the grid; "none" is one step beyond it.
  EXPECT_GE(report->knees[0].grid_steps, 2);
  EXPECT_FALSE(report->knees[0].accepted);
  EXPECT_FALSE(report->accepted());
}

}  // namespace
}  // namespace fogm2m::sim
