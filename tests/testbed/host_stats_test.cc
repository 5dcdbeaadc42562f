// Host steal from /proc/stat, and the speed probe.
#include "testbed/host_stats.h"

#include <gtest/gtest.h>

#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

TEST(HostStats, StealAndTotalFromTheMachineWideCpuLine) {
  auto t = parse_proc_stat_cpu(
      "cpu  100 20 30 400 5 0 6 9 50 0\ncpu0 50 10 15 200 2 0 3 4 25 0\nintr 12345\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->total, 100u + 20 + 30 + 400 + 5 + 0 + 6 + 9);  // guest is inside user already
  EXPECT_EQ(t->steal, 9u);
}

TEST(HostStats, OldKernelsWithoutStealGiveZero) {
  auto t = parse_proc_stat_cpu("cpu  100 20 30 400\n");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->total, 550u);
  EXPECT_EQ(t->steal, 0u);
}

TEST(HostStats, MalformedStatIsAnError) {
  EXPECT_EQ(parse_proc_stat_cpu("").error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_stat_cpu("cpu0 1 2 3 4\n").error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_stat_cpu("cpu  1 2 3\n").error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_stat_cpu("cpu  1 2 x 4\n").error().kind, ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_stat_cpu("cpu  1 2 3 4x\n").error().kind, ErrorKind::kMalformed);
}

TEST(HostStats, ReadsTheRealMachineAndAFakeTree) {
  auto real = read_host_cpu_ticks();
  ASSERT_TRUE(real.ok()) << real.error().message;
  EXPECT_GT(real->total, 0u);
  test::FakeTree tree{"v2"};
  EXPECT_EQ(read_host_cpu_ticks(tree.proc()).error().kind, ErrorKind::kNotFound);
  tree.write("proc/stat", "cpu  1 2 3 4 5 6 7 8 9 10\n");
  auto fake = read_host_cpu_ticks(tree.proc());
  ASSERT_TRUE(fake.ok()) << fake.error().message;
  EXPECT_EQ(fake->steal, 8u);
}

TEST(HostStats, TheProbeTakesCpuTime) {
  const double us = run_speed_probe_us();
  EXPECT_GT(us, 1.0);  // 100k dependent multiplications cannot be free
  EXPECT_LT(us, 1e6);  // nor take a second of CPU
}

}  // namespace
}  // namespace fogm2m::testbed
