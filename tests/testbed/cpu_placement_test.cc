// cpu_placement: split: CPU lists in the kernel's format, the split of the
// CPUs between nodes and the rest, and pinning this process and restoring it.
#include "testbed/cpu_placement.h"

#include <gtest/gtest.h>

#include <thread>

namespace fogm2m::testbed {
namespace {

TEST(CpuPlacement, ListsInTheKernelsFormat) {
  EXPECT_EQ(cpu_list({0}), "0");
  EXPECT_EQ(cpu_list({0, 1, 2, 3, 6, 8, 9}), "0-3,6,8-9");
}

TEST(CpuPlacement, NodesGetTheUpperHalf) {
  auto two = split_cpus({0, 1});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->nodes, std::vector<int>{1});
  EXPECT_EQ(two->others, std::vector<int>{0});
  auto five = split_cpus({0, 1, 2, 3, 4});
  ASSERT_TRUE(five.ok());
  EXPECT_EQ(cpu_list(five->nodes), "3-4");
  EXPECT_EQ(cpu_list(five->others), "0-2");
  auto one = split_cpus({0});
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.error().message.find("at least 2 CPUs"), std::string::npos);
}

TEST(CpuPlacement, PinningCoversEveryThreadAndIsUndone) {
  const std::vector<int> before = allowed_cpus();
  if (before.size() < 2) GTEST_SKIP() << "needs two CPUs";
  {
    auto pinned = ProcessPinning::pin({before.front()});
    ASSERT_TRUE(pinned.ok()) << pinned.error().message;
    EXPECT_EQ(allowed_cpus(), std::vector<int>{before.front()});
    std::vector<int> in_thread;
    std::thread([&] { in_thread = allowed_cpus(); }).join();
    EXPECT_EQ(in_thread, std::vector<int>{before.front()});
  }
  EXPECT_EQ(allowed_cpus(), before);
}

}  // namespace
}  // namespace fogm2m::testbed
