// Cgroups of this machine (as root; skipped otherwise): CFS throttling of a
// busy process, destroy() killing what is inside, leftover removal. Every
// group carries the prefix fogm2m-test-<pid>- and is removed in TearDown,
// also when an assertion failed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "testbed/cgroup.h"
#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::BusyChild;

std::string parent_path_of(const std::string& dir) {
  return std::filesystem::path(dir).parent_path().string();
}

class CgroupRealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to make cgroups";
    auto host = CgroupHost::detect();
    if (!host.ok()) GTEST_SKIP() << "no usable cgroups: " << host.error().message;
    host_ = std::move(*host);
    prefix_ = "fogm2m-test-" + std::to_string(::getpid()) + "-";
  }
  void TearDown() override {
    if (prefix_.empty()) return;
    auto removed = remove_leftover_cgroups(host_, prefix_);
    EXPECT_TRUE(removed.ok()) << removed.error().message;
  }
  bool any_exists(const std::vector<std::string>& dirs) {
    for (const auto& d : dirs) {
      if (std::filesystem::exists(d)) return true;
    }
    return false;
  }

  CgroupHost host_;
  std::string prefix_;
};

// The CPUs of a process, as the kernel says ("Cpus_allowed_list: 1").
std::string cpus_allowed(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Cpus_allowed_list:", 0) == 0) return line.substr(line.find_last_of(" \t") + 1);
  return "";
}

TEST_F(CgroupRealTest, CpusConfineTheProcessToThem) {
  if (host_.version() == CgroupVersion::kV1 && host_.v1_cpuset() == nullptr)
    GTEST_SKIP() << "no cgroup v1 cpuset hierarchy mounted";
  if (::sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two CPUs";
  auto group = Cgroup::create(host_, prefix_ + "run", "pinned", CgroupLimits{0, 100000, 0, "1"});
  ASSERT_TRUE(group.ok()) << group.error().message;
  BusyChild child;
  ASSERT_TRUE(group->add_process(child.pid()).ok());
  EXPECT_EQ(cpus_allowed(child.pid()), "1");
  const std::vector<std::string> dirs = group->directories();
  ASSERT_TRUE(group->destroy().ok());
  EXPECT_FALSE(any_exists(dirs));
}

TEST_F(CgroupRealTest, QuotaThrottlesABusyProcess) {
  auto limited = Cgroup::create(host_, prefix_ + "run", "limited",
                                CgroupLimits{10000, 100000, 256u << 20, ""});
  ASSERT_TRUE(limited.ok()) << limited.error().message;
  auto unlimited = Cgroup::create(host_, prefix_ + "run", "unlimited", CgroupLimits{});
  ASSERT_TRUE(unlimited.ok()) << unlimited.error().message;
  auto before_limited = limited->sample();
  auto before_unlimited = unlimited->sample();
  ASSERT_TRUE(before_limited.ok()) << before_limited.error().message;
  ASSERT_TRUE(before_unlimited.ok()) << before_unlimited.error().message;

  BusyChild slow, fast;
  ASSERT_TRUE(limited->add_process(slow.pid()).ok());
  ASSERT_TRUE(unlimited->add_process(fast.pid()).ok());
  EXPECT_EQ(limited->processes(), std::vector<pid_t>{slow.pid()});
  slow.go();
  fast.go();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto after_limited = limited->sample();
  auto after_unlimited = unlimited->sample();
  ASSERT_TRUE(after_limited.ok()) << after_limited.error().message;
  ASSERT_TRUE(after_unlimited.ok()) << after_unlimited.error().message;

  const double periods = double(after_limited->nr_periods - before_limited->nr_periods);
  const double throttled = double(after_limited->nr_throttled - before_limited->nr_throttled);
  const double cpu_limited = after_limited->cpu_s - before_limited->cpu_s;
  const double cpu_unlimited = after_unlimited->cpu_s - before_unlimited->cpu_s;
  std::printf(
      "limited: %.0f periods, %.0f throttled (ratio %.2f), %.3f s throttled, %.3f s CPU, %llu "
      "bytes; "
      "unlimited: %.3f s CPU\n",
      periods, throttled, periods > 0 ? throttled / periods : 0.0,
      after_limited->throttled_s - before_limited->throttled_s, cpu_limited,
      static_cast<unsigned long long>(after_limited->memory_bytes), cpu_unlimited);
  EXPECT_GT(throttled, 0);
  ASSERT_GT(periods, 0);
  EXPECT_GT(throttled / periods, 0);
  EXPECT_LE(throttled / periods, 1);
  EXPECT_GT(after_limited->throttled_s, before_limited->throttled_s);
  EXPECT_GT(cpu_limited, 0);
  EXPECT_LT(cpu_limited, cpu_unlimited);
  EXPECT_EQ(after_unlimited->nr_throttled, before_unlimited->nr_throttled);
  // The child touched BusyChild::kTouchedBytes in the group. Only the peak
  // is asserted: this machine's v1 memcg uncharges anonymous pages of a
  // running process (usage_in_bytes well below its RSS, sometimes 0).
  EXPECT_GT(after_limited->memory_peak_bytes, 0u);
  EXPECT_GE(after_limited->memory_peak_bytes, after_limited->memory_bytes);

  ASSERT_TRUE(limited->destroy().ok());
  ASSERT_TRUE(unlimited->destroy().ok());
  EXPECT_EQ(slow.wait_for_signal(), SIGKILL);
  EXPECT_EQ(fast.wait_for_signal(), SIGKILL);
}

TEST_F(CgroupRealTest, DestroyKillsTheProcessesAndRemovesTheDirectories) {
  auto group = Cgroup::create(host_, prefix_ + "run", "node1", CgroupLimits{25000, 100000, 0, ""});
  ASSERT_TRUE(group.ok()) << group.error().message;
  const auto dirs = group->directories();
  ASSERT_EQ(dirs.size(), host_.hierarchies().size());
  EXPECT_TRUE(std::filesystem::exists(dirs[0] + "/cgroup.procs"));
  BusyChild child;
  ASSERT_TRUE(group->add_process(child.pid()).ok());
  child.go();
  ASSERT_TRUE(group->destroy().ok());
  EXPECT_EQ(child.wait_for_signal(), SIGKILL);
  EXPECT_FALSE(any_exists(dirs));
  for (const auto& d : dirs) {
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(d).parent_path()))
        << "parent group left: " << d;
  }
  EXPECT_TRUE(group->destroy().ok());  // idempotent
}

