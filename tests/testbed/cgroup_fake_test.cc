// Cgroup create / set_limits / add_process / sample and leftover removal on
// fake v1 and v2 trees. mkdir in a fake tree makes no interface files, so
// groups the code creates are pre-created with the files it writes; where
// the fixture already holds the group, create() takes it over.
#include <gtest/gtest.h>

#include <vector>

#include "testbed/cgroup.h"
#include "tests/testbed/cgroup_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::FakeTree;

const CgroupLimits kQuarterCpu{25000, 100000, 256u << 20, ""};

TEST(CgroupFakeV2Test, ParentGoesBesideAnOwnGroupThatHoldsProcesses) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", kQuarterCpu);
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->name(), "node1");
  ASSERT_EQ(group->directories().size(), 1u);
  EXPECT_EQ(group->directories()[0], tree.sys() + "/user.slice/fogm2m-fixture/node1");
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/node1/cpu.max"), "25000 100000");
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/node1/memory.max"), "268435456");
  // user.slice lacked cpu for its children; the parent group gets both.
  EXPECT_EQ(tree.read("sys/user.slice/cgroup.subtree_control"), "+cpu");
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/cgroup.subtree_control"), "+cpu +memory");
  EXPECT_EQ(tree.read("sys/cgroup.subtree_control"),
            "cpu memory pids\n");  // already enabled: untouched
}

TEST(CgroupFakeV2Test, ParentGoesBelowAnEmptyOwnGroup) {
  FakeTree tree("v2");
  tree.write("sys/user.slice/testbed.scope/cgroup.procs", "");
  tree.write("sys/user.slice/testbed.scope/cgroup.controllers", "cpu memory pids\n");
  tree.write("sys/user.slice/testbed.scope/fogm2m-run/cgroup.subtree_control", "");
  tree.write("sys/user.slice/testbed.scope/fogm2m-run/cgroup.controllers", "cpu memory\n");
  tree.write("sys/user.slice/testbed.scope/fogm2m-run/n1/cpu.max", "");
  tree.write("sys/user.slice/testbed.scope/fogm2m-run/n1/memory.max", "");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group = Cgroup::create(*host, "fogm2m-run", "n1", CgroupLimits{});
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->directories()[0], tree.sys() + "/user.slice/testbed.scope/fogm2m-run/n1");
  EXPECT_EQ(tree.read("sys/user.slice/testbed.scope/cgroup.subtree_control"), "+cpu +memory");
  EXPECT_EQ(tree.read("sys/user.slice/testbed.scope/fogm2m-run/n1/cpu.max"), "max 100000");
  EXPECT_EQ(tree.read("sys/user.slice/testbed.scope/fogm2m-run/n1/memory.max"), "max");
}

TEST(CgroupFakeV2Test, ControllerNotDelegatedIsAnError) {
  FakeTree tree("v2");
  tree.write("sys/user.slice/cgroup.controllers", "memory pids\n");  // no cpu from the root
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok());
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", kQuarterCpu);
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(group.error().message.find("cpu"), std::string::npos);
}

TEST(CgroupFakeV2Test, SampleReadsCpuStatAndMemory) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok());
  auto node1 = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
  ASSERT_TRUE(node1.ok()) << node1.error().message;
  auto s = node1->sample();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_DOUBLE_EQ(s->cpu_s, 2.5);
  EXPECT_EQ(s->nr_periods, 400u);
  EXPECT_EQ(s->nr_throttled, 100u);
  EXPECT_DOUBLE_EQ(s->throttled_s, 0.75);
  EXPECT_EQ(s->memory_bytes, 52428800u);
  EXPECT_EQ(s->memory_peak_bytes, 73400320u);
  EXPECT_TRUE(s->memory_peak_from_kernel);
  EXPECT_EQ(node1->reset_memory_peak().error().kind, ErrorKind::kUnsupported);

  // node2: no cpu controller (no period counters), no memory.peak.
  auto node2 = Cgroup::create(*host, "fogm2m-fixture", "node2", CgroupLimits{});
  ASSERT_TRUE(node2.ok()) << node2.error().message;
  auto s2 = node2->sample();
  ASSERT_TRUE(s2.ok()) << s2.error().message;
  EXPECT_DOUBLE_EQ(s2->cpu_s, 1.234567);
  EXPECT_EQ(s2->nr_periods, 0u);
  EXPECT_EQ(s2->nr_throttled, 0u);
  EXPECT_EQ(s2->memory_bytes, 1048576u);
  EXPECT_EQ(s2->memory_peak_bytes, 1048576u);
  EXPECT_FALSE(s2->memory_peak_from_kernel);

  tree.write("sys/user.slice/fogm2m-fixture/node2/memory.current", "not a number\n");
  EXPECT_EQ(node2->sample().error().kind, ErrorKind::kMalformed);
}

