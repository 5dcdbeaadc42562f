// The Sampler's thread on a real cgroup of this machine (as root; skipped
// otherwise): a busy process under a 10 % quota shows up throttled in the
// window's summary and in the CSV.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "testbed/sampler.h"
#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::BusyChild;
using test::FakeTree;

TEST(CollectorRealTest, SamplerSummarisesAThrottledGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";
  auto host = CgroupHost::detect();
  if (!host.ok()) GTEST_SKIP() << "no usable cgroups: " << host.error().message;
  const std::string prefix = "fogm2m-test-" + std::to_string(::getpid()) + "-";
  struct Cleanup {
    const CgroupHost& host;
    const std::string& prefix;
    ~Cleanup() { (void)remove_leftover_cgroups(host, prefix); }
  } cleanup{*host, prefix};

  auto group =
      Cgroup::create(*host, prefix + "collector", "node1", CgroupLimits{10000, 100000, 0, ""});
  ASSERT_TRUE(group.ok()) << group.error().message;
  BusyChild child;
  ASSERT_TRUE(group->add_process(child.pid()).ok());

  Sampler sampler(std::chrono::milliseconds(100));
  SamplerTarget target;
  target.name = "node1";
  target.cgroup = *group;
  target.net_pid = child.pid();
  target.process_pid = child.pid();
  ASSERT_TRUE(sampler.add_target(target).ok());
  child.go();
  sampler.start();
  auto start = sampler.sample_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto end = sampler.sample_now();
  sampler.stop();

  auto s = sampler.summarize("node1", start, end);
  ASSERT_TRUE(s.ok()) << s.error().message;
  std::printf(
      "%zu samples over %.2f s: ratio %.2f (%.0f/%.0f), throttled %.3f s, cpu %.3f s, memory mean "
      "%.0f "
      "peak %.0f, rx %.0f B tx %.0f B\n",
      s->samples, s->window_s, s->throttling_ratio, s->nr_throttled, s->nr_periods, s->throttled_s,
      s->cpu_s, s->memory_mean_bytes, s->memory_peak_bytes, s->rx_bytes, s->tx_bytes);
  EXPECT_GE(s->samples, 2u);
  EXPECT_TRUE(s->has_cgroup);
  EXPECT_TRUE(s->has_net);
  EXPECT_TRUE(s->has_process);
  EXPECT_GT(s->nr_throttled, 0);
  EXPECT_GT(s->throttling_ratio, 0);
  EXPECT_LE(s->throttling_ratio, 1);
  EXPECT_GT(s->throttled_s, 0);
  EXPECT_GT(s->cpu_s, 0);
  EXPECT_GT(s->memory_peak_bytes, 0);  // see the note on memcg v1 in cgroup_real_test.cc
  EXPECT_GE(s->memory_peak_bytes, s->memory_mean_bytes);
  EXPECT_EQ(sampler.errors("node1").count, 0u) << sampler.errors("node1").last;

  FakeTree scratch("v2");  // a temporary directory for the CSV
  const std::string csv = scratch.root() + "/series.csv";
  ASSERT_TRUE(sampler.write_csv_file(csv).ok());
  std::ifstream in(csv);
  size_t rows = 0;
  for (std::string line; std::getline(in, line);) ++rows;
  EXPECT_EQ(rows, 1 + sampler.series("node1").size() +
                      sampler.host_series().size());  // header, node1, host

  ASSERT_TRUE(group->destroy().ok());
  EXPECT_EQ(child.wait_for_signal(), SIGKILL);
}

}  // namespace
}  // namespace fogm2m::testbed
