// Parsers of cgroup v1/v2 files, /proc/<pid>/net/dev and /proc/<pid>/stat.
#include "testbed/cgroup_stats.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "testbed/netdev_stats.h"
#include "testbed/process_stats.h"

namespace fogm2m::testbed {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(FOGM2M_SOURCE_DIR) + "/tests/data/cgroup/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(CgroupStatsTest, FlatKeyedFileParses) {
  auto m = parse_flat_keyed("usage_usec 2500\nnr_periods 4\n\nnr_throttled 1\n", "cpu.stat");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->at("usage_usec"), 2500u);
  EXPECT_EQ(m->at("nr_periods"), 4u);
  EXPECT_EQ(m->at("nr_throttled"), 1u);
}

TEST(CgroupStatsTest, FlatKeyedFileRejectsNonNumbers) {
  auto m = parse_flat_keyed("usage_usec lots\n", "cpu.stat");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().kind, ErrorKind::kMalformed);
  EXPECT_NE(m.error().message.find("cpu.stat"), std::string::npos);
  EXPECT_FALSE(parse_flat_keyed("lonelykey\n", "cpu.stat").ok());
}

TEST(CgroupStatsTest, SingleValue) {
  EXPECT_EQ(*parse_single_value("12750000000\n", "cpuacct.usage"), 12750000000u);
  EXPECT_FALSE(parse_single_value("max\n", "memory.max").ok());
  EXPECT_FALSE(parse_single_value("", "memory.current").ok());
  EXPECT_FALSE(parse_single_value("-1\n", "cpu.cfs_quota_us").ok());
}

TEST(CgroupStatsTest, CpuMax) {
  auto limited = parse_cpu_max("25000 100000\n");
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->quota_us, 25000u);
  EXPECT_EQ(limited->period_us, 100000u);
  auto unlimited = parse_cpu_max("max 100000\n");
  ASSERT_TRUE(unlimited.ok());
  EXPECT_EQ(unlimited->quota_us, 0u);
  EXPECT_FALSE(parse_cpu_max("max").ok());
  EXPECT_FALSE(parse_cpu_max("x 100000").ok());
  EXPECT_FALSE(parse_cpu_max("1000 0").ok());
}

TEST(CgroupStatsTest, ControllersDropPlusSigns) {
  EXPECT_EQ(parse_controllers("cpuset cpu io memory\n"),
            (std::vector<std::string>{"cpuset", "cpu", "io", "memory"}));
  EXPECT_EQ(parse_controllers("+cpu +memory"), (std::vector<std::string>{"cpu", "memory"}));
  EXPECT_TRUE(parse_controllers("\n").empty());
}

TEST(CgroupStatsTest, Procs) {
  EXPECT_EQ(*parse_procs("12\n345\n"), (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(parse_procs("").value().empty());
  EXPECT_FALSE(parse_procs("12\nabc\n").ok());
}

TEST(CgroupStatsTest, ProcSelfCgroupV1AndV2Lines) {
  auto entries = parse_proc_cgroup(fixture("v1/proc/self/cgroup"));
  ASSERT_TRUE(entries.ok()) << entries.error().message;
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[2].hierarchy_id, 4);
  EXPECT_EQ((*entries)[2].controllers, (std::vector<std::string>{"cpu", "cpuacct"}));
  EXPECT_EQ((*entries)[2].path, "/system.slice/testbed.service");
  EXPECT_EQ((*entries)[3].controllers, (std::vector<std::string>{"name=systemd"}));
  EXPECT_TRUE((*entries)[4].controllers.empty());
  EXPECT_EQ((*entries)[4].hierarchy_id, 0);

  auto v2 = parse_proc_cgroup("0::/\n");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->front().path, "/");
  EXPECT_FALSE(parse_proc_cgroup("garbage\n").ok());
  EXPECT_FALSE(parse_proc_cgroup("x:cpu:/a\n").ok());
  EXPECT_FALSE(parse_proc_cgroup("3:cpu:relative\n").ok());
}

TEST(CgroupStatsTest, NetDevSumsEveryInterfaceButLoopback) {
  auto c = parse_net_dev(fixture("proc_net_dev.txt"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rx_bytes, 1000000u + 5000u + 4294967296u);
  EXPECT_EQ(c->rx_packets, 2000u + 50u + 10u);
  EXPECT_EQ(c->tx_bytes, 300000u + 7000u);
  EXPECT_EQ(c->tx_packets, 1500u + 70u);
}

TEST(CgroupStatsTest, NetDevRejectsBrokenLines) {
  const std::string header = "Inter-|\n face |\n";
  EXPECT_FALSE(parse_net_dev(header + "eth0 1 2 3\n").ok());
  EXPECT_FALSE(parse_net_dev(header + "eth0: 1 2 3\n").ok());
  EXPECT_FALSE(parse_net_dev(header + "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x\n").ok());
  auto empty = parse_net_dev(header);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->rx_bytes, 0u);
}

