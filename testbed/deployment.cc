#include "testbed/deployment.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "emulated_clients/name_pattern.h"
#include "io/address_range.h"
#include "store/keys.h"
#include "store/security_info.h"
#include "testbed/command.h"
#include "testbed/deployment_steps.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRedisHost = 2;
constexpr int kFirstNodeHost = 10;  // node<i> at .(10+i)
constexpr int kFirstFleetHost = 10;
constexpr auto kPoll = std::chrono::milliseconds(50);
// A device range holds at least 2^12 addresses (a /20).
constexpr unsigned kMinRangeBits = 12;

// Descriptors a process may have here; the fleets inherit the limit and
// raise their soft limit to it.
uint64_t descriptor_limit() {
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_max == RLIM_INFINITY) return UINT64_MAX;
  return files.rlim_max;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The last lines of a log file, for error messages.
std::string log_tail(const std::string& path, size_t max = 1500) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

// Whether two IPv4 ranges share an address.
bool overlap(const io::AddressRange& a, const io::AddressRange& b) {
  return a.contains(b.network) || b.contains(a.network);
}

}  // namespace

Result<std::string> fleet_device_range(const std::string& block_text, int fleets,
                                       int devices_per_fleet, int fleet) {
  Result<io::AddressRange> block = io::AddressRange::parse(block_text);
  if (!block) return block.error();
  if (!block->network.is_v4())
    return make_error(ErrorKind::kInvalidArgument,
                      "device network " + block_text + " is not an IPv4 range");
  if (fleets < 1 || fleet < 1 || fleet > fleets || devices_per_fleet < 1)
    return make_error(ErrorKind::kInvalidArgument, "fleet_device_range: bad fleet or device count");
  unsigned bits = kMinRangeBits;
  // Device i sends from address i + 1: the network and the last address stay unused.
  while (bits < 32 && (uint64_t{1} << bits) < static_cast<uint64_t>(devices_per_fleet) + 2) ++bits;
  if (bits > 32 - block->prefix || (static_cast<uint64_t>(fleets) << bits) > block->size()) {
    return make_error(ErrorKind::kInvalidArgument,
                      "device network " + block->to_string() + " cannot hold " +
                          std::to_string(fleets) + " ranges of /" + std::to_string(32 - bits) +
                          " (" + std::to_string(devices_per_fleet) + " devices per fleet)");
  }
  const io::AddressRange range{block->at(static_cast<uint64_t>(fleet - 1) << bits), 32 - bits};
  return range.to_string();
}

Result<std::unique_ptr<Deployment>> Deployment::up(DeploymentConfig config,
                                                   const std::atomic<bool>* cancel) {
  if (config.run_id.empty()) config.run_id = random_run_id();
  if (!valid_run_id(config.run_id)) {
    return make_error(ErrorKind::kInvalidArgument,
                      "bad run id \"" + config.run_id + "\" (1..6 of a-z0-9)");
  }
  if (config.nodes < 1 || config.nodes > 200) {
    return make_error(ErrorKind::kInvalidArgument, "nodes must be within 1..200");
  }
  if (config.devices < 0 || (config.devices > 0 && (config.fleets < 1 || config.fleets > 200))) {
    return make_error(ErrorKind::kInvalidArgument, "devices must be >= 0 and fleets within 1..200");
  }
  if (config.fogm2m_binary.empty() || ::access(config.fogm2m_binary.c_str(), X_OK) != 0) {
    return make_error(ErrorKind::kNotFound,
                      "fogm2m binary not found at \"" + config.fogm2m_binary + "\"");
  }
  if (::access(config.redis_binary.c_str(), X_OK) != 0) {
    return make_error(ErrorKind::kNotFound,
                      "redis-server not found at \"" + config.redis_binary + "\"");
  }
  // How the fleets' devices get their sockets, checked before anything is made.
  bool share = false;
  if (config.devices > 0) {
    const int fleets = std::min(config.fleets, config.devices);
    const int largest = config.devices / fleets + (config.devices % fleets != 0 ? 1 : 0);
    const uint64_t descriptors = static_cast<uint64_t>(largest) + kFleetReservedDescriptors;
    const bool too_many = descriptors > descriptor_limit();
    share = !config.dtls && (config.shared_sockets == SharedSockets::kAlways ||
                             (config.shared_sockets == SharedSockets::kAuto && too_many));
    if (too_many && !share) {
      return make_error(ErrorKind::kInvalidArgument,
                        std::to_string(largest) + " devices per fleet need " +
                            std::to_string(descriptors) +
                            " file descriptors (a socket each) but a process may have " +
                            std::to_string(descriptor_limit()) + ": split them over more fleets" +
                            (config.dtls ? "" : ", or let them share sockets"));
    }
    if (share) {
      Result<std::string> range = fleet_device_range(config.device_network, fleets, largest, 1);
      if (!range) return range.error();
      const io::AddressRange block = io::AddressRange::parse(config.device_network).value();
      for (const std::string* network : {&config.front_network, &config.back_network}) {
        Result<io::AddressRange> side = io::AddressRange::parse(*network + "/24");
        if (side && overlap(block, *side)) {
          return make_error(ErrorKind::kInvalidArgument, "device network " + block.to_string() +
                                                             " overlaps " + *network + "/24");
        }
      }
    }
  }
  if (config.work_dir.empty()) config.work_dir = "/tmp/fogm2m-" + config.run_id;
  std::unique_ptr<Deployment> deployment(new Deployment(std::move(config)));
  deployment->shares_sockets_ = share;
  if (Status s = deployment->bring_up(cancel); !s) {
    (void)deployment->down();
    return s.error();
  }
  return deployment;
}

