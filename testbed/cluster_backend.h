// What the scenario runner needs of a deployed cluster, whichever backend
// deployed it:
//   namespaces  testbed/deployment.h: processes in network namespaces and
//               cgroups the testbed makes itself (the default)
//   container   testbed/container_deployment.h: the same topology as podman
//               (or docker) containers on a network made for the run
// Both fill the same Members (a cgroup to sample, a pid whose namespace's
// interfaces are counted, a namespace the load generator reaches Redis
// from), so one scenario file gives comparable records on both.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/deployment.h"
#include "testbed/redis_client.h"

namespace fogm2m::testbed {

enum class BackendKind { kNamespaces, kContainer };

const char* to_string(BackendKind kind);  // "namespaces" / "container"
// "namespaces" or "container"; kInvalidArgument for anything else.
Result<BackendKind> parse_backend(const std::string& name);

// Container engine and images (container backend only).
struct ContainerOptions {
  // "podman", "docker" or a path to either; empty: $FOGM2M_CONTAINER_ENGINE,
  // else podman when it is in PATH, else docker.
  std::string engine;
  // Images made by scripts/container-images.sh (docker/Dockerfile.prebuilt
  // of the fogm2m binary, docker/Dockerfile.redis); empty: $FOGM2M_IMAGE,
  // $REDIS_IMAGE.
  std::string fogm2m_image;
  std::string redis_image;
  // The run's network, a /16 (a.b.0.0): Redis a.b.0.2, the load balancer
  // a.b.0.3, node<i> a.b.1.<i>, fleet<j> a.b.2.<j>.
  std::string network = "10.76.0.0";
};

// A deployed cluster. down() (and the destructor) removes all of it.
class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;

  virtual BackendKind kind() const = 0;
  // Stops and removes everything the deployment made. Idempotent; returns
  // the first error but removes all it can.
  virtual Status down() = 0;

  virtual const DeploymentConfig& config() const = 0;
  virtual const std::vector<Member>& nodes() const = 0;
  virtual const std::vector<Member>& fleets() const = 0;
  virtual const Member& redis_member() const = 0;
  // Null without a gateway.
  virtual const Member* gateway_member() const = 0;
  virtual std::string gateway_host() const = 0;
  virtual uint16_t gateway_port() const = 0;
  virtual std::string gateway_token() const = 0;

  // A new connection to the run's Redis, made from control_netns().
  virtual Result<RedisClient> redis() const = 0;
  virtual std::string redis_host() const = 0;
  virtual uint16_t redis_port() const = 0;
  // Every Redis server as "host:port" (six for a Redis Cluster, else one).
  virtual std::vector<std::string> redis_addresses() const = 0;
  // The network namespace the load generator opens its connections in (a
  // name of /run/netns, or /proc/<pid>/ns/net): Redis is one hop away.
  virtual std::string control_netns() const = 0;

  // The namespace backend's deployment (what faults act on); null for others.
  virtual Deployment* namespace_deployment() { return nullptr; }
};

// Deploys `config` with the backend `kind` (see Deployment::up() and
// ContainerDeployment::up()).
Result<std::unique_ptr<ClusterBackend>> deploy_cluster(BackendKind kind, DeploymentConfig config,
                                                       const ContainerOptions& containers,
                                                       const std::atomic<bool>* cancel = nullptr);

}  // namespace fogm2m::testbed
