// A whole emulated cluster on real kernel objects (root): Redis, server
// nodes under cgroup quotas in their own namespaces, the nftables load
// balancer and a device fleet. Checks that devices spread over the nodes and
// stay on their node, that devices sharing a socket each register from
// their own address, that a tighter quota throttles more, and that
// teardown - normal or after a crash - leaves nothing behind.
#include "testbed/deployment.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "io/address_range.h"
#include "store/keys.h"
#include "testbed/cleanup.h"
#include "testbed/command.h"
#include "testbed/host_sysctl.h"
#include "testbed/netns.h"
#include "tests/testbed/testbed_test_util.h"

namespace fogm2m::testbed {
namespace {

using test::inside;
using test::read_text;

const std::string kFogm2m = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";

bool fleet_available() {
  auto help = run_command({kFogm2m, "fleet", "--help"});
  return help && help->exit_code == 0;
}

DeploymentConfig base_config(int nodes) {
  DeploymentConfig config;
  config.run_id = random_run_id();
  config.nodes = nodes;
  config.fogm2m_binary = kFogm2m;
  config.work_dir = ::testing::TempDir() + "/fogm2m-deploy-" + config.run_id;
  // Away from the defaults, so a `fogm2m cluster up` on this host does not clash.
  config.front_network = "10.87.0.0";
  config.back_network = "10.88.0.0";
  return config;
}

// Removes a deployment's work directory (logs) when the test ends, also on failure.
struct WorkDirRemover {
  std::string dir;
  ~WorkDirRemover() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// Everything of run `run` that could be left on the host.
struct Traces {
  std::vector<std::string> namespaces;
  std::vector<std::string> cgroup_dirs;
  std::vector<pid_t> live_pids;
  bool nft_table_in_root = false;
  bool lock_file = false;
};

Traces traces_of(const std::string& run, const std::vector<std::string>& cgroup_dirs,
                 const std::vector<pid_t>& pids) {
  Traces t;
  t.namespaces = list_netns(run_netns_prefix(run));
  for (const auto& d : cgroup_dirs) {
    if (std::filesystem::exists(d)) t.cgroup_dirs.push_back(d);
    const std::string parent = std::filesystem::path(d).parent_path().string();
    if (std::filesystem::exists(parent)) t.cgroup_dirs.push_back(parent);
  }
  for (pid_t pid : pids) {
    if (process_alive(pid)) t.live_pids.push_back(pid);
  }
  auto tables = run_command({"nft", "list", "tables"});
  t.nft_table_in_root = tables && tables->out.find(run_nft_table(run)) != std::string::npos;
  t.lock_file = std::filesystem::exists(run_lock_path(run));
  return t;
}

void expect_clean(const Traces& t) {
  EXPECT_TRUE(t.namespaces.empty()) << "namespace left: " << t.namespaces.front();
  EXPECT_TRUE(t.cgroup_dirs.empty()) << "cgroup left: " << t.cgroup_dirs.front();
  EXPECT_TRUE(t.live_pids.empty()) << "process left: " << t.live_pids.front();
  EXPECT_FALSE(t.nft_table_in_root);
  EXPECT_FALSE(t.lock_file);
}

void collect(const Member& m, std::vector<std::string>& dirs, std::vector<pid_t>& pids) {
  if (m.cgroup)
    dirs.insert(dirs.end(), m.cgroup->directories().begin(), m.cgroup->directories().end());
  if (m.pid() > 0) pids.push_back(m.pid());
}

TEST(DeploymentTest, NodesJoinAndDownLeavesNothing) {
  DeploymentConfig config = base_config(2);
  WorkDirRemover remove_logs{config.work_dir};
  auto deployed = Deployment::up(config);
  ASSERT_TRUE(deployed) << deployed.error().message;
  Deployment& d = **deployed;
  std::printf("deploy 2 nodes: network %.3f s, redis %.3f s, nodes %.3f s, total %.3f s\n",
              d.times().network_s, d.times().redis_s, d.times().nodes_s, d.times().total_s);

  auto redis = d.redis();
  ASSERT_TRUE(redis) << redis.error().message;
  auto joined = redis->cluster_nodes();
  ASSERT_TRUE(joined);
  EXPECT_EQ(joined->size(), 2u);
  EXPECT_EQ(list_netns(run_netns_prefix(d.run_id())).size(), 4u);  // lb, redis, node1, node2
  auto table =
      run_command({"nft", "list", "table", "ip", run_nft_table(d.run_id())}, inside(d.lb_netns()));
  ASSERT_TRUE(table);
  EXPECT_EQ(table->exit_code, 0);
  EXPECT_NE(table->out.find(d.nodes()[1].address), std::string::npos);  // in the bucket map

  std::vector<std::string> dirs;
  std::vector<pid_t> pids;
  collect(d.redis_member(), dirs, pids);
  for (const auto& n : d.nodes()) collect(n, dirs, pids);
  ASSERT_EQ(pids.size(), 3u);
  for (const auto& dir : dirs) EXPECT_TRUE(std::filesystem::exists(dir)) << dir;
  // Quota in place (v1 file name; v2 has cpu.max).
  const std::string cpu_dir = d.nodes()[0].cgroup->directories()[0];
  if (std::filesystem::exists(cpu_dir + "/cpu.cfs_quota_us")) {
    EXPECT_EQ(read_text(cpu_dir + "/cpu.cfs_quota_us"), "25000\n");
  }

  // Changing the node set: a third node joins the balancer, node1 leaves it.
  auto added = d.add_node();
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_EQ(*added, 3);
  EXPECT_EQ(d.load_balancer().backends().size(), 3u);
  collect(*d.node(3), dirs, pids);
  ASSERT_TRUE(d.remove_node(1));
  EXPECT_EQ(d.load_balancer().backends(),
            (std::vector<std::string>{d.node(2)->address, d.node(3)->address}));
  EXPECT_FALSE(netns_exists(run_netns_prefix(d.run_id()) + "node1"));

  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(d.down());
  std::printf("down: %.3f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  expect_clean(traces_of(d.run_id(), dirs, pids));
}

// The status line of a GET of `target` with a bearer token, sent from
// inside `netns` (a blocking socket made there); empty when no answer.
std::string http_status_line(const std::string& netns, const std::string& address, uint16_t port,
                             const std::string& target, const std::string& token) {
  auto inside = ScopedNetns::enter(netns);
  if (!inside) return {};
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &at.sin_addr);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0) {
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                token + "\r\nConnection: close\r\n\r\n";
    (void)!::write(fd, request.data(), request.size());
    char buf[512];
    ssize_t n;
    while (answer.find("\r\n") == std::string::npos && (n = ::read(fd, buf, sizeof buf)) > 0)
      answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

// `via: gateway`: the gateway runs in the control namespace, in its own
// cgroup, with its token in a private file, answers there, and goes with the
// run, by down() and by the cleanup of a crashed run alike.
TEST(DeploymentTest, TheGatewayRunsInTheControlNamespaceAndGoesWithTheRun) {
  for (const bool crash : {false, true}) {
    SCOPED_TRACE(crash ? "crashed run, removed by cleanup" : "down()");
    DeploymentConfig config = base_config(1);
    config.front_network = crash ? "10.87.3.0" : "10.87.2.0";
    config.back_network = crash ? "10.88.3.0" : "10.88.2.0";
    config.gateway = true;
    WorkDirRemover remove_logs{config.work_dir};
    auto deployed = Deployment::up(config);
    ASSERT_TRUE(deployed) << deployed.error().message;
    Deployment& d = **deployed;
    const Member* g = d.gateway_member();
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(g->netns, d.control_netns());
    EXPECT_EQ(d.gateway_port(), 8080);
    auto inode = netns_inode(d.control_netns());
    ASSERT_TRUE(inode);
    struct stat ns {};
    ASSERT_EQ(::stat(("/proc/" + std::to_string(g->pid()) + "/ns/net").c_str(), &ns), 0);
    EXPECT_EQ(ns.st_ino, *inode) << "the gateway lives in the control namespace";
    ASSERT_TRUE(g->cgroup);
    EXPECT_NE(g->cgroup->processes(), std::vector<pid_t>{}) << "the gateway is in its cgroup";
    // The token: random, at least 16 characters, in a file only root reads.
    EXPECT_GE(d.gateway_token().size(), 16u);
    struct stat token {};
    const std::string token_file = config.work_dir + "/gateway.token";
    ASSERT_EQ(::stat(token_file.c_str(), &token), 0);
    EXPECT_EQ(token.st_mode & 0777, 0600u);
    EXPECT_EQ(read_text(token_file), d.gateway_token() + "\n");
    // Reachable where the load generator is, with the token only.
    EXPECT_EQ(http_status_line(d.control_netns(), d.gateway_host(), d.gateway_port(),
                               "/api/clients", d.gateway_token()),
              "HTTP/1.1 200 OK");
    EXPECT_EQ(http_status_line(d.control_netns(), d.gateway_host(), d.gateway_port(),
                               "/api/clients", "wrong-token-0123456789")
                  .rfind("HTTP/1.1 401", 0),
              0u);

    std::vector<std::string> dirs;
    std::vector<pid_t> pids;
    collect(d.redis_member(), dirs, pids);
    for (const auto& n : d.nodes()) collect(n, dirs, pids);
    collect(*g, dirs, pids);
    ASSERT_EQ(pids.size(), 3u);
    if (crash) {
      d.release();  // forgotten, still running: what a crashed runner leaves
      auto host = CgroupHost::detect();
      ASSERT_TRUE(host);
      CleanupReport removed = remove_run(d.run_id(), &*host);
      EXPECT_TRUE(removed.errors.empty()) << removed.errors.front();
      EXPECT_EQ(removed.processes, 3) << "redis, node1 and the gateway";
    } else {
      EXPECT_TRUE(d.down());
      EXPECT_FALSE(std::filesystem::exists(token_file));
    }
    expect_clean(traces_of(d.run_id(), dirs, pids));
  }
}

TEST(DeploymentTest, CrashedRunIsRemovedByCleanup) {
  DeploymentConfig config = base_config(1);
  config.detach = true;  // like `cluster up`: the processes outlive the deployer
  config.front_network = "10.87.1.0";
  config.back_network = "10.88.1.0";
  WorkDirRemover remove_logs{config.work_dir};
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  pid_t deployer = ::fork();
  ASSERT_GE(deployer, 0);
  if (deployer == 0) {
    ::close(report[0]);
    auto deployed = Deployment::up(config);
    std::string text;
    if (deployed) {
      std::vector<std::string> dirs;
      std::vector<pid_t> pids;
      collect((*deployed)->redis_member(), dirs, pids);
      collect((*deployed)->nodes()[0], dirs, pids);
      for (pid_t p : pids) text += std::to_string(p) + " ";
      text += "|";
      for (const auto& dir : dirs) text += dir + " ";
    } else {
      text = "error " + deployed.error().message;
    }
    text += "\n";
    (void)!::write(report[1], text.data(), text.size());
    for (;;) ::pause();  // crash happens here (SIGKILL from the parent)
  }
  ::close(report[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.find('\n') == std::string::npos && (n = ::read(report[0], buf, sizeof(buf))) > 0)
    text.append(buf, n);
  ::close(report[0]);
  ::kill(deployer, SIGKILL);
  ::waitpid(deployer, nullptr, 0);
  ASSERT_FALSE(text.starts_with("error")) << text;
  std::vector<pid_t> pids;
  std::vector<std::string> dirs;
  std::istringstream in(text.substr(0, text.find('|')));
  for (pid_t p; in >> p;) pids.push_back(p);
  std::istringstream dir_in(text.substr(text.find('|') + 1));
  for (std::string d; dir_in >> d;) dirs.push_back(d);
  ASSERT_EQ(pids.size(), 2u);

  // What a crash leaves: processes, namespaces, cgroups, a lock nobody holds.
  Traces before = traces_of(config.run_id, dirs, pids);
  EXPECT_EQ(before.live_pids.size(), 2u);
  EXPECT_EQ(before.namespaces.size(), 3u);
  EXPECT_FALSE(run_alive(config.run_id));
  auto runs = list_runs();
  EXPECT_NE(std::find(runs.begin(), runs.end(), config.run_id), runs.end());

  auto host = CgroupHost::detect();
  ASSERT_TRUE(host);
  CleanupReport removed = remove_run(config.run_id, &*host);
  EXPECT_TRUE(removed.errors.empty()) << removed.errors.front();
  EXPECT_EQ(removed.processes, 2);
  EXPECT_EQ(removed.namespaces, 3);
  EXPECT_GE(removed.cgroups, 1);
  expect_clean(traces_of(config.run_id, dirs, pids));
}

// Last "key=N" in a node's log (its --stats-interval lines).
long last_counter(const std::string& log, const std::string& key) {
  std::regex pattern(" " + key + "=([0-9]+)");
  long value = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), pattern);
       it != std::sregex_iterator(); ++it) {
    value = std::stol((*it)[1].str());
  }
  return value;
}

TEST(DeploymentTest, DevicesSpreadOverNodesAndUpdatesStayOnTheirNode) {
  if (!fleet_available()) GTEST_SKIP() << "fogm2m fleet not built";
  DeploymentConfig config = base_config(3);
  config.devices = 300;
  config.fleets = 1;
  config.device_lifetime_s = 4;  // Updates at 90% of it: several during the test
  config.fleet_ramp_s = 0.5;
  config.node_args = {"--stats-interval", "1"};
  config.front_network = "10.87.2.0";
  config.back_network = "10.88.2.0";
  WorkDirRemover remove_logs{config.work_dir};
  auto deployed = Deployment::up(config);
  ASSERT_TRUE(deployed) << deployed.error().message;
  Deployment& d = **deployed;
  std::printf(
      "deploy 3 nodes + 300 devices: network %.3f s, redis %.3f s, nodes %.3f s, fleets %.3f s, "
      "total %.3f s\n",
      d.times().network_s, d.times().redis_s, d.times().nodes_s, d.times().fleets_s,
      d.times().total_s);

  auto redis = d.redis();
  ASSERT_TRUE(redis);
  auto first_owners = redis->owners();
  ASSERT_TRUE(first_owners);
  ASSERT_EQ(first_owners->size(), 300u);
  std::map<std::string, int> owned;
  for (const auto& [ep, node] : *first_owners) ++owned[node];
  for (const auto& n : d.nodes()) {
    std::printf("%s owns %d devices\n", n.name.c_str(), owned[n.name]);
    EXPECT_GE(owned[n.name], 60) << n.name;   // 20%
    EXPECT_LE(owned[n.name], 138) << n.name;  // 46%
  }

  // A CoAP client in the fleet's namespace reaches a node through the VIP.
  auto probe = run_command(
      {"coap-client-notls", "-B", "3", "-m", "get", "coap://" + d.vip() + "/.well-known/core"},
      inside(d.fleets()[0].netns));
  ASSERT_TRUE(probe) << probe.error().message;
  EXPECT_FALSE(probe->out.empty() && probe->err.empty()) << "no answer from the VIP";

  // Wait for every device to have updated at least once.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  boost::json::object stats;
  while (std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    auto v = boost::json::parse(read_text(d.fleets()[0].stats_path), ec);
    if (!ec && v.is_object()) stats = v.as_object();
    if (stats.contains("updates") && stats["updates"].to_number<int64_t>() >= 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(stats.contains("updates"));
  EXPECT_GE(stats["updates"].to_number<int64_t>(), 300);
  // No Update was refused (a refused one makes the device register again).
  EXPECT_EQ(stats["registrations"].to_number<int64_t>(), 300);
  EXPECT_EQ(stats["errors"].to_number<int64_t>(), 0);

  auto later_owners = redis->owners();
  ASSERT_TRUE(later_owners);
  EXPECT_EQ(*later_owners, *first_owners);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // one more stats line per node
  long updates_seen = 0;
  for (const auto& n : d.nodes()) {
    const std::string log = read_text(n.log_path);
    const long upd = last_counter(log, "upd");
    EXPECT_EQ(last_counter(log, "reg"), owned[n.name]) << n.name;
    EXPECT_GE(upd, owned[n.name]) << n.name << " saw fewer updates than it owns devices";
    updates_seen += upd;
  }
  std::printf("fleet updates %lld, node updates %ld\n",
              static_cast<long long>(stats["updates"].to_number<int64_t>()), updates_seen);
  EXPECT_TRUE(d.down());
}

// Devices sharing sockets (`fleet --source-range`): 3,000 plain-CoAP
// devices of one fleet register through the real load balancer, each from
// its own address of the fleet's range (dev-n from range + n) on the
// fleet's one socket, spread over both nodes. The run asks for more
// conntrack entries than the host allows, so the host's limit is raised for
// it and put back, by down() and by the cleanup of a crashed run alike;
// neither leaves a namespace, route, table or record behind.
TEST(DeploymentTest, SharedSocketsEveryDeviceRegistersFromItsOwnAddress) {
  if (!fleet_available()) GTEST_SKIP() << "fogm2m fleet not built";
  // Read where conntrack is loaded (any load balancer loads it); else the
  // limit is left as it is and only the rest is checked.
  const Result<uint64_t> conntrack_max = read_host_sysctl(kConntrackMaxKey);
  for (const bool crash : {false, true}) {
    SCOPED_TRACE(crash ? "crashed run, removed by cleanup" : "down()");
    DeploymentConfig config = base_config(2);
    config.front_network = crash ? "10.87.5.0" : "10.87.4.0";
    config.back_network = crash ? "10.88.5.0" : "10.88.4.0";
    config.devices = 3000;
    config.fleets = 1;
    config.fleet_ramp_s = 1;
    config.device_lifetime_s = 600;
    config.shared_sockets = SharedSockets::kAlways;
    if (conntrack_max) config.conntrack_entries = *conntrack_max + 4096;
    WorkDirRemover remove_logs{config.work_dir};
    const auto start = std::chrono::steady_clock::now();
    auto deployed = Deployment::up(config);
    ASSERT_TRUE(deployed) << deployed.error().message;
    Deployment& d = **deployed;
    std::printf("deploy 2 nodes + 3000 devices sharing a socket: %.3f s (fleets %.3f s)\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                d.times().fleets_s);
    ASSERT_TRUE(d.shares_sockets());
    ASSERT_EQ(d.fleets().size(), 1u);
    const Member& fleet = d.fleets()[0];
    EXPECT_EQ(fleet.source_range, "10.128.0.0/20");
    auto range = io::AddressRange::parse(fleet.source_range);
    ASSERT_TRUE(range);

    // Raised for the run, and recorded.
    if (conntrack_max) {
      EXPECT_EQ(read_host_sysctl(kConntrackMaxKey).value(), *conntrack_max + 4096);
      ASSERT_TRUE(d.conntrack_max());
      EXPECT_EQ(d.conntrack_max()->before, *conntrack_max);
      EXPECT_TRUE(std::filesystem::exists(run_sysctl_path(d.run_id())));
    }
    // The range is local in the fleet's namespace and routed there by the balancer.
    auto local = run_command({"ip", "route", "show", "table", "local"}, inside(fleet.netns));
    ASSERT_TRUE(local);
    EXPECT_NE(local->out.find("local 10.128.0.0/20 dev lo"), std::string::npos) << local->out;
    auto routes = run_command({"ip", "route"}, inside(d.lb_netns()));
    ASSERT_TRUE(routes);
    EXPECT_NE(routes->out.find("10.128.0.0/20 via " + fleet.address), std::string::npos)
        << routes->out;
    // A handful of descriptors for 3,000 devices.
    size_t fds = 0;
    for (const auto& entry :
         std::filesystem::directory_iterator("/proc/" + std::to_string(fleet.pid()) + "/fd")) {
      (void)entry;
      ++fds;
    }
    EXPECT_LT(fds, 64u);

    // Every device registered from its own address: dev-n from range + n,
    // all at the one port of the fleet's one socket.
    auto redis = d.redis();
    ASSERT_TRUE(redis);
    auto keys = redis->keys(std::string(store::keys::kRegistrationPattern));
    ASSERT_TRUE(keys);
    ASSERT_EQ(keys->size(), 3000u);
    std::set<std::string> addresses;
    std::set<int64_t> ports;
    int wrong = 0;
    for (size_t i = 0; i < keys->size(); i += 500) {
      std::vector<std::string> args = {"MGET"};
      args.insert(args.end(), keys->begin() + static_cast<long>(i),
                  keys->begin() + static_cast<long>(std::min(keys->size(), i + 500)));
      auto values = redis->command(args);
      ASSERT_TRUE(values);
      for (const auto& v : values->elements) {
        boost::system::error_code ec;
        auto reg = boost::json::parse(v.text, ec);
        ASSERT_FALSE(ec) << v.text;
        const auto& o = reg.as_object();
        const std::string ep(o.at("ep").as_string());
        const std::string address(o.at("regAddr").as_string());
        const int n = std::stoi(ep.substr(4));  // "dev-<n>"
        if (address != range->at(static_cast<uint64_t>(n)).to_string() && ++wrong <= 5) {
          ADD_FAILURE() << ep << " registered from " << address;
        }
        addresses.insert(address);
        ports.insert(o.at("regPort").to_number<int64_t>());
      }
    }
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(addresses.size(), 3000u);
    EXPECT_EQ(ports.size(), 1u) << "one socket, one port";
    // Spread over both nodes by the balancer's hash of address:port.
    auto owners = redis->owners();
    ASSERT_TRUE(owners);
    std::map<std::string, int> owned;
    for (const auto& [ep, node] : *owners) ++owned[node];
    for (const auto& n : d.nodes()) {
      EXPECT_GE(owned[n.name], 1200) << n.name;
      EXPECT_LE(owned[n.name], 1800) << n.name;
    }
    // One conntrack entry per device in the balancer's namespace.
    auto count =
        run_command({"cat", "/proc/sys/net/netfilter/nf_conntrack_count"}, inside(d.lb_netns()));
    ASSERT_TRUE(count);
    EXPECT_GE(std::stol(count->out), 3000);

    std::vector<std::string> dirs;
    std::vector<pid_t> pids;
    collect(d.redis_member(), dirs, pids);
    for (const auto& n : d.nodes()) collect(n, dirs, pids);
    collect(fleet, dirs, pids);
    if (crash) {
      d.release();  // forgotten, still running: what a crashed runner leaves
      auto host = CgroupHost::detect();
      ASSERT_TRUE(host);
      CleanupReport removed = remove_run(d.run_id(), &*host);
      EXPECT_TRUE(removed.errors.empty()) << removed.errors.front();
      EXPECT_EQ(removed.processes, 4) << "redis, two nodes and the fleet";
      EXPECT_EQ(removed.sysctls, conntrack_max ? 1 : 0);
    } else {
      EXPECT_TRUE(d.down());
    }
    expect_clean(traces_of(d.run_id(), dirs, pids));
    EXPECT_FALSE(std::filesystem::exists(run_sysctl_path(d.run_id())));
    if (conntrack_max) {
      EXPECT_EQ(read_host_sysctl(kConntrackMaxKey).value(), *conntrack_max);
    }
  }
}

// Where the fleets' device ranges go: one aligned block per fleet, all of
// one size (at least a /20), the block too small is an error.
TEST(DeploymentTest, FleetDeviceRangesAreAlignedBlocksOfTheDeviceNetwork) {
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 1, 3000, 1).value(), "10.128.0.0/20");
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 3, 3000, 3).value(), "10.128.32.0/20");
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 1, 1000000, 1).value(), "10.128.0.0/12");
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 4, 250000, 4).value(), "10.140.0.0/14");
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 1, 4094, 1).value(), "10.128.0.0/20");
  EXPECT_EQ(fleet_device_range("10.128.0.0/9", 1, 4095, 1).value(), "10.128.0.0/19");
  EXPECT_FALSE(fleet_device_range("10.128.0.0/9", 9, 1000000, 1));  // 9 x /12 > /9
  EXPECT_FALSE(fleet_device_range("10.128.0.0/24", 1, 10, 1));
  EXPECT_FALSE(fleet_device_range("fd00::/64", 1, 10, 1));
  // Checked before anything is deployed: the block must stay apart from
  // the run's own networks, and devices that cannot share sockets must fit
  // the descriptor limit.
  DeploymentConfig config = base_config(1);
  config.devices = 3000;
  config.shared_sockets = SharedSockets::kAlways;
  config.device_network = "10.87.0.0/16";
  auto refused = Deployment::up(config);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("overlaps"), std::string::npos) << refused.error().message;
  config.shared_sockets = SharedSockets::kNever;  // then the block does not matter
  rlimit files{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < 1000000) {
    config.devices = static_cast<int>(files.rlim_max) + 1;
    refused = Deployment::up(config);
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("file descriptors"), std::string::npos)
        << refused.error().message;
  }
  EXPECT_TRUE(list_netns(run_netns_prefix(config.run_id)).empty());
}

