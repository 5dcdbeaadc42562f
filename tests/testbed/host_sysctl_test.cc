// Host-wide sysctls a run raises (host_sysctl.h), on a fake /proc/sys and
// state directory: recorded before they change, shared between runs side by
// side, put back when the last run that wants them ends, left alone when
// someone else changed them since.
#include "testbed/host_sysctl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace fogm2m::testbed {
namespace {

namespace fs = std::filesystem;

class HostSysctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(::testing::TempDir()) /
            ("host-sysctl-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    paths_.proc_sys = (root_ / "proc-sys").string();
    paths_.state_dir = (root_ / "run").string();
    fs::create_directories(root_ / "proc-sys/net/netfilter");
    set(262144);
  }
  void TearDown() override { fs::remove_all(root_); }

  void set(uint64_t value) {
    std::ofstream(root_ / "proc-sys/net/netfilter/nf_conntrack_max") << value << "\n";
  }
  uint64_t value() { return read_host_sysctl(kConntrackMaxKey, paths_).value(); }
  std::function<bool(const std::string&)> alive_runs(std::set<std::string> runs) {
    return [runs](const std::string& run) { return runs.count(run) != 0; };
  }

  fs::path root_;
  HostSysctlPaths paths_;
};

TEST_F(HostSysctlTest, ARaiseIsRecordedAndPutBack) {
  auto raised = raise_host_sysctl("r1", kConntrackMaxKey, 1016384, paths_);
  ASSERT_TRUE(raised) << raised.error().message;
  EXPECT_EQ(raised->before, 262144u);
  EXPECT_EQ(raised->after, 1016384u);
  EXPECT_EQ(value(), 1016384u);
  std::ifstream record(run_sysctl_path("r1", paths_));
  std::string line;
  std::getline(record, line);
  EXPECT_EQ(line, "net.netfilter.nf_conntrack_max 262144 1016384");
  EXPECT_EQ(runs_with_sysctl_records(paths_), std::vector<std::string>{"r1"});

  auto restored = restore_host_sysctls("r1", paths_, alive_runs({}));
  ASSERT_TRUE(restored) << restored.error().message;
  ASSERT_EQ(restored->size(), 1u);
  EXPECT_EQ(restored->front().before, 1016384u);
  EXPECT_EQ(restored->front().after, 262144u);
  EXPECT_EQ(value(), 262144u);
  EXPECT_FALSE(fs::exists(run_sysctl_path("r1", paths_)));
  EXPECT_TRUE(runs_with_sysctl_records(paths_).empty());
  // Nothing left to put back.
  EXPECT_TRUE(restore_host_sysctls("r1", paths_, alive_runs({}))->empty());
}

TEST_F(HostSysctlTest, AHighEnoughValueIsNeitherChangedNorRecorded) {
  auto raised = raise_host_sysctl("r1", kConntrackMaxKey, 100000, paths_);
  ASSERT_TRUE(raised);
  EXPECT_FALSE(raised->changed());
  EXPECT_EQ(value(), 262144u);
  EXPECT_FALSE(fs::exists(run_sysctl_path("r1", paths_)));
}

TEST_F(HostSysctlTest, RunsSideBySideShareTheOriginal) {
  ASSERT_TRUE(raise_host_sysctl("r1", kConntrackMaxKey, 500000, paths_));
  ASSERT_TRUE(raise_host_sysctl("r2", kConntrackMaxKey, 900000, paths_));
  ASSERT_TRUE(raise_host_sysctl("r3", kConntrackMaxKey, 400000, paths_));  // already there
  EXPECT_EQ(value(), 900000u);
  EXPECT_FALSE(fs::exists(run_sysctl_path("r3", paths_)));
  // r2 ends first: r1 still wants its 500000.
  ASSERT_TRUE(restore_host_sysctls("r2", paths_, alive_runs({"r1"})));
  EXPECT_EQ(value(), 500000u);
  // r1 ends: the host's own value, which r2 recorded from r1's record.
  ASSERT_TRUE(restore_host_sysctls("r1", paths_, alive_runs({})));
  EXPECT_EQ(value(), 262144u);
}

TEST_F(HostSysctlTest, ADeadRunsRecordDoesNotKeepTheValueUp) {
  ASSERT_TRUE(raise_host_sysctl("r1", kConntrackMaxKey, 500000, paths_));
  ASSERT_TRUE(raise_host_sysctl("r2", kConntrackMaxKey, 900000, paths_));
  // r1 crashed (its record stays); r2 ends: back to the original at once.
  ASSERT_TRUE(restore_host_sysctls("r2", paths_, alive_runs({})));
  EXPECT_EQ(value(), 262144u);
  // The cleanup of r1 finds its record and removes it; the value stays.
  auto restored = restore_host_sysctls("r1", paths_, alive_runs({}));
  ASSERT_TRUE(restored);
  ASSERT_EQ(restored->size(), 1u);
  EXPECT_FALSE(restored->front().changed());
  EXPECT_EQ(value(), 262144u);
  EXPECT_TRUE(runs_with_sysctl_records(paths_).empty());
}

TEST_F(HostSysctlTest, AValueSomeoneElseRaisedSinceIsLeftAlone) {
  ASSERT_TRUE(raise_host_sysctl("r1", kConntrackMaxKey, 500000, paths_));
  set(2000000);  // an administrator, meanwhile
  auto restored = restore_host_sysctls("r1", paths_, alive_runs({}));
  ASSERT_TRUE(restored);
  EXPECT_EQ(value(), 2000000u);
  EXPECT_FALSE(fs::exists(run_sysctl_path("r1", paths_)));
}

TEST_F(HostSysctlTest, AMissingSettingOrABadRunIsRefusedWithoutARecord) {
  HostSysctlPaths missing = paths_;
  missing.proc_sys = (root_ / "nowhere").string();
  EXPECT_FALSE(raise_host_sysctl("r1", kConntrackMaxKey, 500000, missing));
  EXPECT_FALSE(raise_host_sysctl("bad id!", kConntrackMaxKey, 500000, paths_));
  EXPECT_TRUE(runs_with_sysctl_records(paths_).empty());
  EXPECT_EQ(value(), 262144u);
}

}  // namespace
}  // namespace fogm2m::testbed