TEST(CgroupFakeV2Test, OpenFindsAGroupMadeEarlier) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok());
  const std::string before = tree.read("sys/user.slice/fogm2m-fixture/node1/cpu.max");
  auto group = Cgroup::open(*host, "fogm2m-fixture", "node1");
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->directories()[0], tree.sys() + "/user.slice/fogm2m-fixture/node1");
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/node1/cpu.max"), before);  // nothing written
  EXPECT_EQ(group->sample()->nr_periods, 400u);
  EXPECT_EQ(Cgroup::open(*host, "fogm2m-fixture", "node9").error().kind, ErrorKind::kNotFound);
}

TEST(CgroupFakeV2Test, AddProcessAndProcesses) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
  ASSERT_TRUE(group.ok());
  ASSERT_TRUE(group->add_process(31337).ok());
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/node1/cgroup.procs"), "31337");
  EXPECT_EQ(group->processes(), (std::vector<pid_t>{31337}));
  EXPECT_EQ(group->add_process(0).error().kind, ErrorKind::kInvalidArgument);
}

TEST(CgroupFakeV2Test, BadNamesAndLimitsAreRefused) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  EXPECT_EQ(Cgroup::create(*host, "fogm2m-fixture", "../escape", {}).error().kind,
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(Cgroup::create(*host, "", "node1", {}).error().kind, ErrorKind::kInvalidArgument);
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->set_limits(CgroupLimits{500, 100000, 0, ""}).error().kind,
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(group->set_limits(CgroupLimits{0, 10, 0, ""}).error().kind,
            ErrorKind::kInvalidArgument);
}

TEST(CgroupFakeV2Test, LeftoversBelowBesideAndAtTheRootAreRemoved) {
  FakeTree tree("v2");
  // Empty directories: the fake tree's rmdir then works as the kernel's does.
  for (const char* dir :
       {"sys/fogm2m-lo-a", "sys/user.slice/fogm2m-lo-b",
        "sys/user.slice/testbed.scope/fogm2m-lo-c/node1", "sys/user.slice/other-group"}) {
    std::filesystem::create_directories(tree.root() + "/" + dir);
  }
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok());
  auto removed = remove_leftover_cgroups(*host, "fogm2m-lo-");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 3);
  EXPECT_FALSE(tree.exists("sys/fogm2m-lo-a"));
  EXPECT_FALSE(tree.exists("sys/user.slice/fogm2m-lo-b"));
  EXPECT_FALSE(tree.exists("sys/user.slice/testbed.scope/fogm2m-lo-c"));
  EXPECT_TRUE(tree.exists("sys/user.slice/other-group"));
  EXPECT_TRUE(tree.exists("sys/user.slice/fogm2m-fixture/node1/cpu.stat"));
  EXPECT_EQ(remove_leftover_cgroups(*host, "").error().kind, ErrorKind::kInvalidArgument);
}

