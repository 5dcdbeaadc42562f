// `fogm2m cluster up|down|status`: deploys by hand what the scenario runner
// deploys per sweep point (testbed/deployment.h): Redis, N server nodes under
// cgroup quotas, the nftables load balancer and device fleets, each in its
// own network namespace. `up` leaves the cluster running in the background
// and writes its state to /run/fogm2m/<name>.json; `status` reads it back and
// asks Redis who owns how many devices; `down` removes the cluster and every
// leftover of crashed runs.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "testbed/cleanup.h"
#include "testbed/cluster_state.h"
#include "testbed/deployment.h"

namespace fogm2m::cli {

namespace {

using testbed::Deployment;

struct UpArgs {
  std::string name = "main";
  int nodes = 3;
  int devices = 0;
  int fleets = 1;
  bool dtls = false;
  uint32_t cpu_quota_us = 25000;
  uint32_t cpu_period_us = 100000;
  uint64_t memory_mb = 512;
  int lifetime_s = 300;
  int threads = 1;
  int timeout_s = 120;
  bool print_lvs = false;
  std::string fogm2m_binary;
  std::string redis_binary = "/usr/bin/redis-server";
  std::string work_dir;
  std::string front_network = "10.77.0.0";
  std::string back_network = "10.78.0.0";
  std::string shared_sockets = "auto";
  std::string device_network = "10.128.0.0/9";
};

std::atomic<bool> g_stop{false};

void on_signal(int) {
  g_stop.store(true);
}

int cluster_up(const UpArgs& args) {
  if (!testbed::valid_run_id(args.name)) {
    std::cerr << "fogm2m cluster up: --name must be 1..6 characters of a-z0-9\n";
    return 2;
  }
  if (::access(testbed::run_state_path(args.name).c_str(), F_OK) == 0) {
    std::cerr << "fogm2m cluster up: cluster " << args.name
              << " is already up (fogm2m cluster down --name " << args.name << ")\n";
    return 1;
  }
  testbed::DeploymentConfig config;
  config.run_id = args.name;
  config.nodes = args.nodes;
  config.node_limits = {args.cpu_quota_us, args.cpu_period_us, args.memory_mb << 20, ""};
  config.devices = args.devices;
  config.fleets = args.fleets;
  config.dtls = args.dtls;
  config.device_lifetime_s = args.lifetime_s;
  config.fleet_threads = args.threads;
  config.fogm2m_binary = args.fogm2m_binary.empty()
                             ? std::filesystem::read_symlink("/proc/self/exe").string()
                             : args.fogm2m_binary;
  config.redis_binary = args.redis_binary;
  config.work_dir = args.work_dir.empty() ? "/var/tmp/fogm2m-" + args.name : args.work_dir;
  config.front_network = args.front_network;
  config.back_network = args.back_network;
  config.shared_sockets = args.shared_sockets == "always"  ? testbed::SharedSockets::kAlways
                          : args.shared_sockets == "never" ? testbed::SharedSockets::kNever
                                                           : testbed::SharedSockets::kAuto;
  config.device_network = args.device_network;
  config.detach = true;
  config.ready_timeout = std::chrono::seconds(args.timeout_s);

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);

