#include "testbed/cluster_backend.h"

#include "testbed/container_deployment.h"

namespace fogm2m::testbed {

namespace {

// The namespace backend: a Deployment, as it is.
class NamespaceBackend final : public ClusterBackend {
 public:
  explicit NamespaceBackend(std::unique_ptr<Deployment> d) : d_(std::move(d)) {}

  BackendKind kind() const override { return BackendKind::kNamespaces; }
  Status down() override { return d_->down(); }
  const DeploymentConfig& config() const override { return d_->config(); }
  const std::vector<Member>& nodes() const override { return d_->nodes(); }
  const std::vector<Member>& fleets() const override { return d_->fleets(); }
  const Member& redis_member() const override { return d_->redis_member(); }
  const Member* gateway_member() const override { return d_->gateway_member(); }
  std::string gateway_host() const override { return d_->gateway_host(); }
  uint16_t gateway_port() const override { return d_->gateway_port(); }
  std::string gateway_token() const override { return d_->gateway_token(); }
  Result<RedisClient> redis() const override { return d_->redis(); }
  std::string redis_host() const override { return d_->redis_host(); }
  uint16_t redis_port() const override { return d_->redis_port(); }
  std::vector<std::string> redis_addresses() const override { return d_->redis_addresses(); }
  std::string control_netns() const override { return d_->control_netns(); }
  Deployment* namespace_deployment() override { return d_.get(); }

 private:
  std::unique_ptr<Deployment> d_;
};

}  // namespace

const char* to_string(BackendKind kind) {
  return kind == BackendKind::kContainer ? "container" : "namespaces";
}

Result<BackendKind> parse_backend(const std::string& name) {
  if (name == "namespaces") return BackendKind::kNamespaces;
  if (name == "container") return BackendKind::kContainer;
  return make_error(ErrorKind::kInvalidArgument,
                    "unknown backend \"" + name + "\" (one of: namespaces, container)");
}

Result<std::unique_ptr<ClusterBackend>> deploy_cluster(BackendKind kind, DeploymentConfig config,
                                                       const ContainerOptions& containers,
                                                       const std::atomic<bool>* cancel) {
  if (kind == BackendKind::kContainer) {
    auto d = ContainerDeployment::up(std::move(config), containers, cancel);
    if (!d) return d.error();
    return std::unique_ptr<ClusterBackend>(std::move(*d));
  }
  auto d = Deployment::up(std::move(config), cancel);
  if (!d) return d.error();
  return std::unique_ptr<ClusterBackend>(std::make_unique<NamespaceBackend>(std::move(*d)));
}

}  // namespace fogm2m::testbed
