// One emulated cluster on this machine: Redis, N server nodes and the device
// fleets, each in its own network namespace and cgroup, behind the nftables
// load balancer (see topology.h and load_balancer.h for the network).
//
//   fm-<run>-lb      bridges "front" and "back", VIP <front>.1, <back>.1, nft table
//   fm-<run>-redis   redis-server on <back>.2:6379, cgroup fogm2m-<run>/redis
//   (redis_cluster)  a Redis Cluster instead: fm-<run>-redis, -redis2 .. -redis6
//                    on <back>.2 .. <back>.7:6379 (3 masters, 3 replicas,
//                    joined by `redis-cli --cluster create`), a cgroup each
//   fm-<run>-node<i> `fogm2m node` on <back>.(10+i), cgroup .../node<i> (CPU quota, memory limit)
//   fm-<run>-fleet<j> `fogm2m fleet` on <front>.(10+j) -> VIP, cgroup .../fleet<j>;
//                     sharing sockets (below), its devices send from the
//                     fleet's own range of device_network
//   (config.gateway)  `fogm2m gateway` inside fm-<run>-lb on <back>.1:8080, cgroup .../gateway,
//                     its token in <work_dir>/gateway.token (0600)
//
// up() returns once every node has joined the cluster (its id is in the
// NODES set in Redis), the gateway (if any) accepts connections and, with
// devices, once every device is registered (waiting ready_timeout plus the
// fleets' ramp, and on while registrations keep coming).
//
// Sockets of the devices. By default every device has its own UDP socket
// (its own source port on the fleet's address), so a fleet holds at most as
// many devices as a process may have descriptors. Plain-CoAP fleets may
// share one socket per fleet thread instead (`fogm2m fleet --source-range`):
// device i of fleet j then sends from address i+1 of fleet j's range, an
// aligned block of device_network of at least /20 (all fleets one size,
// the smallest that holds the largest fleet: 1,000,000 devices in one fleet
// take a /12), made local inside the fleet's namespace and routed to it by
// the load balancer (Topology::add_local_range()). shared_sockets decides:
// kAuto shares when a fleet's devices would not fit the descriptor limit.
//
// Connection tracking. The load balancer keeps a conntrack entry per device
// address:port. When the host's net.netfilter.nf_conntrack_max (one value
// for the whole host; a namespace cannot write it) is below what the run
// needs (conntrack_entries), up() raises it for the run and down() puts it
// back; the raise is recorded (host_sysctl.h), so the cleanup of a crashed
// run puts it back too. Both are logged.
//
// down() (and the destructor) stops and removes everything in reverse order.
// `fogm2m cluster up` deploys detached and release()s the deployment so its
// processes outlive the command; `cluster down` then removes the run by name
// (cleanup.h).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/cgroup.h"
#include "testbed/cleanup.h"
#include "testbed/host_sysctl.h"
#include "testbed/load_balancer.h"
#include "testbed/process.h"
#include "testbed/redis_client.h"
#include "testbed/topology.h"

