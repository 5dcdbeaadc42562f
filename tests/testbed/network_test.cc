// Network part of the testbed on real kernel objects (needs root): named
// namespaces and the thread guard, the LVS-NAT topology, and the nftables
// load balancer: a client in a front namespace reaches the VIP, one source
// port always lands on one node, many ports spread over all nodes, and a
// change of the node set moves only the removed node's clients.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "testbed/cleanup.h"
#include "testbed/command.h"
#include "testbed/load_balancer.h"
#include "testbed/netns.h"
#include "testbed/topology.h"
#include "tests/testbed/testbed_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::inside;

ino_t current_netns_inode() {
  struct stat st {};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

// A UDP socket bound to address:port, created inside `netns`.
int udp_socket(const std::string& netns, const std::string& address, uint16_t port) {
  auto inside = ScopedNetns::enter(netns);
  if (!inside) return -1;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &addr.sin_addr);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Answers every datagram on <address>:5683 inside a node's namespace with
// the node's name: the stand-in for a server node.
class NameEcho {
 public:
  NameEcho(const Host& host) : name_(host.name), fd_(udp_socket(host.netns, host.address, 5683)) {
    if (fd_ >= 0) thread_ = std::thread([this] { serve(); });
  }
  ~NameEcho() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  bool ok() const { return fd_ >= 0; }

 private:
  void serve() {
    char buf[64];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      if (::recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len) < 0)
        continue;
      ::sendto(fd_, name_.data(), name_.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  std::string name_;
  int fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends one datagram from <client>:<port> to VIP:5683 and returns who
// answered ("" on timeout), checking that the answer comes from the VIP.
std::string ask(const Host& client, uint16_t port, const std::string& vip) {
  int fd = udp_socket(client.netns, client.address, port);
  if (fd < 0) return "<bind failed>";
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(5683);
  ::inet_pton(AF_INET, vip.c_str(), &to.sin_addr);
  std::string answer;
  for (int attempt = 0; attempt < 3 && answer.empty(); ++attempt) {
    ::sendto(fd, "?", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) continue;
    char buf[64];
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    ssize_t n = ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n > 0 && from.sin_addr.s_addr == to.sin_addr.s_addr && from.sin_port == to.sin_port) {
      answer.assign(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

TEST(NetnsTest, GuardMovesOnlyThisThreadAndBack) {
  const std::string name = "fm-" + random_run_id() + "-guard";
  ASSERT_TRUE(create_netns(name));
  const ino_t outside = current_netns_inode();
  std::atomic<int> step{0};
  std::atomic<ino_t> other_thread{0};
  std::thread other([&] {  // started before the guard: stays outside
    while (step.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    other_thread = current_netns_inode();
  });
  {
    auto inside = ScopedNetns::enter(name);
    ASSERT_TRUE(inside) << inside.error().message;
    EXPECT_EQ(current_netns_inode(), *netns_inode(name));
    step = 1;
    other.join();
    EXPECT_EQ(other_thread.load(), outside);
  }
  EXPECT_EQ(current_netns_inode(), outside);
  EXPECT_FALSE(create_netns(name));  // exists already
  EXPECT_TRUE(delete_netns(name));
  EXPECT_FALSE(netns_exists(name));
  EXPECT_TRUE(delete_netns(name));  // gone is fine
  EXPECT_FALSE(ScopedNetns::enter(name));
  EXPECT_FALSE(create_netns("../etc"));
}

TEST(LoadBalancerTest, BucketsStayBalancedAndMoveLittle) {
  const std::vector<std::string> three = {"a", "b", "c"};
  auto first = assign_buckets({}, three, 256);
  std::map<std::string, int> count;
  for (const auto& o : first) ++count[o];
  EXPECT_EQ(count["a"], 86);
  EXPECT_EQ(count["b"], 85);
  EXPECT_EQ(count["c"], 85);

  auto without_b = assign_buckets(first, {"a", "c"}, 256);
  count.clear();
  for (size_t i = 0; i < first.size(); ++i) {
    ++count[without_b[i]];
    if (first[i] != "b") {
      EXPECT_EQ(without_b[i], first[i]) << "bucket " << i << " moved";
    }
  }
  EXPECT_EQ(count["a"], 128);
  EXPECT_EQ(count["c"], 128);

  auto with_d = assign_buckets(without_b, {"a", "c", "d"}, 256);
  int moved = 0;
  for (size_t i = 0; i < with_d.size(); ++i) moved += with_d[i] != without_b[i];
  EXPECT_EQ(moved, 85);  // exactly the new node's share

  EXPECT_TRUE(assign_buckets(first, {}, 256)[0].empty());
}

TEST(LoadBalancerTest, PrintsLvsEquivalent) {
  EXPECT_EQ(lvs_commands("10.77.0.1", {5683, 5684}, {"10.78.0.11", "10.78.0.12"}),
            "ipvsadm -A -u 10.77.0.1:5683 -s sh\n"
            "ipvsadm -a -u 10.77.0.1:5683 -r 10.78.0.11:5683 -m\n"
            "ipvsadm -a -u 10.77.0.1:5683 -r 10.78.0.12:5683 -m\n"
            "ipvsadm -A -u 10.77.0.1:5684 -s sh\n"
            "ipvsadm -a -u 10.77.0.1:5684 -r 10.78.0.11:5684 -m\n"
            "ipvsadm -a -u 10.77.0.1:5684 -r 10.78.0.12:5684 -m\n");
}

TEST(NetworkTest, VipStickyPerSourcePortSpreadOverNodesAndNodeSetChanges) {
  const std::string run = random_run_id();
  TopologyConfig config;
  config.prefix = run_netns_prefix(run);
  config.front_network = "10.97.0.0";  // not the defaults: a cluster may be up
  config.back_network = "10.98.0.0";
  auto topology = Topology::create(config);
  ASSERT_TRUE(topology) << topology.error().message;
  EXPECT_EQ(topology->vip(), "10.97.0.1");

  std::vector<Host> nodes;
  for (int i = 1; i <= 3; ++i) {
    auto host = topology->add_host("node" + std::to_string(i), Side::kBack, 10 + i);
    ASSERT_TRUE(host) << host.error().message;
    nodes.push_back(*host);
  }
  auto client = topology->add_host("fleet1", Side::kFront, 11);
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_FALSE(topology->add_host("fleet2", Side::kFront, 11));  // address taken
  EXPECT_FALSE(topology->add_host("much-too-long", Side::kFront, 12));

  // Forwarding on inside the load balancer's namespace only.
  auto forward =
      run_command({"cat", "/proc/sys/net/ipv4/ip_forward"}, inside(topology->lb_netns()));
  ASSERT_TRUE(forward);
  EXPECT_EQ(forward->out, "1\n");
  // Nothing of ours in the root namespace.
  auto root_addrs = run_command({"ip", "-o", "addr"});
  ASSERT_TRUE(root_addrs);
  EXPECT_EQ(root_addrs->out.find("10.97.0."), std::string::npos);
  EXPECT_EQ(root_addrs->out.find("10.98.0."), std::string::npos);

  LoadBalancerConfig lb_config;
  lb_config.netns = topology->lb_netns();
  lb_config.table = run_nft_table(run);
  lb_config.vip = topology->vip();
  auto lb = NftablesLoadBalancer::create(lb_config);
  ASSERT_TRUE(lb) << lb.error().message;
  auto timeout = run_command({"cat", "/proc/sys/net/netfilter/nf_conntrack_udp_timeout"},
                             inside(topology->lb_netns()));
  ASSERT_TRUE(timeout);
  EXPECT_EQ(timeout->out, "300\n");
  ASSERT_TRUE(lb->set_backends({nodes[0].address, nodes[1].address, nodes[2].address}));

  std::vector<std::unique_ptr<NameEcho>> echoes;
  for (const auto& n : nodes) {
    echoes.push_back(std::make_unique<NameEcho>(n));
    ASSERT_TRUE(echoes.back()->ok());
  }

  // One source port: always the same node.
  const std::string first = ask(*client, 40000, topology->vip());
  ASSERT_FALSE(first.empty()) << "no answer through the VIP";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(ask(*client, 40000, topology->vip()), first);

  // Many source ports: every node gets some.
  std::map<uint16_t, std::string> by_port;
  std::map<std::string, int> spread;
  for (uint16_t port = 41000; port < 41090; ++port) {
    by_port[port] = ask(*client, port, topology->vip());
    ++spread[by_port[port]];
  }
  EXPECT_EQ(spread.count(""), 0u);
  for (const auto& n : nodes) EXPECT_GE(spread[n.name], 10) << n.name;

  // node2 leaves: its clients move, everybody else's stay.
  ASSERT_TRUE(lb->set_backends({nodes[0].address, nodes[2].address}));
  for (const auto& [port, was] : by_port) {
    const std::string now = ask(*client, port, topology->vip());
    if (was == "node2") {
      EXPECT_TRUE(now == "node1" || now == "node3") << port << " -> " << now;
    } else {
      EXPECT_EQ(now, was) << "port " << port;
    }
  }
  // node2 is back: it takes over buckets again.
  ASSERT_TRUE(lb->set_backends({nodes[0].address, nodes[2].address, nodes[1].address}));
  std::set<std::string> seen;
  for (uint16_t port = 42000; port < 42060; ++port)
    seen.insert(ask(*client, port, topology->vip()));
  EXPECT_EQ(seen.count("node2"), 1u);

  echoes.clear();
  EXPECT_TRUE(lb->destroy());
  EXPECT_TRUE(topology->destroy());
  EXPECT_TRUE(list_netns(run_netns_prefix(run)).empty());
}

TEST(NetworkTest, TopologyRemovesItselfWhenDestroyed) {
  const std::string run = random_run_id();
  {
    TopologyConfig config;
    config.prefix = run_netns_prefix(run);
    config.front_network = "10.97.1.0";
    config.back_network = "10.98.1.0";
    auto topology = Topology::create(config);
    ASSERT_TRUE(topology) << topology.error().message;
    ASSERT_TRUE(topology->add_host("node1", Side::kBack, 11));
    EXPECT_EQ(list_netns(run_netns_prefix(run)).size(), 2u);
  }
  EXPECT_TRUE(list_netns(run_netns_prefix(run)).empty());
  TopologyConfig bad;
  bad.prefix = "fm-x-";
  bad.front_network = "10.97.1.7";
  EXPECT_FALSE(Topology::create(bad));
}

}  // namespace
}  // namespace fogm2m::testbed