TEST(CgroupFakeV1Test, CreateWritesLimitsInEveryHierarchy) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group =
      Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{10000, 50000, 1u << 30, ""});
  ASSERT_TRUE(group.ok()) << group.error().message;
  const std::string cpu = "sys/cpu,cpuacct/system.slice/testbed.service/fogm2m-fixture/node1/";
  const std::string mem = "sys/memory/system.slice/testbed.service/fogm2m-fixture/node1/";
  ASSERT_EQ(group->directories().size(), 2u);
  EXPECT_EQ(group->directories()[0], tree.root() + "/" + cpu.substr(0, cpu.size() - 1));
  EXPECT_EQ(tree.read(cpu + "cpu.cfs_quota_us"), "10000");
  EXPECT_EQ(tree.read(cpu + "cpu.cfs_period_us"), "50000");
  EXPECT_EQ(tree.read(mem + "memory.limit_in_bytes"), "1073741824");

  ASSERT_TRUE(group->set_limits(CgroupLimits{}).ok());
  EXPECT_EQ(tree.read(cpu + "cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(tree.read(cpu + "cpu.cfs_period_us"), "100000");
  EXPECT_EQ(tree.read(mem + "memory.limit_in_bytes"), "-1");

  ASSERT_TRUE(group->add_process(31337).ok());
  EXPECT_EQ(tree.read(cpu + "cgroup.procs"), "31337");
  EXPECT_EQ(tree.read(mem + "cgroup.procs"), "31337");

  ASSERT_TRUE(group->reset_memory_peak().ok());
  EXPECT_EQ(tree.read(mem + "memory.max_usage_in_bytes"), "0");
}

TEST(CgroupFakeV1Test, SampleReadsCpuacctCpuStatAndMemory) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
  ASSERT_TRUE(group.ok()) << group.error().message;
  auto s = group->sample();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_DOUBLE_EQ(s->cpu_s, 12.75);
  EXPECT_EQ(s->nr_periods, 1000u);
  EXPECT_EQ(s->nr_throttled, 250u);
  EXPECT_DOUBLE_EQ(s->throttled_s, 3.5);
  EXPECT_EQ(s->memory_bytes, 104857600u);
  EXPECT_EQ(s->memory_peak_bytes, 157286400u);
  EXPECT_TRUE(s->memory_peak_from_kernel);
}

TEST(CgroupFakeV1Test, OpenNeedsTheGroupInEveryHierarchy) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  auto group = Cgroup::open(*host, "fogm2m-fixture", "node1");
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_DOUBLE_EQ(group->sample()->cpu_s, 12.75);
  std::filesystem::remove_all(tree.sys() +
                              "/memory/system.slice/testbed.service/fogm2m-fixture/node1");
  EXPECT_EQ(Cgroup::open(*host, "fogm2m-fixture", "node1").error().kind, ErrorKind::kNotFound);
}

TEST(CgroupFakeV1Test, MissingKernelFileIsNotCreated) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  // A fresh group in a fake tree has no interface files: set_limits fails
  // instead of making them up.
  auto group = Cgroup::create(*host, "fogm2m-fixture", "fresh", CgroupLimits{});
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(tree.exists("sys/cpu,cpuacct/system.slice/testbed.service/fogm2m-fixture/fresh"));
  EXPECT_FALSE(tree.exists("sys/memory/system.slice/testbed.service/fogm2m-fixture/fresh"));
}

TEST(CgroupFakeV1Test, LeftoversAreRemovedInEveryHierarchy) {
  FakeTree tree("v1");
  for (const char* dir :
       {"sys/cpu,cpuacct/fogm2m-lo-1/node1", "sys/memory/system.slice/testbed.service/fogm2m-lo-2",
        "sys/memory/fogm2m-keep"}) {
    std::filesystem::create_directories(tree.root() + "/" + dir);
  }
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  auto removed = remove_leftover_cgroups(*host, "fogm2m-lo-");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 2);
  EXPECT_FALSE(tree.exists("sys/cpu,cpuacct/fogm2m-lo-1"));
  EXPECT_FALSE(tree.exists("sys/memory/system.slice/testbed.service/fogm2m-lo-2"));
  EXPECT_TRUE(tree.exists("sys/memory/fogm2m-keep"));
}

