// The cluster state file: written and read back whole; a damaged one is
// refused with the field at fault.
#include "testbed/cluster_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "testbed/process.h"

namespace fogm2m::testbed {
namespace {

ClusterState sample() {
  ClusterState s;
  s.name = "t1";
  s.vip = "10.77.0.1";
  s.lb_netns = "fm-t1-lb";
  s.control_netns = "fm-t1-lb";
  s.nft_table = "fogm2m_t1";
  s.redis = MemberState{
      "redis", "fm-t1-redis", "10.78.0.2", "/var/tmp/redis.log", 4242, 99, "", {}, 0, 0, "", ""};
  s.redis_address = "10.78.0.2:6379";
  s.nodes.push_back(MemberState{"node1",
                                "fm-t1-n1",
                                "10.78.0.3",
                                "/var/tmp/node1.log",
                                4243,
                                100,
                                "fogm2m-t1/node1",
                                {"/sys/fs/cgroup/cpu/fogm2m-t1/node1"},
                                0,
                                0,
                                "",
                                ""});
  s.fleets.push_back(MemberState{"fleet1",
                                 "fm-t1-f1",
                                 "10.77.0.2",
                                 "/var/tmp/fleet1.log",
                                 4244,
                                 101,
                                 "",
                                 {},
                                 1,
                                 50,
                                 "/var/tmp/fleet1.json",
                                 "10.128.0.0/20"});
  s.devices = 50;
  s.dtls = true;
  s.cgroup_version = "v1";
  s.cpu_quota_us = 25000;
  s.cpu_period_us = 100000;
  s.memory_limit_bytes = 512ull << 20;
  s.work_dir = "/var/tmp/fogm2m-t1";
  s.times = {0.5, 0.25, 1.5, 2.0, 4.25};
  return s;
}

TEST(ClusterState, RoundTripsThroughItsJson) {
  const ClusterState s = sample();
  auto back = cluster_state_from_json(to_json(s));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(to_json(*back), to_json(s));
  EXPECT_EQ(back->nodes.at(0).cgroup_dirs.at(0), "/sys/fs/cgroup/cpu/fogm2m-t1/node1");
  EXPECT_EQ(back->fleets.at(0).devices, 50);
  EXPECT_EQ(back->fleets.at(0).source_range, "10.128.0.0/20");
  EXPECT_EQ(back->nodes.at(0).source_range, "");
  EXPECT_EQ(back->redis.pid, 4242);
  EXPECT_DOUBLE_EQ(back->times.total_s, 4.25);
}

TEST(ClusterState, DamagedFilesAreRefusedWithTheField) {
  EXPECT_EQ(cluster_state_from_json("{nope").error().kind, ErrorKind::kMalformed);
  std::string text = to_json(sample());
  const std::string no_vip = std::string(text).replace(text.find("\"vip\""), 5, "\"viq\"");
  EXPECT_NE(cluster_state_from_json(no_vip).error().message.find("\"vip\" is missing"),
            std::string::npos);
  const std::string bad_pid =
      std::string(text).replace(text.find("\"pid\":4243"), 10, "\"pid\":\"x\"");
  EXPECT_NE(
      cluster_state_from_json(bad_pid).error().message.find("nodes[0]: \"pid\" is not an integer"),
      std::string::npos)
      << cluster_state_from_json(bad_pid).error().message;
}

TEST(ClusterState, AMemberIsRunningOnlyAsTheProcessThatWasStarted) {
  MemberState self;
  self.pid = ::getpid();
  self.start_time = process_start_time(self.pid);
  EXPECT_TRUE(self.running());
  self.start_time += 1;  // the pid was reused by another process
  EXPECT_FALSE(self.running());
  EXPECT_FALSE(MemberState{}.running());
}

}  // namespace
}  // namespace fogm2m::testbed