Status Deployment::bring_up(const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  launcher_ = std::this_thread::get_id();
  Result<RunLock> lock = RunLock::acquire(config_.run_id);
  if (!lock) return lock.error();
  lock_.emplace(std::move(*lock));
  std::error_code ec;
  std::filesystem::create_directories(config_.work_dir, ec);
  if (ec) return make_error(ErrorKind::kIo, "create " + config_.work_dir + ": " + ec.message());

  Result<CgroupHost> host = CgroupHost::detect();
  if (!host) return host.error();
  cgroup_host_.emplace(std::move(*host));

  TopologyConfig net;
  net.prefix = run_netns_prefix(config_.run_id);
  net.front_network = config_.front_network;
  net.back_network = config_.back_network;
  Result<Topology> topology = Topology::create(net);
  if (!topology) return topology.error();
  topology_.emplace(std::move(*topology));
  LoadBalancerConfig lb;
  lb.netns = topology_->lb_netns();
  lb.table = run_nft_table(config_.run_id);
  lb.vip = topology_->vip();
  Result<NftablesLoadBalancer> balancer = NftablesLoadBalancer::create(lb);
  if (!balancer) return balancer.error();
  lb_.emplace(std::move(*balancer));
  times_.network_s = seconds_since(start);
  if (cancelled(cancel)) return interrupted();

  // Redis.
  auto phase = Clock::now();
  std::vector<std::string> redis_argv = {config_.redis_binary,
                                         "--bind",
                                         topology_->address(Side::kBack, kRedisHost),
                                         "--port",
                                         "6379",
                                         "--protected-mode",
                                         "no",
                                         "--save",
                                         "",
                                         "--appendonly",
                                         config_.redis_appendfsync.empty() ? "no" : "yes",
                                         "--daemonize",
                                         "no",
                                         "--dir",
                                         config_.work_dir,
                                         "--logfile",
                                         ""};
  if (!config_.redis_appendfsync.empty()) {
    redis_argv.push_back("--appendfsync");
    redis_argv.push_back(config_.redis_appendfsync);
  }
  if (config_.redis_cluster) {
    if (Status s = start_redis_cluster(redis_argv, cancel); !s) return s;
  } else {
    Result<Member> redis =
        start_member("redis", Side::kBack, kRedisHost, config_.redis_limits, redis_argv);
    if (!redis) return redis.error();
    redis_ = std::move(*redis);
    if (Status s = wait_redis_answers(cancel); !s) return s;
  }
  if (config_.dtls && config_.devices > 0) {
    Result<RedisClient> client = redis();
    if (!client) return client.error();
    if (Status s = provision_psks(*client, config_); !s) return s;
  }
  times_.redis_s = seconds_since(phase);

  // Nodes.
  phase = Clock::now();
  std::vector<int> indexes;
  for (int i = 1; i <= config_.nodes; ++i) {
    if (cancelled(cancel)) return interrupted();
    Result<Member> node = start_node(i);
    if (!node) return node.error();
    nodes_.push_back(std::move(*node));
    indexes.push_back(i);
  }
  if (Status s = wait_joined(indexes, cancel); !s) return s;
  std::vector<std::string> addresses;
  for (const auto& node : nodes_) addresses.push_back(node.address);
  if (Status s = lb_->set_backends(addresses); !s) return s;
  // The gateway, before the fleets: it sees their registrations as events.
  if (config_.gateway) {
    if (cancelled(cancel)) return interrupted();
    if (Status s = start_gateway(cancel); !s) return s;
  }
  times_.nodes_s = seconds_since(phase);

  // Fleets.
  phase = Clock::now();
  if (config_.devices > 0) {
    if (Status s = start_fleets(cancel); !s) return s;
  }
  times_.fleets_s = seconds_since(phase);
  times_.total_s = seconds_since(start);
  return {};
}