// A v1 tree with a cpuset hierarchy mounted: the own group may use CPUs 0-3
// of memory node 0; the kernel files of the groups a test makes exist empty,
// as the kernel makes them.
void add_v1_cpuset(const FakeTree& tree, const std::vector<std::string>& groups) {
  tree.write("proc/self/cgroup",
             tree.read("proc/self/cgroup") + "5:cpuset:/system.slice/testbed.service\n");
  const std::string own = "sys/cpuset/system.slice/testbed.service/";
  tree.write(own + "cpuset.cpus", "0-3\n");
  tree.write(own + "cpuset.mems", "0\n");
  for (const std::string& g : groups)
    for (const char* file : {"cpuset.cpus", "cpuset.mems", "cgroup.procs"})
      tree.write(own + g + "/" + file, "");
}

TEST(CgroupFakeV1Test, CpusPutTheGroupInTheCpusetHierarchy) {
  FakeTree tree("v1");
  add_v1_cpuset(tree, {"fogm2m-fixture", "fogm2m-fixture/node1"});
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  ASSERT_NE(host->v1_cpuset(), nullptr);
  auto group =
      Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{25000, 100000, 0, "1"});
  ASSERT_TRUE(group.ok()) << group.error().message;
  const std::string parent = "sys/cpuset/system.slice/testbed.service/fogm2m-fixture/";
  // A v1 cpuset group takes no process before it has CPUs and memory
  // nodes: the parent gets the own group's, the group its own CPU.
  EXPECT_EQ(tree.read(parent + "cpuset.cpus"), "0-3");
  EXPECT_EQ(tree.read(parent + "cpuset.mems"), "0");
  EXPECT_EQ(tree.read(parent + "node1/cpuset.mems"), "0");
  EXPECT_EQ(tree.read(parent + "node1/cpuset.cpus"), "1");
  ASSERT_EQ(group->directories().size(), 3u);
  EXPECT_EQ(group->directories()[2], tree.root() + "/" + parent + "node1");
  ASSERT_TRUE(group->add_process(31337).ok());
  EXPECT_EQ(tree.read(parent + "node1/cgroup.procs"), "31337");
  // Found again by open(), with its cpuset.
  auto opened = Cgroup::open(*host, "fogm2m-fixture", "node1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->directories().size(), 3u);
}

TEST(CgroupFakeV1Test, WithoutCpusTheCpusetHierarchyIsLeftAlone) {
  FakeTree tree("v1");
  add_v1_cpuset(tree, {});
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group = Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{});
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->directories().size(), 2u);
  EXPECT_FALSE(tree.exists("sys/cpuset/system.slice/testbed.service/fogm2m-fixture"));
  // And a group made without CPUs cannot be given some later.
  EXPECT_EQ(group->set_limits(CgroupLimits{0, 100000, 0, "1"}).error().kind,
            ErrorKind::kInvalidArgument);
}

TEST(CgroupFakeV1Test, CpusWithoutACpusetHierarchyAreRefused) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group = Cgroup::create(*host, "fogm2m-fresh", "node1", CgroupLimits{0, 100000, 0, "1"});
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(group.error().message.find("cpuset"), std::string::npos);
  // Refused before anything was made in the other hierarchies.
  EXPECT_FALSE(tree.exists("sys/cpu,cpuacct/system.slice/testbed.service/fogm2m-fresh"));
  EXPECT_FALSE(tree.exists("sys/memory/system.slice/testbed.service/fogm2m-fresh"));
}

