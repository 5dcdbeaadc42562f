// The Sampler on a fake tree: files are rewritten between sample_now()
// calls, so every delta and summary figure is known exactly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "testbed/sampler.h"
#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::FakeTree;

std::string net_dev(uint64_t rx_bytes, uint64_t rx_packets, uint64_t tx_bytes,
                    uint64_t tx_packets) {
  return "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n"
         "    lo: 777 7 0 0 0 0 0 0 777 7 0 0 0 0 0 0\n  eth0: " +
         std::to_string(rx_bytes) + " " + std::to_string(rx_packets) + " 0 0 0 0 0 0 " +
         std::to_string(tx_bytes) + " " + std::to_string(tx_packets) + " 0 0 0 0 0 0\n";
}

std::string proc_stat(uint64_t utime_ticks, uint64_t rss_pages) {
  return "77 (redis-server) S 1 77 77 0 -1 0 0 0 0 0 " + std::to_string(utime_ticks) +
         " 0 0 0 20 0 4 0 100 1000 " + std::to_string(rss_pages) +
         " 0 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

std::string proc_status(uint64_t voluntary) {
  return "Name:\tredis-server\nvoluntary_ctxt_switches:\t" + std::to_string(voluntary) +
         "\nnonvoluntary_ctxt_switches:\t999\n";
}

std::string cpu_stat(uint64_t usage_usec, uint64_t periods, uint64_t throttled,
                     uint64_t throttled_usec) {
  return "usage_usec " + std::to_string(usage_usec) + "\nuser_usec 0\nsystem_usec 0\nnr_periods " +
         std::to_string(periods) + "\nnr_throttled " + std::to_string(throttled) +
         "\nthrottled_usec " + std::to_string(throttled_usec) + "\n";
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = CgroupHost::detect(tree_.sys(), tree_.proc());
    ASSERT_TRUE(host.ok()) << host.error().message;
    auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
    ASSERT_TRUE(group.ok()) << group.error().message;
    node1_ = *group;
    tree_.write("proc/77/net/dev", net_dev(1000, 10, 2000, 20));
    tree_.write("proc/77/stat", proc_stat(100, 10));
    tree_.write("proc/77/status", proc_status(5000));
  }
  void set_node1(uint64_t usage_usec, uint64_t periods, uint64_t throttled, uint64_t throttled_usec,
                 uint64_t memory, uint64_t peak) {
    tree_.write(kNode1 + "cpu.stat", cpu_stat(usage_usec, periods, throttled, throttled_usec));
    tree_.write(kNode1 + "memory.current", std::to_string(memory));
    tree_.write(kNode1 + "memory.peak", std::to_string(peak));
  }
  SamplerTarget node_target() const {
    SamplerTarget t;
    t.name = "node1";
    t.cgroup = node1_;
    t.net_pid = 77;
    t.proc_root = tree_.proc();
    return t;
  }
  SamplerTarget redis_target() const {
    SamplerTarget t;
    t.name = "redis";
    t.process_pid = 77;
    t.proc_root = tree_.proc();
    return t;
  }

  const std::string kNode1 = "sys/user.slice/fogm2m-fixture/node1/";
  FakeTree tree_{"v2"};
  Cgroup node1_;
};

TEST_F(CollectorTest, SummaryOfAWindowIsTheDeltaOfItsSamples) {
  Sampler sampler(std::chrono::hours(1));  // never started: samples only when told
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  ASSERT_TRUE(sampler.add_target(redis_target()).ok());

  set_node1(2000000, 400, 100, 500000, 50000000, 60000000);
  auto t0 = sampler.sample_now();
  set_node1(3000000, 500, 150, 750000, 70000000, 90000000);
  tree_.write("proc/77/net/dev", net_dev(6000, 60, 2500, 25));
  tree_.write("proc/77/stat", proc_stat(100 + ::sysconf(_SC_CLK_TCK), 30));
  tree_.write("proc/77/status", proc_status(5250));
  auto t1 = sampler.sample_now();

  auto node = sampler.summarize("node1", t0, t1);
  ASSERT_TRUE(node.ok()) << node.error().message;
  EXPECT_EQ(node->samples, 2u);
  EXPECT_TRUE(node->has_cgroup);
  EXPECT_TRUE(node->has_net);
  EXPECT_FALSE(node->has_process);
  EXPECT_DOUBLE_EQ(node->nr_periods, 100);
  EXPECT_DOUBLE_EQ(node->nr_throttled, 50);
  EXPECT_DOUBLE_EQ(node->throttling_ratio, 0.5);
  EXPECT_DOUBLE_EQ(node->throttled_s, 0.25);
  EXPECT_DOUBLE_EQ(node->cpu_s, 1.0);
  EXPECT_DOUBLE_EQ(node->memory_mean_bytes, 60000000);
  EXPECT_DOUBLE_EQ(node->memory_peak_bytes, 90000000);
  EXPECT_DOUBLE_EQ(node->rx_bytes, 5000);
  EXPECT_DOUBLE_EQ(node->rx_packets, 50);
  EXPECT_DOUBLE_EQ(node->tx_bytes, 500);
  EXPECT_DOUBLE_EQ(node->tx_packets, 5);

  auto redis = sampler.summarize("redis", t0, t1);
  ASSERT_TRUE(redis.ok()) << redis.error().message;
  EXPECT_TRUE(redis->has_process);
  EXPECT_FALSE(redis->has_cgroup);
  EXPECT_DOUBLE_EQ(redis->cpu_s, 1.0);
  const double page = double(::sysconf(_SC_PAGESIZE));
  EXPECT_DOUBLE_EQ(redis->memory_mean_bytes, 20 * page);
  EXPECT_DOUBLE_EQ(redis->memory_peak_bytes, 30 * page);
  EXPECT_DOUBLE_EQ(redis->throttling_ratio, 0);
  EXPECT_DOUBLE_EQ(redis->wakeups, 250);

  EXPECT_EQ(sampler.summarize_all(t0, t1).size(), 2u);
}

