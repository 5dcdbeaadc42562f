// CgroupHost::detect() on fake v1 and v2 trees.
#include <gtest/gtest.h>

#include "testbed/cgroup.h"
#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::FakeTree;

TEST(CgroupHostTest, DetectsV2AndTheOwnGroup) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->version(), CgroupVersion::kV2);
  EXPECT_STREQ(to_string(host->version()), "v2");
  ASSERT_EQ(host->hierarchies().size(), 1u);
  EXPECT_EQ(host->hierarchies()[0].mount_dir, tree.sys());
  EXPECT_EQ(host->hierarchies()[0].own_dir, tree.sys() + "/user.slice/testbed.scope");
  EXPECT_EQ(*host->own_directory("memory"), tree.sys() + "/user.slice/testbed.scope");
}

TEST(CgroupHostTest, TrailingSlashesOfTheRootsAreIgnored) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys() + "/", tree.proc() + "//");
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->cgroup_root(), tree.sys());
  EXPECT_EQ(host->hierarchies()[0].own_dir, tree.sys() + "/user.slice/testbed.scope");
}

TEST(CgroupHostTest, DetectsV1WithACombinedCpuCpuacctMount) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->version(), CgroupVersion::kV1);
  ASSERT_EQ(host->hierarchies().size(), 2u);  // cpu,cpuacct and memory
  const std::string own = "/system.slice/testbed.service";
  EXPECT_EQ(*host->own_directory("cpu"), tree.sys() + "/cpu,cpuacct" + own);
  EXPECT_EQ(*host->own_directory("cpuacct"), tree.sys() + "/cpu,cpuacct" + own);
  EXPECT_EQ(*host->own_directory("memory"), tree.sys() + "/memory" + own);
  EXPECT_FALSE(host->own_directory("blkio").ok());
}

TEST(CgroupHostTest, DetectsV1WithSeparateMounts) {
  FakeTree tree("v1");
  // Rename the combined mount into two separate ones, as on this machine.
  std::filesystem::rename(tree.sys() + "/cpu,cpuacct", tree.sys() + "/cpu");
  std::filesystem::create_directories(tree.sys() + "/cpuacct/system.slice/testbed.service");
  tree.write("proc/self/cgroup",
             "11:memory:/system.slice/testbed.service\n3:cpuacct:/system.slice/testbed.service\n"
             "2:cpu:/system.slice/testbed.service\n0::/\n");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  ASSERT_EQ(host->hierarchies().size(), 3u);
  EXPECT_EQ(*host->own_directory("cpu"), tree.sys() + "/cpu/system.slice/testbed.service");
  EXPECT_EQ(*host->own_directory("cpuacct"), tree.sys() + "/cpuacct/system.slice/testbed.service");
}

TEST(CgroupHostTest, StripsTheRootOfASubtreeMount) {
  FakeTree tree("v2");
  // A container sees only /user.slice of the host's tree at its cgroup root.
  tree.write("proc/self/cgroup", "0::/user.slice/testbed.scope\n");
  tree.write("proc/self/mountinfo",
             "30 22 0:27 /user.slice /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  std::filesystem::create_directories(tree.sys() + "/testbed.scope");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  EXPECT_EQ(host->hierarchies()[0].own_dir, tree.sys() + "/testbed.scope");
}

TEST(CgroupHostTest, MissingControllerIsAnError) {
  FakeTree tree("v1");
  tree.write("proc/self/cgroup", "4:cpu,cpuacct:/system.slice/testbed.service\n0::/\n");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(host.error().message.find("memory"), std::string::npos);
}

TEST(CgroupHostTest, BadProcSelfCgroupIsAnError) {
  FakeTree tree("v2");
  tree.write("proc/self/cgroup", "this is not a cgroup file\n");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().kind, ErrorKind::kMalformed);
  EXPECT_FALSE(CgroupHost::detect("/nonexistent", "/nonexistent").ok());
}

}  // namespace
}  // namespace fogm2m::testbed