Status Deployment::start_fleets(const std::atomic<bool>* cancel) {
  const auto phase = Clock::now();
  const int fleets = std::min(config_.fleets, config_.devices);
  const int largest = config_.devices / fleets + (config_.devices % fleets != 0 ? 1 : 0);
  if (shares_sockets_) {  // decided and checked by up()
    Result<std::string> first = fleet_device_range(config_.device_network, fleets, largest, 1);
    if (!first) return first.error();
    spdlog::info(
        "run {}: {} devices in {} fleet(s) share one socket per fleet thread, each sending from "
        "its own address: fleet1 from {}, the next fleets from the next ranges of {}",
        config_.run_id, config_.devices, fleets, *first, config_.device_network);
  }
  if (Status s = raise_conntrack_max(); !s) return s;

  int first = 1;
  for (int j = 1; j <= fleets; ++j) {
    if (cancelled(cancel)) return interrupted();
    const int count = config_.devices / fleets + (j <= config_.devices % fleets ? 1 : 0);
    const std::string name = "fleet" + std::to_string(j);
    FleetCommand command = fleet_command(config_, j, first, count,
                                         topology_->vip() + ":" + (config_.dtls ? "5684" : "5683"),
                                         topology_->address(Side::kFront, kFirstFleetHost + j));
    const std::string stats = command.stats_path;
    std::vector<std::string> argv = {config_.fogm2m_binary};
    argv.insert(argv.end(), command.args.begin(), command.args.end());
    std::string range;
    if (shares_sockets_) {
      Result<std::string> r = fleet_device_range(config_.device_network, fleets, largest, j);
      if (!r) return r.error();
      range = *r;
      argv.insert(argv.end(), {"--source-range", range});
    }
    Result<Member> fleet =
        start_member(name, Side::kFront, kFirstFleetHost + j, config_.fleet_limits, argv, range);
    if (!fleet) return fleet.error();
    fleet->first_device = first;
    fleet->devices = count;
    fleet->stats_path = stats;
    fleet->source_range = range;
    fleets_.push_back(std::move(*fleet));
    first += count;
  }
  // Registrations come in over the fleets' ramp (in parallel): wait that
  // long beyond ready_timeout, and on while they keep coming.
  const double ramp_s = config_.fleet_ramp_s >= 0
                            ? config_.fleet_ramp_s
                            : static_cast<double>(largest) / kFleetDefaultRegistrationsPerS;
  const auto left = config_.ready_timeout +
                    std::chrono::milliseconds(static_cast<int64_t>(ramp_s * 1000)) -
                    std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - phase);
  return wait_registered(static_cast<size_t>(config_.devices), left, cancel, config_.ready_timeout);
}

