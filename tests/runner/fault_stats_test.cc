// What a fault cost, computed from a synthetic load timeline: recovery is
// the first second with no failed request, p99 back within 2x and every
// observed device notifying again; gaps and lost observations per device.
#include "runner/fault_stats.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fogm2m::runner {
namespace {

LoadResult ten_seconds() {
  LoadResult load;
  load.timeline.resize(10);
  for (auto& s : load.timeline) {
    s.sent = 10;
    s.answered = 10;
    s.latencies_us.assign(10, 1000);
  }
  // The fault at 5.2 s: three requests of second 5 go unanswered, second 6
  // is slow, second 7 is back to normal.
  load.timeline[5].answered = 7;
  load.timeline[5].timed_out = 3;
  load.timeline[5].latencies_us.assign(7, 1000);
  load.timeline[6].latencies_us.assign(10, 20'000);
  // Device a is silent from 5.0 to 7.5 s and comes back; device b stops at
  // 7.0 s for good.
  for (float t = 0.05f; t < 10; t += 0.1f) {
    if (t < 5.0f || t > 7.5f) load.notifications_by_device["a"].push_back(t);
    if (t < 7.0f) load.notifications_by_device["b"].push_back(t);
  }
  return load;
}

InjectedFault kill_at(double t) {
  InjectedFault f;
  f.fault.set_kind("kill_node");
  f.fault.set_target("node-2");
  f.fault.set_at_s(t);
  f.injected_s = t;
  f.lb_removed_after_s = 0.5;
  return f;
}

TEST(FaultStats, RecoveryRequestsAndGaps) {
  const auto stats = fault_stats(ten_seconds(), {kill_at(5.2)}, 10.0);
  ASSERT_EQ(stats.faults_size(), 1);
  const auto& f = stats.faults(0);
  EXPECT_NEAR(f.recovery_s(), 7 - 5.2, 1e-9);  // second 7: no failures, fast, everyone heard
  EXPECT_EQ(f.requests_sent(), 20u);           // seconds 5 and 6
  EXPECT_EQ(f.requests_timed_out(), 3u);
  EXPECT_EQ(f.requests_err(), 0u);
  EXPECT_EQ(f.lb_removed_after_s(), 0.5);
  EXPECT_EQ(stats.observed_devices(), 2u);
  EXPECT_EQ(stats.observations_reestablished(), 1u);        // a
  EXPECT_EQ(stats.observations_lost(), 1u);                 // b
  EXPECT_NEAR(stats.notification_gap_max_s(), 3.05, 0.01);  // b's silence to the end
  EXPECT_EQ(registrations_lost({"a", "b", "c"}, {"a", "c", "d"}), 1u);
}

TEST(FaultStats, AFaultThatNeverHealsHasNoRecovery) {
  LoadResult load = ten_seconds();
  for (size_t s = 5; s < 10; ++s) load.timeline[s].timed_out = 1;
  const auto stats = fault_stats(load, {kill_at(5.2)}, 10.0);
  EXPECT_EQ(stats.faults(0).recovery_s(), -1);
  EXPECT_EQ(stats.faults(0).requests_sent(), 50u);  // to the end of the run
}

TEST(FaultStats, TheTimelineCsvCarriesTheEvents) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "fogm2m-timeline-test.csv").string();
  ASSERT_TRUE(write_timeline_csv(path, ten_seconds(),
                                 {{5.2, "kill_node node2"}, {5.7, "load balancer: node1 node3"}}));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(path);
  EXPECT_EQ(text.str().substr(0, text.str().find('\n')),
            "second,sent,answered,err,timed_out,p99_ms,notifications,events");
  EXPECT_NE(text.str().find("\n5,10,7,0,3,1,0,\"kill_node node2; load balancer: node1 node3\"\n"),
            std::string::npos)
      << text.str();
}

}  // namespace
}  // namespace fogm2m::runner