TEST(CgroupStatsTest, ProcStatWithParenthesesInTheName) {
  auto u = parse_proc_stat(fixture("proc_stat.txt"), 100, 4096);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_DOUBLE_EQ(u->cpu_s, (250 + 150) / 100.0);
  EXPECT_EQ(u->memory_bytes, 2048u * 4096u);
  EXPECT_FALSE(parse_proc_stat("12 (x) S 1 2 3", 100, 4096).ok());
  EXPECT_FALSE(parse_proc_stat("no comm here", 100, 4096).ok());
}

TEST(CgroupStatsTest, ProcStatusWakeupsAreTheVoluntarySwitches) {
  const std::string status =
      "Name:\tfogm2m\nnonvoluntary_ctxt_switches:\t7\nThreads:\t1\nvoluntary_ctxt_switches:"
      "\t12345\n";
  auto w = parse_proc_status_wakeups(status);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(*w, 12345u);
  EXPECT_EQ(parse_proc_status_wakeups("nonvoluntary_ctxt_switches:\t7\n").error().kind,
            ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_status_wakeups("voluntary_ctxt_switches:\tmany\n").error().kind,
            ErrorKind::kMalformed);
  EXPECT_EQ(parse_proc_status_wakeups("voluntary_ctxt_switches:\n").error().kind,
            ErrorKind::kMalformed);
}

TEST(CgroupStatsTest, ReadProcessUsageOfThisProcess) {
  auto u = read_process_usage(::getpid());
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_GT(u->memory_bytes, 0u);
  ::usleep(1000);  // blocks once: at least one voluntary switch
  auto later = read_process_usage(::getpid());
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_GT(later->wakeups, 0u);
  EXPECT_EQ(read_process_usage(0).error().kind, ErrorKind::kInvalidArgument);
}

// A child in a fresh network namespace has only the loopback interface;
// traffic over it shows in the file but not in read_net_dev().
TEST(CgroupStatsTest, ReadNetDevExcludesLoopbackOfTheProcessNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network namespace";
  int ready[2], done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    char ok = 'n';
    if (::unshare(CLONE_NEWNET) == 0) {
      int s = ::socket(AF_INET, SOCK_DGRAM, 0);
      ifreq ifr{};
      std::snprintf(ifr.ifr_name, IFNAMSIZ, "lo");
      ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(9);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (s >= 0 && ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0) {
        for (int i = 0; i < 5; ++i) {
          (void)!::sendto(s, "x", 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        }
        ok = 'y';
      }
    }
    (void)!::write(ready[1], &ok, 1);
    char c;
    (void)!::read(done[0], &c, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  std::ifstream in("/proc/" + std::to_string(child) + "/net/dev");
  std::stringstream raw;
  raw << in.rdbuf();
  auto counters = read_net_dev(child);
  (void)!::write(done[1], "x", 1);
  ::waitpid(child, nullptr, 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) ::close(fd);

  ASSERT_EQ(ok, 'y') << "child could not set up its namespace";
  EXPECT_NE(raw.str().find("lo:"), std::string::npos);
  unsigned long long lo_tx_packets = 0;
  const std::string text = raw.str();
  std::sscanf(text.c_str() + text.find("lo:") + 3, "%*u %*u %*u %*u %*u %*u %*u %*u %*u %llu",
              &lo_tx_packets);
  EXPECT_GE(lo_tx_packets, 5u);
  ASSERT_TRUE(counters.ok()) << counters.error().message;
  EXPECT_EQ(counters->rx_packets, 0u);
  EXPECT_EQ(counters->tx_packets, 0u);
  EXPECT_EQ(counters->rx_bytes, 0u);
  EXPECT_EQ(counters->tx_bytes, 0u);
}

TEST(CgroupStatsTest, ReadNetDevOfThisProcessAndOfAMissingOne) {
  auto self = read_net_dev(::getpid());
  ASSERT_TRUE(self.ok()) << self.error().message;
  auto missing = read_net_dev(1, "/nonexistent-proc");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace fogm2m::testbed