Status Deployment::raise_conntrack_max() {
  const uint64_t needed = config_.conntrack_entries != 0
                              ? config_.conntrack_entries
                              : static_cast<uint64_t>(config_.devices) + kConntrackHeadroom;
  // The load balancer's NAT table has loaded conntrack by now.
  Result<uint64_t> current = read_host_sysctl(kConntrackMaxKey);
  if (!current) {
    spdlog::warn("run {}: cannot read the host's {} ({}); left as it is", config_.run_id,
                 kConntrackMaxKey, current.error().message);
    return {};
  }
  if (*current >= needed) return {};
  Result<SysctlChange> raised = raise_host_sysctl(config_.run_id, kConntrackMaxKey, needed);
  if (!raised) {
    return make_error(raised.error().kind, "the load balancer needs " + std::to_string(needed) +
                                               " conntrack entries, the host allows " +
                                               std::to_string(*current) + ": " +
                                               raised.error().message);
  }
  conntrack_max_ = *raised;
  spdlog::warn(
      "run {}: raised the host's {} from {} to {} for the run (the load balancer keeps one "
      "conntrack entry per device); it is put back when the run ends",
      config_.run_id, kConntrackMaxKey, raised->before, raised->after);
  return {};
}

// Six servers in cluster mode, each in its own namespace and cgroup
// (redis, redis2 .. redis6 at <back>.2 .. .7) and directory (their
// nodes.conf), joined by redis-cli from the control namespace; returns once
// every one says cluster_state:ok.
Status Deployment::start_redis_cluster(const std::vector<std::string>& common_argv,
                                       const std::atomic<bool>* cancel) {
  constexpr int kServers = 6;
  std::vector<std::string> addresses;
  for (int k = 0; k < kServers; ++k) {
    if (cancelled(cancel)) return interrupted();
    const std::string name = k == 0 ? "redis" : "redis" + std::to_string(k + 1);
    const std::string dir = config_.work_dir + "/" + name;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return make_error(ErrorKind::kIo, "cannot make " + dir + ": " + ec.message());
    std::vector<std::string> argv = common_argv;
    argv[2] = topology_->address(Side::kBack, kRedisHost + k);  // --bind
    for (size_t i = 0; i + 1 < argv.size(); ++i)
      if (argv[i] == "--dir") argv[i + 1] = dir;
    for (const char* a : {"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                          "--cluster-node-timeout", "2000", "--repl-diskless-sync-delay", "0"})
      argv.emplace_back(a);
    Result<Member> m = start_member(name, Side::kBack, kRedisHost + k, config_.redis_limits, argv);
    if (!m) return m.error();
    addresses.push_back(m->address + ":6379");
    if (k == 0)
      redis_ = std::move(*m);
    else
      redis_peers_.push_back(std::move(*m));
  }
  if (Status s = wait_redis_answers(cancel); !s) return s;
  for (const auto& peer : redis_peers_) {  // the others answer too
    const auto deadline = Clock::now() + config_.ready_timeout;
    for (;;) {
      if (cancelled(cancel)) return interrupted();
      auto c = RedisClient::connect(topology_->lb_netns(), peer.address, 6379);
      if (c && c->command({"PING"})) break;
      if (Clock::now() > deadline)
        return make_error(ErrorKind::kTimeout,
                          peer.name + " does not answer: " + log_tail(peer.log_path));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::vector<std::string> create = {config_.redis_cli_binary, "--cluster", "create"};
  create.insert(create.end(), addresses.begin(), addresses.end());
  for (const char* a : {"--cluster-replicas", "1", "--cluster-yes"}) create.emplace_back(a);
  CommandOptions in_control;
  in_control.netns = topology_->lb_netns();
  in_control.timeout = config_.ready_timeout;
  if (Status s = run_checked(create, in_control); !s) return s;
  const auto deadline = Clock::now() + config_.ready_timeout;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    size_t ok = 0;
    for (const auto& address : addresses) {
      auto c =
          RedisClient::connect(topology_->lb_netns(), address.substr(0, address.rfind(':')), 6379);
      if (!c) continue;
      auto info = c->command({"CLUSTER", "INFO"});
      if (info && info->text.find("cluster_state:ok") != std::string::npos) ++ok;
    }
    if (ok == addresses.size()) break;
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout, "the Redis Cluster is not ok after " +
                                                 std::to_string(config_.ready_timeout.count()) +
                                                 " ms (" + std::to_string(ok) + " of " +
                                                 std::to_string(addresses.size()) + " nodes ok)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("run {}: Redis Cluster of {} servers up", config_.run_id, addresses.size());
  return {};
}

std::vector<std::string> Deployment::redis_addresses() const {
  std::vector<std::string> out;
  if (!redis_.address.empty()) out.push_back(redis_.address + ":6379");
  for (const auto& p : redis_peers_) out.push_back(p.address + ":6379");
  return out;
}

std::vector<std::string> Deployment::redis_option() const {
  if (!config_.redis_cluster) return {"--redis", redis_.address + ":6379"};
  std::string list;
  for (const auto& a : redis_addresses()) list += (list.empty() ? "" : ",") + a;
  return {"--redis-cluster", list};
}

Status Deployment::wait_redis_answers(const std::atomic<bool>* cancel) {
  const auto start = Clock::now();
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    Result<RedisClient> client = this->redis();
    if (client && client->command({"PING"})) return {};
    if (!redis_.process || !redis_.process->running()) {
      return make_error(ErrorKind::kIo, "redis-server exited: " + log_tail(redis_.log_path));
    }
    if (Clock::now() - start > config_.ready_timeout) {
      return make_error(ErrorKind::kTimeout,
                        "redis-server does not answer: " + log_tail(redis_.log_path));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Result<Member> Deployment::start_member(const std::string& name, Side side, int host_number,
                                        const CgroupLimits& limits, std::vector<std::string> argv,
                                        const std::string& local_range) {
  Result<Host> host = topology_->add_host(name, side, host_number);
  if (!host) return host.error();
  if (!local_range.empty()) {
    if (Status s = topology_->add_local_range(name, local_range); !s) {
      (void)topology_->remove_host(name);
      return s.error();
    }
  }
  Member member;
  member.name = name;
  member.netns = host->netns;
  member.address = host->address;
  member.log_path = config_.work_dir + "/" + name + ".log";
  Result<Cgroup> cgroup =
      Cgroup::create(*cgroup_host_, run_cgroup_parent(config_.run_id), name, limits);
  if (!cgroup) {
    (void)topology_->remove_host(name);
    return cgroup.error();
  }
  member.cgroup.emplace(std::move(*cgroup));
  member.argv = std::move(argv);
  if (Status s = relaunch(member); !s) {
    (void)member.cgroup->destroy();
    (void)topology_->remove_host(name);
    return s.error();
  }
  return member;
}

// Starts the member's process (again) in its namespace and cgroup.
Status Deployment::relaunch(Member& member) {
  LaunchOptions launch;
  launch.argv = member.argv;
  launch.netns = member.netns;
  launch.log_path = member.log_path;
  launch.detach = config_.detach;
  // Started from another thread than up()'s (a fault injector's, which
  // ends before the run does): it must not die with that thread. down()
  // stops it like the others; the cleanup of a crashed run removes it.
  launch.die_with_thread = std::this_thread::get_id() == launcher_;
  Cgroup* group = &*member.cgroup;
  launch.before_exec = [group](pid_t pid) { return group->add_process(pid); };
  Result<Process> process = Process::launch(launch);
  if (!process) return process.error();
  member.start_time = process_start_time(process->pid());
  member.process.emplace(std::move(*process));
  return {};
}

namespace {

Status about(const std::string& member, Status s) {
  if (s) return s;
  return make_error(s.error().kind, member + ": " + s.error().message);
}

}  // namespace

Status Deployment::kill_node(int index) {
  Member* n = node(index);
  if (n == nullptr || !n->process)
    return make_error(ErrorKind::kNotFound, "no running node " + std::to_string(index));
  if (Status s = n->process->signal(SIGKILL); !s) return about(n->name, s);
  (void)n->process->wait(std::chrono::milliseconds(5000));
  n->process.reset();
  n->start_time = 0;
  return {};
}

Status Deployment::pause_node(int index) {
  Member* n = node(index);
  if (n == nullptr || !n->process)
    return make_error(ErrorKind::kNotFound, "no running node " + std::to_string(index));
  return about(n->name, n->process->signal(SIGSTOP));
}

Status Deployment::resume_node(int index) {
  Member* n = node(index);
  if (n == nullptr || !n->process)
    return make_error(ErrorKind::kNotFound, "no running node " + std::to_string(index));
  return about(n->name, n->process->signal(SIGCONT));
}

bool Deployment::node_running(int index) {
  Member* n = node(index);
  return n != nullptr && n->process && n->process->running();
}

Status Deployment::restart_node(int index) {
  Member* n = node(index);
  if (n == nullptr) return make_error(ErrorKind::kNotFound, "no node " + std::to_string(index));
  if (n->process) {
    (void)n->process->signal(SIGCONT);  // a paused node could not drain
    (void)n->process->stop(std::chrono::milliseconds(5000));
    n->process.reset();
  }
  // Its old heartbeat would count as joined at once.
  if (auto client = redis(); client)
    (void)client->command({"ZREM", std::string(store::keys::kNodes), n->name});
  if (Status s = relaunch(*n); !s) return about(n->name, s);
  return wait_joined({index}, nullptr);
}

Status Deployment::restart_redis() {
  if (!redis_.cgroup) return make_error(ErrorKind::kNotFound, "no redis");
  if (config_.redis_cluster)
    return make_error(ErrorKind::kInvalidArgument,
                      "restart_redis is for one Redis, not a Redis Cluster");
  if (redis_.process) {
    (void)redis_.process->signal(SIGCONT);
    (void)redis_.process->signal(SIGKILL);
    (void)redis_.process->wait(std::chrono::milliseconds(5000));
    redis_.process.reset();
  }
  if (Status s = relaunch(redis_); !s) return about("redis", s);
  return wait_redis_answers(nullptr);
}

Status Deployment::rebind_devices() {
  for (Member& f : fleets_) {
    if (!f.process) return make_error(ErrorKind::kNotFound, f.name + " is not running");
    if (Status s = f.process->signal(SIGUSR1); !s) return about(f.name, s);
  }
  return {};
}

Status Deployment::set_node_link(int index, bool up) {
  Member* n = node(index);
  if (n == nullptr || !topology_)
    return make_error(ErrorKind::kNotFound, "no node " + std::to_string(index));
  return about(n->name, topology_->set_host_link(n->name, up));
}

Status Deployment::set_balanced_nodes(const std::vector<int>& indexes) {
  if (!lb_) return make_error(ErrorKind::kInvalidArgument, "deployment is down");
  std::vector<std::string> addresses;
  for (const auto& n : nodes_) {
    const int i = node_index(n.name);
    if (std::find(indexes.begin(), indexes.end(), i) != indexes.end())
      addresses.push_back(n.address);
  }
  return lb_->set_backends(addresses);
}

Result<Member> Deployment::start_node(int index) {
  const std::string name = node_id(index);
  std::vector<std::string> argv = {config_.fogm2m_binary,
                                   "node",
                                   "--id",
                                   name,
                                   "--bind",
                                   topology_->address(Side::kBack, kFirstNodeHost + index)};
  const std::vector<std::string> redis = redis_option();
  argv.insert(argv.end(), redis.begin(), redis.end());
  if (!config_.dtls) argv.push_back("--no-dtls");
  argv.insert(argv.end(), config_.node_args.begin(), config_.node_args.end());
  return start_member(name, Side::kBack, kFirstNodeHost + index, config_.node_limits, argv);
}

Status Deployment::start_gateway(const std::atomic<bool>* cancel) {
  gateway_token_path_ = config_.work_dir + "/gateway.token";
  gateway_token_ = random_token();
  if (Status s = write_private_file(gateway_token_path_, gateway_token_ + "\n"); !s) return s;
  Member m;
  m.name = "gateway";
  m.netns = topology_->lb_netns();
  m.address = topology_->lb_back_address();
  m.log_path = config_.work_dir + "/gateway.log";
  Result<Cgroup> cgroup = Cgroup::create(*cgroup_host_, run_cgroup_parent(config_.run_id), m.name,
                                         config_.gateway_limits);
  if (!cgroup) return cgroup.error();
  m.cgroup.emplace(std::move(*cgroup));
  const std::vector<std::string> redis = redis_option();
  m.argv = {config_.fogm2m_binary,
            "gateway",
            redis[0],
            redis[1],
            "--bind",
            m.address,
            "--http-port",
            std::to_string(config_.gateway_port),
            "--token-file",
            gateway_token_path_,
            "--log-level",
            "warn"};
  m.argv.insert(m.argv.end(), config_.gateway_args.begin(), config_.gateway_args.end());
  // Kept before launching, so down() removes the cgroup whatever happens next.
  gateway_ = std::move(m);
  if (Status s = relaunch(gateway_); !s) return about("gateway", s);
  // It listens once it has Redis and the registrations.
  const auto deadline = Clock::now() + config_.ready_timeout;
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    if (accepts_connections(gateway_.netns, gateway_.address, config_.gateway_port)) return {};
    if (!gateway_.process->running())
      return make_error(ErrorKind::kIo, "gateway exited: " + log_tail(gateway_.log_path));
    if (Clock::now() > deadline)
      return make_error(ErrorKind::kTimeout,
                        "gateway does not accept connections: " + log_tail(gateway_.log_path));
    std::this_thread::sleep_for(kPoll);
  }
}

// Why one of the members is not running, or "" when all are.
std::string Deployment::check_processes(std::vector<Member>& members) {
  for (auto& m : members) {
    if (m.process && !m.process->running()) {
      return m.name + " exited: " + log_tail(m.log_path);
    }
  }
  return {};
}

Status Deployment::wait_joined(const std::vector<int>& indexes, const std::atomic<bool>* cancel) {
  const auto deadline = Clock::now() + config_.ready_timeout;
  Result<RedisClient> client = redis();
  if (!client) return client.error();
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    Result<std::vector<std::string>> joined = client->cluster_nodes();
    if (!joined) return joined.error();
    size_t missing = 0;
    for (int i : indexes) {
      if (std::find(joined->begin(), joined->end(), node_id(i)) == joined->end()) ++missing;
    }
    if (missing == 0) return {};
    if (std::string why = check_processes(nodes_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (Clock::now() > deadline) {
      return make_error(ErrorKind::kTimeout,
                        std::to_string(missing) + " node(s) did not join the cluster in time");
    }
    std::this_thread::sleep_for(kPoll);
  }
}

Status Deployment::wait_registered(size_t count, std::chrono::milliseconds timeout,
                                   const std::atomic<bool>* cancel,
                                   std::chrono::milliseconds stall) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  auto last_growth = start;
  Result<RedisClient> client = redis();
  if (!client) return client.error();
  size_t registered = 0;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    if (cancelled(cancel)) return interrupted();
    // The expiry index has one member per registration and costs O(1) to
    // count (SCANning a million registrations takes seconds); the records
    // themselves are counted once it has them all.
    Result<RedisValue> indexed = client->command({"ZCARD", std::string(store::keys::kExpiry)});
    if (!indexed) return indexed.error();
    size_t now_registered = static_cast<size_t>(std::max(0LL, indexed->integer));
    if (now_registered >= count) {
      const auto scan_start = Clock::now();
      Result<std::vector<std::string>> keys =
          client->keys(std::string(store::keys::kRegistrationPattern));
      if (!keys) return keys.error();
      now_registered = keys->size();
      if (now_registered >= count) return {};
      // Not yet: the next count no sooner than twice the SCAN's time.
      pause = std::max(pause, 2 * std::chrono::duration_cast<std::chrono::milliseconds>(
                                      Clock::now() - scan_start));
    }
    if (now_registered > registered) last_growth = Clock::now();
    registered = now_registered;
    if (std::string why = check_processes(fleets_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    if (std::string why = check_processes(nodes_); !why.empty())
      return make_error(ErrorKind::kIo, why);
    const auto now = Clock::now();
    if (now > deadline && now - last_growth > stall) {
      return make_error(ErrorKind::kTimeout,
                        std::to_string(registered) + " of " + std::to_string(count) +
                            " devices registered in time (" +
                            std::to_string(static_cast<long>(seconds_since(start))) + " s)");
    }
    std::this_thread::sleep_for(pause);
  }
}

Result<RedisClient> Deployment::redis() const {
  if (!topology_ || redis_.address.empty())
    return make_error(ErrorKind::kInvalidArgument, "no Redis deployed");
  return RedisClient::connect(topology_->lb_netns(), redis_.address, 6379);
}

Member* Deployment::node(int index) {
  for (auto& n : nodes_) {
    if (n.name == node_id(index)) return &n;
  }
  return nullptr;
}

Result<int> Deployment::add_node() {
  if (!topology_ || !lb_) return make_error(ErrorKind::kInvalidArgument, "deployment is down");
  int index = 1;
  while (node(index) != nullptr) ++index;
  Result<Member> started = start_node(index);
  if (!started) return started.error();
  nodes_.push_back(std::move(*started));
  if (Status s = wait_joined({index}, nullptr); !s) {
    (void)remove_node(index);
    return s.error();
  }
  std::vector<std::string> addresses;
  for (const auto& n : nodes_) addresses.push_back(n.address);
  if (Status s = lb_->set_backends(addresses); !s) return s.error();
  return index;
}

Status Deployment::remove_node(int index) {
  auto it = std::find_if(nodes_.begin(), nodes_.end(),
                         [&](const Member& m) { return m.name == node_id(index); });
  if (it == nodes_.end())
    return make_error(ErrorKind::kNotFound, "no node " + std::to_string(index));
  std::vector<std::string> addresses;
  for (const auto& n : nodes_) {
    if (n.name != it->name) addresses.push_back(n.address);
  }
  Status result = lb_->set_backends(addresses);
  if (Status s = stop_member(*it); !s && result) result = s;
  nodes_.erase(it);
  return result;
}

Status Deployment::stop_member(Member& member) {
  Status result;
  if (member.process) {
    (void)member.process->signal(SIGCONT);  // a paused member would not see SIGTERM
    Result<int> code = member.process->stop(std::chrono::milliseconds(5000));
    if (!code) result = code.error();
    member.process.reset();
    member.start_time = 0;
  }
  if (member.cgroup) {
    if (Status s = member.cgroup->destroy(); !s && result) result = s;
    member.cgroup.reset();
  }
  if (topology_ && !member.netns.empty() && topology_->hosts().count(member.name) != 0) {
    if (Status s = topology_->remove_host(member.name); !s && result) result = s;
  }
  return result;
}

Status Deployment::down() {
  if (released_) return {};
  Status result;
  auto keep = [&result](Status s) {
    if (!s && result) result = s;
  };
  // The gateway first (a client of the cluster), fleets next (they
  // de-register while nodes still answer), then the balancer, nodes, Redis;
  // the network last.
  keep(stop_member(gateway_));
  gateway_ = Member{};
  if (!gateway_token_path_.empty()) {
    std::error_code ec;
    std::filesystem::remove(gateway_token_path_, ec);
    gateway_token_path_.clear();
  }
  for (auto it = fleets_.rbegin(); it != fleets_.rend(); ++it) keep(stop_member(*it));
  fleets_.clear();
  if (lb_) {
    keep(lb_->destroy());
    lb_.reset();
  }
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) keep(stop_member(*it));
  nodes_.clear();
  for (auto it = redis_peers_.rbegin(); it != redis_peers_.rend(); ++it) keep(stop_member(*it));
  redis_peers_.clear();
  keep(stop_member(redis_));
  redis_ = Member{};
  if (topology_) {
    keep(topology_->destroy());
    topology_.reset();
  }
  // Host-wide settings last: the conntrack entries went with the namespaces.
  if (lock_) {
    if (auto restored = restore_host_sysctls(config_.run_id); !restored) {
      keep(restored.error());
    } else {
      for (const auto& change : *restored) {
        if (change.changed())
          spdlog::warn("run {}: put the host's {} back from {} to {}", config_.run_id, change.key,
                       change.before, change.after);
      }
    }
    conntrack_max_.reset();
  }
  if (cgroup_host_) {
    // The parent group goes with its last child; a leftover of an earlier
    // crash under the same name is removed here too.
    Result<int> removed = remove_leftover_cgroups(*cgroup_host_, run_cgroup_parent(config_.run_id));
    if (!removed) keep(removed.error());
  }
  lock_.reset();
  return result;
}

void Deployment::release() {
  for (auto* group : {&fleets_, &nodes_}) {
    for (auto& m : *group) {
      if (m.process) m.process->release();
    }
  }
  if (redis_.process) redis_.process->release();
  for (auto& p : redis_peers_)
    if (p.process) p.process->release();
  if (gateway_.process) gateway_.process->release();
  released_ = true;
  // Keep the kernel objects: their destructors must not remove them.
  if (topology_) topology_->release();
  if (lb_) lb_->release();
  lock_.reset();
}

Deployment::~Deployment() {
  (void)down();
}

}  // namespace fogm2m::testbed