  auto deployed = Deployment::up(config, &g_stop);
  if (!deployed) {
    std::cerr << "fogm2m cluster up: " << deployed.error().message << "\n";
    return 1;
  }
  Deployment& d = **deployed;
  if (Status written = testbed::write_cluster_state(testbed::cluster_state_of(d)); !written) {
    std::cerr << "fogm2m cluster up: " << written.error().message << "; tearing down\n";
    return 1;  // the deployment's destructor removes everything
  }
  if (g_stop.load()) {
    ::unlink(testbed::run_state_path(args.name).c_str());
    std::cerr << "fogm2m cluster up: interrupted; torn down\n";
    return 1;
  }
  d.release();
  std::cout << "cluster " << d.run_id() << " up in " << d.times().total_s
            << " s: " << d.nodes().size() << " node(s), " << d.config().devices << " device(s) in "
            << d.fleets().size() << " fleet(s)\n"
            << "  devices -> " << d.vip() << ":5683" << (d.config().dtls ? " / :5684 (DTLS)" : "")
            << "\n"
            << "  redis    " << d.redis_host() << ":6379 (reachable from namespace "
            << d.control_netns() << ")\n"
            << "  state    " << testbed::run_state_path(args.name) << ", logs in "
            << d.config().work_dir << "\n";
  if (d.shares_sockets())
    std::cout << "  devices share one socket per fleet thread, sending from "
              << d.fleets().front().source_range << (d.fleets().size() > 1 ? " and on" : "")
              << "\n";
  if (d.conntrack_max())
    std::cout << "  host's " << testbed::kConntrackMaxKey << " raised from "
              << d.conntrack_max()->before << " to " << d.conntrack_max()->after
              << " until `fogm2m cluster down`\n";
  if (args.print_lvs) {
    std::vector<std::string> backends;
    for (const auto& n : d.nodes()) backends.push_back(n.address);
    std::cout << "# equivalent LVS configuration (for hosts with IP_VS):\n"
              << testbed::lvs_commands(d.vip(), {5683, 5684}, backends);
  }
  return 0;
}

int cluster_status(const std::string& name) {
  Result<testbed::ClusterState> state = testbed::read_cluster_state(name);
  if (!state) {
    std::cerr << "fogm2m cluster status: " << state.error().message << "\n";
    return 1;
  }
  Result<testbed::ClusterOccupancy> occupancy = testbed::read_occupancy(*state);
  int dead = 0;
  auto line = [&](const testbed::MemberState& m, const std::string& extra) {
    const bool up = m.running();
    if (!up) ++dead;
    std::printf("  %-8s %-7s pid %-7lld %-15s %-20s %s\n", m.name.c_str(), up ? "running" : "DEAD",
                static_cast<long long>(m.pid), m.address.c_str(), m.netns.c_str(), extra.c_str());
  };
  std::printf("cluster %s: VIP %s, redis %s (from %s), cgroups %s\n", name.c_str(),
              state->vip.c_str(), state->redis_address.c_str(), state->control_netns.c_str(),
              state->cgroup_version.c_str());
  line(state->redis, "");
  for (const auto& n : state->nodes) {
    const int owned = occupancy ? occupancy->devices_by_node[n.name] : 0;
    line(n, "owns " + std::to_string(owned) + " device(s)");
  }
  for (const auto& f : state->fleets)
    line(f, std::to_string(f.devices) + " device(s) from dev-" + std::to_string(f.first_device) +
                (f.source_range.empty() ? "" : " at " + f.source_range));
  if (occupancy) {
    std::printf("  registered: %zu of %d device(s)\n", occupancy->registered, state->devices);
  } else {
    std::printf("  redis: %s\n", occupancy.error().message.c_str());
  }
  return dead == 0 && occupancy ? 0 : 3;
}

int cluster_down(const std::string& name, bool all_leftovers) {
  Result<testbed::CgroupHost> host = testbed::CgroupHost::detect();
  const testbed::CgroupHost* cgroups = host ? &*host : nullptr;
  if (!host) std::cerr << "fogm2m cluster down: cgroups: " << host.error().message << "\n";
  testbed::CleanupReport report = testbed::remove_run(name, cgroups);
  if (all_leftovers) {
    testbed::CleanupReport more = testbed::remove_leftovers(cgroups);
    report.processes += more.processes;
    report.namespaces += more.namespaces;
    report.cgroups += more.cgroups;
    report.tables += more.tables;
    report.sysctls += more.sysctls;
    report.containers += more.containers;
    report.errors.insert(report.errors.end(), more.errors.begin(), more.errors.end());
  }
  std::printf(
      "removed %d process(es), %d namespace(s), %d cgroup(s), %d nft table(s); %d host "
      "sysctl(s) put back\n",
      report.processes, report.namespaces, report.cgroups, report.tables, report.sysctls);
  if (report.containers > 0)
    std::printf("removed %d container(s) of the container backend\n", report.containers);
  for (const auto& e : report.errors) std::fprintf(stderr, "fogm2m cluster down: %s\n", e.c_str());
  return report.errors.empty() ? 0 : 1;
}

}  // namespace