// Sends CoAP CON GET /x to node addresses at `rate` each for `duration`,
// from inside `netns`.
void drive_coap_load(const std::string& netns, const std::vector<std::string>& addresses, int rate,
                     std::chrono::milliseconds duration) {
  auto inside = ScopedNetns::enter(netns);
  ASSERT_TRUE(inside);
  std::vector<int> fds;
  std::vector<sockaddr_in> targets;
  for (const auto& a : addresses) {
    fds.push_back(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(5683);
    ::inet_pton(AF_INET, a.c_str(), &to.sin_addr);
    targets.push_back(to);
  }
  const auto start = std::chrono::steady_clock::now();
  uint16_t mid = 0;
  char drain[256];
  for (long sent = 0;; ++sent) {
    const auto due = start + std::chrono::microseconds(sent * 1000000 / rate);
    if (due - start > duration) break;
    std::this_thread::sleep_until(due);
    ++mid;
    const unsigned char get[] = {
        0x40, 0x01, static_cast<unsigned char>(mid >> 8), static_cast<unsigned char>(mid),
        0xb1, 'x'};
    for (size_t i = 0; i < fds.size(); ++i) {
      ::sendto(fds[i], get, sizeof(get), 0, reinterpret_cast<sockaddr*>(&targets[i]),
               sizeof(targets[i]));
      while (::recv(fds[i], drain, sizeof(drain), 0) > 0) {
      }
    }
  }
  for (int fd : fds) ::close(fd);
}

TEST(DeploymentTest, TighterQuotaThrottlesMore) {
  DeploymentConfig config = base_config(2);
  config.node_limits = {10000, 100000, 512ull << 20, ""};  // 10% of a core
  config.front_network = "10.87.3.0";
  config.back_network = "10.88.3.0";
  WorkDirRemover remove_logs{config.work_dir};
  auto deployed = Deployment::up(config);
  ASSERT_TRUE(deployed) << deployed.error().message;
  Deployment& d = **deployed;
  ASSERT_TRUE(d.node(2)->cgroup->set_limits({100000, 100000, 512ull << 20, ""}));  // a whole core

  auto before1 = d.node(1)->cgroup->sample();
  auto before2 = d.node(2)->cgroup->sample();
  ASSERT_TRUE(before1 && before2);
  // Twice what the 10 % node can answer: at 12,000/s the node had got fast
  // enough to use exactly its quota (throttled in 20 % of periods, the
  // threshold below), so the load now leaves no doubt.
  drive_coap_load(d.control_netns(), {d.node(1)->address, d.node(2)->address}, 24000,
                  std::chrono::milliseconds(2000));
  auto after1 = d.node(1)->cgroup->sample();
  auto after2 = d.node(2)->cgroup->sample();
  ASSERT_TRUE(after1 && after2);
  auto ratio = [](const CgroupSample& a, const CgroupSample& b) {
    const double periods = static_cast<double>(b.nr_periods - a.nr_periods);
    return periods > 0 ? static_cast<double>(b.nr_throttled - a.nr_throttled) / periods : 0.0;
  };
  const double tight = ratio(*before1, *after1), loose = ratio(*before2, *after2);
  std::printf("throttled ratio: 10%% quota %.2f (cpu %.2f s), 100%% quota %.2f (cpu %.2f s)\n",
              tight, after1->cpu_s - before1->cpu_s, loose, after2->cpu_s - before2->cpu_s);
  EXPECT_GT(tight, loose);
  EXPECT_GT(tight, 0.2);
  EXPECT_TRUE(d.down());
}

}  // namespace
}  // namespace fogm2m::testbed