namespace fogm2m::testbed {

// Whether plain-CoAP devices share sockets (see above). DTLS devices never do.
enum class SharedSockets {
  kAuto,    // when a fleet's devices need more descriptors than a process may have
  kAlways,  // every plain-CoAP fleet
  kNever,   // one socket per device (a fleet too large for the limit fails)
};

struct DeploymentConfig {
  std::string run_id;  // 1..6 of [a-z0-9]; empty: a random one
  int nodes = 3;
  // The reference study's containers: 25 ms per 100 ms, 512 MB.
  CgroupLimits node_limits{25000, 100000, 512ull << 20, ""};
  // Fleets' own limits (0: unlimited), as the scenario's fleet_* parameters.
  CgroupLimits fleet_limits{0, 100000, 0, ""};
  // Redis's (unlimited; its CPUs when the placement is split).
  CgroupLimits redis_limits{0, 100000, 0, ""};
  int devices = 0;  // 0: no fleets
  int fleets = 1;
  bool dtls = false;  // devices use CoAP/DTLS-PSK to VIP:5684 (PSKs provisioned in Redis)
  int device_lifetime_s = 300;
  int fleet_threads = 1;
  double fleet_ramp_s = -1;  // < 0: the fleet's default
  int sampling_ms = 50;
  uint64_t seed = 1;
  std::string endpoint_pattern =
      "dev-{n}";  // {n}/{n:W} count from 1 over all fleets (emulated_clients/name_pattern.h)
  std::string fogm2m_binary;  // path of the fogm2m executable
  std::string redis_binary = "/usr/bin/redis-server";
  // Redis persistence: "" (none, the reference study's), or an AOF with
  // this appendfsync policy: "always" (no acknowledged write lost),
  // "everysec", "no".
  std::string redis_appendfsync;
  // A Redis Cluster of 6 redis-servers (3 masters with a replica each)
  // instead of one; nodes and gateway get --redis-cluster, the bus runs on
  // sharded pub/sub. restart_redis() is refused on it.
  bool redis_cluster = false;
  std::string redis_cli_binary = "/usr/bin/redis-cli";
  std::string work_dir;  // logs, Redis dir, fleet stats; empty: /tmp/fogm2m-<run>
  std::string front_network = "10.77.0.0";
  std::string back_network = "10.78.0.0";
  SharedSockets shared_sockets = SharedSockets::kAuto;
  // The block the fleets' device ranges are cut from (IPv4 CIDR, apart from
  // the front and back networks).
  std::string device_network = "10.128.0.0/9";
  // Conntrack entries the load balancer must be able to hold: 0 for one per
  // device plus kConntrackHeadroom.
  uint64_t conntrack_entries = 0;
  // false: the processes get PR_SET_PDEATHSIG(SIGKILL) and so die with the
  // *thread* that called up() (keep that thread alive as long as the run);
  // true: own sessions, they outlive this process (`cluster up`).
  bool detach = false;
  std::chrono::milliseconds ready_timeout{60000};
  std::vector<std::string> node_args;   // appended to every `fogm2m node`
  std::vector<std::string> fleet_args;  // appended to every `fogm2m fleet`
  // Also run the REST gateway (`fogm2m gateway`) in the control namespace
  // (the load balancer's, where Redis is reachable), listening on the load
  // balancer's back address at gateway_port, in its own cgroup with these
  // limits (unlimited, as Redis'; its CPUs when the placement is split),
  // with a random bearer token given by --token-file.
  bool gateway = false;
  CgroupLimits gateway_limits{0, 100000, 0, ""};
  uint16_t gateway_port = 8080;
  std::vector<std::string> gateway_args;  // appended to `fogm2m gateway`
};

// One process of the deployment with where it lives.
struct Member {
  std::string name;  // "redis", "node1", "fleet1", "gateway"
  std::string netns;
  std::string address;
  std::string log_path;
  std::optional<Cgroup> cgroup;
  std::optional<Process> process;
  unsigned long long start_time = 0;  // of the process (/proc/<pid>/stat), 0 when stopped
  int first_device = 0, devices = 0;  // fleets
  std::string stats_path;             // fleets: the --stats-file
  std::string source_range;           // fleets sharing sockets: their devices' addresses
  std::vector<std::string> argv;      // how it was started (restarts reuse it)
  // A process the testbed watches but did not start (a container's first
  // process, testbed/container_deployment.h); -1 for none.
  pid_t foreign_pid = -1;
  pid_t pid() const { return process ? process->pid() : foreign_pid; }
};

// How long the phases of up() took.
struct DeployTimes {
  double network_s = 0, redis_s = 0, nodes_s = 0, fleets_s = 0, total_s = 0;
};

// Entries beyond one per device: flows the nodes open towards devices, the
// bus and gateway connections of the control namespace.
inline constexpr uint64_t kConntrackHeadroom = 16384;

// The device range of fleet `fleet` (1-based) of `fleets` whose largest
// holds `devices_per_fleet` devices, cut from `block` (see above); error
// when the block is too small.
Result<std::string> fleet_device_range(const std::string& block, int fleets, int devices_per_fleet,
                                       int fleet);

class Deployment {
 public:
  // Deploys everything; on error (or when *cancel turns true) removes what
  // was made and returns why.
  static Result<std::unique_ptr<Deployment>> up(DeploymentConfig config,
                                                const std::atomic<bool>* cancel = nullptr);

  ~Deployment();
  Deployment(const Deployment&) = delete;
  Deployment& operator=(const Deployment&) = delete;

  // Stops fleets, nodes and Redis, removes the load balancer, cgroups and
  // namespaces. Idempotent; returns the first error but removes all it can.
  Status down();

  // Forgets everything without stopping it (detached `cluster up`).
  void release();

  // Changing the node set: adds node <n> (the next unused index) and puts it
  // into the load balancer once it has joined; returns its index.
  Result<int> add_node();
  // Takes node <index> out of the load balancer, then stops and removes it.
  Status remove_node(int index);

  // Faults (runner/fault_injector.h drives them from a scenario's faults:).
  // Processes stay in their namespace and cgroup, so a restart is the same
  // member again. Errors name the member.
  // SIGKILL (nothing flushed, nothing said to the cluster).
  Status kill_node(int index);
  // SIGSTOP / SIGCONT: a node that hangs, keeping its sockets.
  Status pause_node(int index);
  Status resume_node(int index);
  // Stops node<index> (SIGTERM: a graceful drain) if it runs, starts it
  // again and returns once it has joined the cluster.
  Status restart_node(int index);
  // SIGKILLs Redis and starts it again on its directory (an AOF reloads);
  // returns once it answers PING.
  Status restart_redis();
  // SIGUSR1 to every fleet: its devices move to new source ports (NAT
  // rebinding; emulated::Fleet::rebind).
  Status rebind_devices();
  // Cuts node<index>'s cable to the cluster network, or mends it.
  Status set_node_link(int index, bool up);
  // Puts exactly these nodes (by index) into the load balancer.
  Status set_balanced_nodes(const std::vector<int>& indexes);
  // Whether node<index>'s process runs (a paused one does).
  bool node_running(int index);