void add_cluster_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "cluster", "Deploy, inspect and remove an emulated cluster on this machine (root)");
  cmd->require_subcommand(1);

  auto up = std::make_shared<UpArgs>();
  auto* up_cmd = cmd->add_subcommand("up",
                                     "Deploy Redis, nodes (own netns + cgroup each), the nftables "
                                     "load balancer and fleets; keep them running");
  up_cmd
      ->add_option("--name", up->name,
                   "Cluster name (1..6 of a-z0-9; prefixes every kernel object)")
      ->capture_default_str();
  up_cmd->add_option("--nodes", up->nodes, "Server nodes")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  up_cmd->add_option("--devices", up->devices, "Emulated devices (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  up_cmd->add_option("--fleets", up->fleets, "Fleet processes the devices are split over")
      ->capture_default_str()
      ->check(CLI::Range(1, 200));
  up_cmd->add_flag("--dtls", up->dtls,
                   "Devices use CoAP over DTLS-PSK (port 5684); PSKs are put into Redis");
  up_cmd->add_option("--cpu-quota-us", up->cpu_quota_us, "CFS quota of each node (0: unlimited)")
      ->capture_default_str();
  up_cmd->add_option("--cpu-period-us", up->cpu_period_us, "CFS period of each node")
      ->capture_default_str()
      ->check(CLI::Range(1000u, 1000000u));
  up_cmd->add_option("--memory-mb", up->memory_mb, "Memory limit of each node (0: unlimited)")
      ->capture_default_str();
  up_cmd->add_option("--lifetime", up->lifetime_s, "Registration lifetime of the devices, s")
      ->capture_default_str();
  up_cmd->add_option("--fleet-threads", up->threads, "Threads per fleet")->capture_default_str();
  up_cmd
      ->add_option("--timeout-s", up->timeout_s,
                   "Longest wait for nodes to join / devices to register")
      ->capture_default_str();
  up_cmd->add_flag("--print-lvs", up->print_lvs, "Also print the equivalent ipvsadm commands");
  up_cmd->add_option("--fogm2m", up->fogm2m_binary,
                     "fogm2m executable for nodes and fleets (default: this one)");
  up_cmd->add_option("--redis-server", up->redis_binary, "redis-server executable")
      ->capture_default_str();
  up_cmd->add_option("--work-dir", up->work_dir,
                     "Logs and Redis files (default /var/tmp/fogm2m-<name>)");
  up_cmd->add_option("--front-network", up->front_network, "Devices' /24 (VIP = .1)")
      ->capture_default_str();
  up_cmd->add_option("--back-network", up->back_network, "Nodes' and Redis' /24")
      ->capture_default_str();
  up_cmd
      ->add_option("--shared-sockets", up->shared_sockets,
                   "Plain-CoAP devices share one socket per fleet thread, each sending from its "
                   "own address: auto (when a fleet's devices exceed the descriptor limit), "
                   "always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  up_cmd
      ->add_option("--device-network", up->device_network,
                   "Block the fleets' device ranges are cut from (shared sockets)")
      ->capture_default_str();
  up_cmd->callback([up] {
    if (int code = cluster_up(*up); code != 0) throw CLI::RuntimeError(code);
  });

  auto status_name = std::make_shared<std::string>("main");
  auto* status_cmd =
      cmd->add_subcommand("status", "Show a cluster: processes alive, devices owned per node");
  status_cmd->add_option("--name", *status_name, "Cluster name")->capture_default_str();
  status_cmd->callback([status_name] {
    if (int code = cluster_status(*status_name); code != 0) throw CLI::RuntimeError(code);
  });

  auto down_name = std::make_shared<std::string>("main");
  auto keep_leftovers = std::make_shared<bool>(false);
  auto* down_cmd = cmd->add_subcommand("down",
                                       "Remove a cluster, and leftovers of crashed runs "
                                       "(namespaces fm-*, cgroups fogm2m-*, processes, "
                                       "containers of the container backend, host sysctls they "
                                       "raised)");
  down_cmd->add_option("--name", *down_name, "Cluster name")->capture_default_str();
  down_cmd->add_flag("--only-this", *keep_leftovers,
                     "Do not look for leftovers of other, dead runs");
  down_cmd->callback([down_name, keep_leftovers] {
    if (int code = cluster_down(*down_name, !*keep_leftovers); code != 0)
      throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