TEST_F(CgroupRealTest, ParentStaysWhileAnotherGroupIsInIt) {
  auto a = Cgroup::create(host_, prefix_ + "run", "a", CgroupLimits{});
  auto b = Cgroup::create(host_, prefix_ + "run", "b", CgroupLimits{});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE(a->destroy().ok());
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(b->directories()[0]).parent_path()));
  ASSERT_TRUE(b->destroy().ok());
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(b->directories()[0]).parent_path()));
}

TEST_F(CgroupRealTest, LeftoversOfACrashedRunAreRemoved) {
  // A "crashed run": groups with a live process, never destroyed.
  auto group =
      Cgroup::create(host_, prefix_ + "crashed", "node1", CgroupLimits{50000, 100000, 0, ""});
  ASSERT_TRUE(group.ok()) << group.error().message;
  ASSERT_TRUE(Cgroup::create(host_, prefix_ + "crashed", "node2", CgroupLimits{}).ok());
  BusyChild child;
  ASSERT_TRUE(group->add_process(child.pid()).ok());
  child.go();
  auto removed = remove_leftover_cgroups(host_, prefix_);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, int(host_.hierarchies().size()));  // the parent, in every hierarchy
  EXPECT_EQ(child.wait_for_signal(), SIGKILL);
  EXPECT_FALSE(any_exists(group->directories()));
}

TEST_F(CgroupRealTest, OpenAttachesToAGroupOfThisRun) {
  auto made = Cgroup::create(host_, prefix_ + "run", "node1", CgroupLimits{});
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto opened = Cgroup::open(host_, prefix_ + "run", "node1");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->directories(), made->directories());
  EXPECT_TRUE(opened->sample().ok());
  ASSERT_TRUE(opened->destroy().ok());
  EXPECT_FALSE(any_exists(made->directories()));
}

// A hybrid host (v1 controllers, an empty v2 tree at unified/) shows the v2
// path's error for a controller that is not there, without making anything.
TEST(CgroupRealHybridTest, V2TreeWithoutControllersIsRefused) {
  const std::string unified = "/sys/fs/cgroup/unified";
  if (::geteuid() != 0 || !std::filesystem::exists(unified + "/cgroup.controllers")) {
    GTEST_SKIP() << "no hybrid v2 tree here";
  }
  auto host = CgroupHost::detect(unified);
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->version(), CgroupVersion::kV2);
  const auto& controllers = host->hierarchies()[0].controllers;
  if (std::find(controllers.begin(), controllers.end(), "cpu") != controllers.end()) {
    GTEST_SKIP() << "the v2 tree has the cpu controller";
  }
  const std::string parent = "fogm2m-test-" + std::to_string(::getpid()) + "-hybrid";
  auto group = Cgroup::create(*host, parent, "node1", CgroupLimits{});
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().kind, ErrorKind::kUnsupported) << group.error().message;
  EXPECT_FALSE(std::filesystem::exists(host->hierarchies()[0].own_dir + "/" + parent));
  EXPECT_FALSE(
      std::filesystem::exists(parent_path_of(host->hierarchies()[0].own_dir) + "/" + parent));
}

}  // namespace
}  // namespace fogm2m::testbed