TEST_F(CollectorTest, HostStealAndSpeedProbeArePerWindow) {
  Sampler sampler(std::chrono::hours(1), tree_.proc());
  tree_.write("proc/stat", "cpu  100 0 100 800 0 0 0 0 0 0\n");
  auto t0 = sampler.sample_now();
  tree_.write("proc/stat", "cpu  300 0 100 1500 0 0 0 100 0 0\n");  // 1000 ticks, 100 stolen
  auto t1 = sampler.sample_now();
  auto host = sampler.summarize_host(t0, t1);
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->samples, 2u);
  EXPECT_DOUBLE_EQ(host->steal_ratio, 0.1);
  EXPECT_GT(host->speed_probe_us, 0);
  const auto series = sampler.host_series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_DOUBLE_EQ(host->speed_probe_us,
                   std::max(series[0].speed_probe_us, series[1].speed_probe_us));
  EXPECT_EQ(sampler.summarize_host(t1, t1).error().kind, ErrorKind::kNotFound);

  // An unreadable stat file loses the steal, not the probe.
  tree_.write("proc/stat", "garbage\n");
  auto t2 = sampler.sample_now();
  auto later = sampler.summarize_host(t1, t2);
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_DOUBLE_EQ(later->steal_ratio, 0);
  EXPECT_GT(later->speed_probe_us, 0);
}

TEST_F(CollectorTest, CountersThatRestartCountFromZero) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  auto t0 = sampler.sample_now();
  tree_.write("proc/77/net/dev", net_dev(5000, 50, 2000, 20));
  sampler.sample_now();
  // The node restarted in a new namespace: its counters begin again.
  tree_.write("proc/77/net/dev", net_dev(300, 3, 100, 1));
  auto t2 = sampler.sample_now();
  auto s = sampler.summarize("node1", t0, t2);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->samples, 3u);
  EXPECT_DOUBLE_EQ(s->rx_bytes, 4000 + 300);
  EXPECT_DOUBLE_EQ(s->rx_packets, 40 + 3);
  EXPECT_DOUBLE_EQ(s->tx_bytes, 0 + 100);
}

// cgroup v1 cpuacct.usage can read a few microseconds lower than a moment
// before; that is jitter, not a restart of the counter.
TEST_F(CollectorTest, ASmallDropIsJitterNotARestart) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  set_node1(2000000, 100, 0, 0, 1, 1);
  auto t0 = sampler.sample_now();
  set_node1(1999985, 100, 0, 0, 1, 1);
  sampler.sample_now();
  set_node1(2500000, 105, 0, 0, 1, 1);
  auto t2 = sampler.sample_now();
  auto s = sampler.summarize("node1", t0, t2);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_NEAR(s->cpu_s, 0.500015, 1e-9);
  EXPECT_DOUBLE_EQ(s->nr_periods, 5);
}

TEST_F(CollectorTest, NoPeriodsMeansNoThrottling) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  set_node1(1000, 0, 0, 0, 1, 1);
  auto t0 = sampler.sample_now();
  set_node1(2000, 0, 0, 0, 1, 1);
  auto t1 = sampler.sample_now();
  auto s = sampler.summarize("node1", t0, t1);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->throttling_ratio, 0);
  EXPECT_DOUBLE_EQ(s->cpu_s, 0.001);
}