  // Waits until `count` registrations are in Redis (REG:EP:* keys): up to
  // `timeout`, and past it for as long as their number keeps growing
  // (`stall` without a new one ends the wait; zero: no grace).
  Status wait_registered(size_t count, std::chrono::milliseconds timeout,
                         const std::atomic<bool>* cancel = nullptr,
                         std::chrono::milliseconds stall = std::chrono::milliseconds(0));

  // A new connection to the run's Redis, from the control namespace.
  Result<RedisClient> redis() const;

  const DeploymentConfig& config() const { return config_; }
  const std::string& run_id() const { return config_.run_id; }
  const std::vector<Member>& nodes() const { return nodes_; }
  const std::vector<Member>& fleets() const { return fleets_; }
  const Member& redis_member() const { return redis_; }
  // The gateway (config().gateway), null without one. It listens on
  // gateway_host():gateway_port() inside control_netns() and lets in
  // requests with "Authorization: Bearer <gateway_token()>".
  const Member* gateway_member() const { return gateway_.cgroup ? &gateway_ : nullptr; }
  const std::string& gateway_host() const { return gateway_.address; }
  uint16_t gateway_port() const { return config_.gateway_port; }
  const std::string& gateway_token() const { return gateway_token_; }
  Member* node(int index);  // node<index>, null when absent
  const std::string& vip() const { return topology_->vip(); }
  const std::string& redis_host() const { return redis_.address; }
  uint16_t redis_port() const { return 6379; }
  // Every Redis server of the run as "host:port" (one unless redis_cluster).
  std::vector<std::string> redis_addresses() const;
  // The Redis Cluster's servers beyond redis_member() (empty for one Redis).
  const std::vector<Member>& redis_peers() const { return redis_peers_; }
  // A namespace from which Redis is reachable (the load balancer's).
  const std::string& control_netns() const { return topology_->lb_netns(); }
  const std::string& lb_netns() const { return topology_->lb_netns(); }
  const NftablesLoadBalancer& load_balancer() const { return *lb_; }
  const CgroupHost& cgroup_host() const { return *cgroup_host_; }
  const DeployTimes& times() const { return times_; }
  // Whether the fleets' devices share sockets (source ranges), and the
  // host's conntrack limit as the run found and left it.
  bool shares_sockets() const { return shares_sockets_; }
  const std::optional<SysctlChange>& conntrack_max() const { return conntrack_max_; }
  // Node id of node<index> as given to `fogm2m node --id`.
  static std::string node_id(int index) { return "node" + std::to_string(index); }
  // The index of node<index> (a node member's name); 0 for other names.
  static int node_index(const std::string& name) {
    return name.starts_with("node") ? std::atoi(name.c_str() + 4) : 0;
  }

 private:
  explicit Deployment(DeploymentConfig config) : config_(std::move(config)) {}
  Status bring_up(const std::atomic<bool>* cancel);
  // `local_range`: a CIDR the member's namespace owns (Topology::add_local_range()).
  Result<Member> start_member(const std::string& name, Side side, int host_number,
                              const CgroupLimits& limits, std::vector<std::string> argv,
                              const std::string& local_range = "");
  Result<Member> start_node(int index);
  Status start_gateway(const std::atomic<bool>* cancel);
  Status wait_joined(const std::vector<int>& indexes, const std::atomic<bool>* cancel);
  Status stop_member(Member& member);
  Status relaunch(Member& member);
  Status wait_redis_answers(const std::atomic<bool>* cancel);
  Status start_redis_cluster(const std::vector<std::string>& common_argv,
                             const std::atomic<bool>* cancel);
  // "--redis host:port" or "--redis-cluster host:port,...", for nodes and gateway.
  std::vector<std::string> redis_option() const;
  Status start_fleets(const std::atomic<bool>* cancel);
  Status raise_conntrack_max();
  std::string check_processes(std::vector<Member>& members);

  DeploymentConfig config_;
  std::thread::id launcher_;  // the thread that ran up()
  std::optional<RunLock> lock_;
  std::optional<CgroupHost> cgroup_host_;
  std::optional<Topology> topology_;
  std::optional<NftablesLoadBalancer> lb_;
  Member redis_;
  std::vector<Member> redis_peers_;  // redis_cluster: redis2 .. redis6
  std::vector<Member> nodes_;
  std::vector<Member> fleets_;
  Member gateway_;             // config_.gateway: lives in the load balancer's namespace
  std::string gateway_token_;  // and its token, also in gateway_token_path_ (0600)
  std::string gateway_token_path_;
  DeployTimes times_;
  bool shares_sockets_ = false;
  std::optional<SysctlChange> conntrack_max_;  // raised for this run
  bool released_ = false;
};

}  // namespace fogm2m::testbed