TEST(CgroupFakeV1Test, LeftoversInTheCpusetHierarchyAreRemoved) {
  FakeTree tree("v1");
  add_v1_cpuset(tree, {});
  std::filesystem::create_directories(tree.root() +
                                      "/sys/cpuset/system.slice/testbed.service/fogm2m-lo-1/node1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  auto removed = remove_leftover_cgroups(*host, "fogm2m-lo-");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(tree.exists("sys/cpuset/system.slice/testbed.service/fogm2m-lo-1"));
}

TEST(CgroupFakeV2Test, CpusEnableTheCpusetControllerAndSetTheCpus) {
  FakeTree tree("v2");
  tree.write("sys/user.slice/cgroup.controllers", "cpuset cpu memory pids\n");
  tree.write("sys/user.slice/fogm2m-fixture/cgroup.controllers", "cpuset cpu memory\n");
  tree.write("sys/user.slice/fogm2m-fixture/node1/cpuset.cpus", "");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  auto group =
      Cgroup::create(*host, "fogm2m-fixture", "node1", CgroupLimits{25000, 100000, 0, "2-3"});
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/cgroup.subtree_control"),
            "+cpu +memory +cpuset");
  EXPECT_EQ(tree.read("sys/user.slice/fogm2m-fixture/node1/cpuset.cpus"), "2-3");
}

// A container's group, made by its runtime where the testbed never looks
// (podman's cgroupfs manager: libpod_parent/libpod-<id>), found from its pid.
TEST(CgroupFakeV1Test, OfProcessFindsAContainersGroupInEveryHierarchy) {
  FakeTree tree("v1");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  tree.write("proc/4242/cgroup",
             "12:pids:/libpod_parent/libpod-abc\n11:memory:/libpod_parent/libpod-abc\n"
             "4:cpu,cpuacct:/libpod_parent/libpod-abc\n0::/libpod_parent/libpod-abc\n");
  tree.write("sys/cpu,cpuacct/libpod_parent/libpod-abc/cpuacct.usage", "2000000000\n");
  tree.write("sys/cpu,cpuacct/libpod_parent/libpod-abc/cpu.stat",
             "nr_periods 10\nnr_throttled 4\nthrottled_time 500000000\n");
  tree.write("sys/memory/libpod_parent/libpod-abc/memory.usage_in_bytes", "1048576\n");
  tree.write("sys/memory/libpod_parent/libpod-abc/memory.max_usage_in_bytes", "2097152\n");
  auto group = Cgroup::of_process(*host, 4242);
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->name(), "libpod-abc");
  EXPECT_EQ(group->parent_name(), "libpod_parent");
  ASSERT_EQ(group->directories().size(), 2u);
  EXPECT_EQ(group->directories()[0], tree.sys() + "/cpu,cpuacct/libpod_parent/libpod-abc");
  auto s = group->sample();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_DOUBLE_EQ(s->cpu_s, 2.0);
  EXPECT_EQ(s->nr_throttled, 4u);
  EXPECT_EQ(s->memory_peak_bytes, 2097152u);
  EXPECT_EQ(Cgroup::of_process(*host, 4243).error().kind, ErrorKind::kNotFound);
  std::filesystem::remove_all(tree.sys() + "/memory/libpod_parent");
  EXPECT_EQ(Cgroup::of_process(*host, 4242).error().kind, ErrorKind::kNotFound);
}

TEST(CgroupFakeV2Test, OfProcessFindsAContainersGroup) {
  FakeTree tree("v2");
  auto host = CgroupHost::detect(tree.sys(), tree.proc());
  ASSERT_TRUE(host.ok()) << host.error().message;
  tree.write("proc/4242/cgroup", "0::/machine.slice/libpod-abc.scope/container\n");
  tree.write("sys/machine.slice/libpod-abc.scope/container/cpu.stat",
             "usage_usec 1500000\nnr_periods 8\nnr_throttled 2\nthrottled_usec 100000\n");
  tree.write("sys/machine.slice/libpod-abc.scope/container/memory.current", "4096\n");
  auto group = Cgroup::of_process(*host, 4242);
  ASSERT_TRUE(group.ok()) << group.error().message;
  EXPECT_EQ(group->name(), "container");
  ASSERT_EQ(group->directories().size(), 1u);
  auto s = group->sample();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_DOUBLE_EQ(s->cpu_s, 1.5);
  EXPECT_EQ(s->nr_periods, 8u);
  EXPECT_EQ(s->memory_bytes, 4096u);
}

}  // namespace
}  // namespace fogm2m::testbed
