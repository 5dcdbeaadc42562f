// The container backend of the testbed: the topology of deployment.h as
// podman (or docker) containers on one network made for the run.
//
//   network fm-<run>          internal (no route out, no NAT on the host), no
//                             DNS: every container has a fixed address of
//                             ContainerOptions::network (a.b.0.0/16)
//   fm-<run>-lb     a.b.0.3   the nftables jhash load balancer of the images
//                             (docker/fogm2m-lb, docker/lb.nft): devices send
//                             to it, it DNATs to a node by a hash of their
//                             source ip:port and masquerades
//   fm-<run>-redis  a.b.0.2   redis-server (REDIS_IMAGE)
//   fm-<run>-node<i> a.b.1.i  `fogm2m node` under --cpu-period/--cpu-quota/
//                             --memory (and --cpuset-cpus) of node_limits
//   fm-<run>-fleet<j> a.b.2.j `fogm2m fleet` to a.b.0.3, under fleet_limits;
//                             work_dir is mounted at the same path, so its
//                             stats file is where the runner reads it
//   fm-<run>-gateway a.b.0.4  (config.gateway) `fogm2m gateway` on
//                             gateway_port, under gateway_limits, its random
//                             token in <work_dir>/gateway.token (0600, mounted)
// Every container carries the label fogm2m.run=<run>.
//
// Members are filled as the namespace backend fills them: cgroup is the
// container's own group (Cgroup::of_process() of its pid: v1 or v2, as the
// engine made it), the pid is the container's first process (fogm2m itself:
// the entrypoint execs it), netns is /proc/<pid>/ns/net. The load generator
// reaches Redis from the load balancer's namespace, as in the namespace
// backend, so its traffic stays on the run's network.
//
// Not here (the loader and up() refuse them): faults, devices sharing
// sockets (a fleet has a socket per device, at most the containers'
// descriptor limit).
//
// Cleanup. Before anything is made, /run/fogm2m/<run>.containers records the
// engine, its CONTAINERS_CONF / CONTAINERS_STORAGE_CONF and the network; the
// run lock is held as for the namespace backend. down() removes the
// containers (fleets first, so they de-register), the network and the
// record. remove_run_containers() (cleanup.h's remove_run() calls it) does
// the same for a run that crashed, from its record.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/cgroup.h"
#include "testbed/cleanup.h"
#include "testbed/cluster_backend.h"
#include "testbed/command.h"
#include "testbed/deployment.h"

namespace fogm2m::testbed {

// /run/fogm2m/<run>.containers
std::string run_containers_path(const std::string& run);

// Removes the containers labelled fogm2m.run=<run> and the network of the
// record run_containers_path(run), then the record. Nothing to do (no
// record) is success; `removed` (may be null) gets how many containers went.
Status remove_run_containers(const std::string& run, int* removed = nullptr);

// Run ids with a container record.
std::vector<std::string> runs_with_container_records();

class ContainerDeployment final : public ClusterBackend {
 public:
  // Deploys everything; on error (or when *cancel turns true) removes what
  // was made and returns why. config.fogm2m_binary and redis_binary are not
  // used (the images hold them).
  static Result<std::unique_ptr<ContainerDeployment>> up(DeploymentConfig config,
                                                         ContainerOptions options,
                                                         const std::atomic<bool>* cancel = nullptr);

  ~ContainerDeployment() override;
  ContainerDeployment(const ContainerDeployment&) = delete;
  ContainerDeployment& operator=(const ContainerDeployment&) = delete;

  BackendKind kind() const override { return BackendKind::kContainer; }
  Status down() override;
  const DeploymentConfig& config() const override { return config_; }
  const std::vector<Member>& nodes() const override { return nodes_; }
  const std::vector<Member>& fleets() const override { return fleets_; }
  const Member& redis_member() const override { return redis_; }
  const Member* gateway_member() const override {
    return gateway_.foreign_pid > 0 ? &gateway_ : nullptr;
  }
  std::string gateway_host() const override { return gateway_.address; }
  uint16_t gateway_port() const override { return config_.gateway_port; }
  std::string gateway_token() const override { return gateway_token_; }
  Result<RedisClient> redis() const override;
  std::string redis_host() const override { return redis_.address; }
  uint16_t redis_port() const override { return 6379; }
  std::vector<std::string> redis_addresses() const override { return {redis_.address + ":6379"}; }
  std::string control_netns() const override { return lb_.netns; }

  const Member& load_balancer() const { return lb_; }
  const std::string& engine() const { return engine_; }
  const std::string& network_name() const { return network_; }
  // The container of a member ("node1" -> fm-<run>-node1).
  std::string container_name(const std::string& member) const;

 private:
  ContainerDeployment(DeploymentConfig config, ContainerOptions options)
      : config_(std::move(config)), options_(std::move(options)) {}
  Status bring_up(const std::atomic<bool>* cancel);
  std::string address(int block, int host) const;
  // `podman run -d` of one container; fills the member once it runs.
  Result<Member> start(const std::string& name, const std::string& address,
                       const CgroupLimits& limits, std::vector<std::string> engine_args,
                       const std::string& image, std::vector<std::string> command);
  Result<CommandResult> run_engine(std::vector<std::string> args, int timeout_s = 120) const;
  std::string logs(const std::string& member) const;
  // Why the member (one of the members) is not running, "" when it runs.
  std::string check_running(const Member& member) const;
  std::string check_running(const std::vector<Member>& members) const;
  Status wait_lb_ready(const std::atomic<bool>* cancel);
  Status wait_redis_answers(const std::atomic<bool>* cancel);
  Status wait_joined(const std::atomic<bool>* cancel);
  Status wait_registered(const std::atomic<bool>* cancel);
  Status start_gateway(const std::atomic<bool>* cancel);

  DeploymentConfig config_;
  ContainerOptions options_;
  std::string engine_;   // resolved engine binary
  std::string network_;  // fm-<run>, once created
  std::optional<RunLock> lock_;
  std::optional<CgroupHost> cgroup_host_;
  Member lb_, redis_, gateway_;
  std::string gateway_token_;
  std::vector<Member> nodes_, fleets_;
  std::vector<std::string> started_;  // container names, in start order
  bool record_written_ = false;
};

}  // namespace fogm2m::testbed