TEST_F(CollectorTest, WindowNeedsTwoSamples) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  auto t0 = sampler.sample_now();
  auto s = sampler.summarize("node1", t0, t0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(sampler.summarize("nobody", t0, t0).ok());
  EXPECT_TRUE(sampler.summarize_all(t0, t0).empty());
}

TEST_F(CollectorTest, FailedReadsAreCountedAndTheRestIsKept) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  std::filesystem::remove(tree_.root() + "/proc/77/net/dev");
  sampler.sample_now();
  auto errors = sampler.errors("node1");
  EXPECT_EQ(errors.count, 1u);
  EXPECT_NE(errors.last.find("net/dev"), std::string::npos);
  auto series = sampler.series("node1");
  ASSERT_EQ(series.size(), 1u);
  EXPECT_TRUE(series[0].cgroup.has_value());
  EXPECT_FALSE(series[0].net.has_value());
}

TEST_F(CollectorTest, TargetsAreAddedAndRemoved) {
  Sampler sampler(std::chrono::hours(1));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  EXPECT_EQ(sampler.add_target(node_target()).error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(sampler.add_target(SamplerTarget{}).error().kind, ErrorKind::kInvalidArgument);
  SamplerTarget empty;
  empty.name = "empty";
  EXPECT_EQ(sampler.add_target(empty).error().kind, ErrorKind::kInvalidArgument);
  sampler.sample_now();
  ASSERT_TRUE(sampler.remove_target("node1").ok());
  EXPECT_EQ(sampler.remove_target("node1").error().kind, ErrorKind::kNotFound);
  sampler.sample_now();
  EXPECT_EQ(sampler.series("node1").size(), 1u);        // kept, no longer growing
  ASSERT_TRUE(sampler.add_target(node_target()).ok());  // the name is free again
  EXPECT_EQ(sampler.target_names(), (std::vector<std::string>{"node1"}));
}

TEST_F(CollectorTest, CsvHasOneRowPerTargetAndInstant) {
  Sampler sampler(std::chrono::hours(1), tree_.proc());
  tree_.write("proc/stat", "cpu  100 0 100 800 0 0 0 7 0 0\n");
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  ASSERT_TRUE(sampler.add_target(redis_target()).ok());
  set_node1(2000000, 400, 100, 500000, 50000000, 60000000);
  sampler.sample_now();
  sampler.sample_now();
  std::ostringstream csv;
  sampler.write_csv(csv);
  std::istringstream in(csv.str());
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(in, line)) lines.push_back(line);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(
      lines[0],
      "target,unix_s,elapsed_s,cpu_s,nr_periods,nr_throttled,throttled_s,memory_bytes,memory_peak_"
      "bytes,"
      "rx_bytes,rx_packets,tx_bytes,tx_packets,process_cpu_s,process_memory_bytes,process_wakeups,"
      "host_total_ticks,host_steal_ticks,speed_probe_us");
  EXPECT_EQ(lines[1].rfind("node1,", 0), 0u);
  EXPECT_NE(lines[1].find(",2.000000,400,100,0.500000,50000000,60000000,1000,10,2000,20,,,,,,"),
            std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[3].rfind("redis,", 0), 0u);
  EXPECT_NE(lines[3].find(",,,,,,,,,,"), std::string::npos) << lines[3];  // no cgroup, no net
  EXPECT_EQ(lines[5].rfind("host,", 0), 0u);
  EXPECT_NE(lines[5].find(",,,,,,,,,,,,,1007,7,"), std::string::npos)
      << lines[5];  // host columns only
  for (const auto& l : lines) EXPECT_EQ(std::count(l.begin(), l.end(), ','), 18) << l;

  const std::string path = tree_.root() + "/series.csv";
  ASSERT_TRUE(sampler.write_csv_file(path).ok());
  EXPECT_EQ(tree_.read("series.csv"), csv.str());
  EXPECT_FALSE(sampler.write_csv_file(tree_.root() + "/no/such/dir/x.csv").ok());
}

TEST_F(CollectorTest, ThreadSamplesUntilStopped) {
  Sampler sampler(std::chrono::milliseconds(5));
  ASSERT_TRUE(sampler.add_target(node_target()).ok());
  sampler.start();
  sampler.start();  // idempotent
  EXPECT_TRUE(sampler.running());
  // Wait (bounded) for a few ticks; no assertion on how long they take.
  for (int i = 0; i < 2000 && sampler.series("node1").size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  sampler.stop();
  sampler.stop();
  EXPECT_FALSE(sampler.running());
  const size_t n = sampler.series("node1").size();
  EXPECT_GE(n, 3u);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(sampler.series("node1").size(), n);  // nothing after stop()
}

}  // namespace
}  // namespace fogm2m::testbed
