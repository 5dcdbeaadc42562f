#include "runner/fault_injector.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "scenario/faults.h"

namespace fogm2m::runner {

namespace {

using Clock = std::chrono::steady_clock;

// How often faults are due-checked and the nodes probed.
constexpr std::chrono::milliseconds kTick{250};

std::string node_name(int index) {
  return testbed::Deployment::node_id(index);
}

}  // namespace

FaultInjector::FaultInjector(testbed::Deployment& deployment, std::vector<schema::Fault> faults,
                             Clock::time_point load_start)
    : deployment_(deployment), load_start_(load_start) {
  std::stable_sort(faults.begin(), faults.end(),
                   [](const auto& a, const auto& b) { return a.at_s() < b.at_s(); });
  for (auto& f : faults) {
    InjectedFault injected;
    injected.fault = std::move(f);
    faults_.push_back(std::move(injected));
  }
  for (const auto& n : deployment_.nodes())
    balanced_.push_back(testbed::Deployment::node_index(n.name));
}

FaultInjector::~FaultInjector() {
  stop();
}

Status FaultInjector::start() {
  auto health = testbed::HealthCheck::create(deployment_.lb_netns());
  if (!health) return health.error();
  health_.emplace(std::move(*health));
  thread_ = std::thread([this] { loop(); });
  return {};
}

void FaultInjector::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
  for (const schema::Fault* f : to_heal_) heal(*f);
  to_heal_.clear();
}

double FaultInjector::now_s() const {
  return std::chrono::duration<double>(Clock::now() - load_start_).count();
}

void FaultInjector::event(std::string what) {
  spdlog::info("fault run at {:.2f} s: {}", now_s(), what);
  events_.push_back(FaultEvent{now_s(), std::move(what)});
}

void FaultInjector::loop() {
  size_t next = 0;
  while (!stopping_) {
    const auto tick_end = Clock::now() + kTick;
    while (next < faults_.size() && faults_[next].fault.at_s() <= now_s()) inject(faults_[next++]);
    for (auto it = to_heal_.begin(); it != to_heal_.end();) {
      if ((*it)->at_s() + (*it)->duration_s() <= now_s()) {
        heal(**it);
        it = to_heal_.erase(it);
      } else {
        ++it;
      }
    }
    check_health();
    if (ownership_.empty() || now_s() - ownership_.back().t_s >= 1.0) sample_ownership();
    std::this_thread::sleep_until(tick_end);
  }
}

void FaultInjector::inject(InjectedFault& f) {
  const schema::Fault& fault = f.fault;
  f.injected_s = now_s();
  const std::string& kind = fault.kind();
  int index = 0;
  if (scenario::fault_targets_node(kind)) index = *scenario::fault_node_index(fault.target());
  event(kind + (index ? " " + node_name(index) : std::string()));
  Status s;
  if (kind == "kill_node") {
    s = deployment_.kill_node(index);
  } else if (kind == "stop_node") {
    s = deployment_.pause_node(index);
  } else if (kind == "restart_node") {
    // A graceful restart drains first, as an operator would: out of the
    // load balancer (its devices move on and are taken over), then SIGTERM.
    kept_out_.insert(index);
    check_health();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    s = deployment_.restart_node(index);
    kept_out_.erase(index);
  } else if (kind == "restart_redis") {
    s = deployment_.restart_redis();
  } else if (kind == "rebind_devices") {
    s = deployment_.rebind_devices();
  } else if (kind == "partition_node") {
    s = deployment_.set_node_link(index, false);
  } else if (kind == "lb_remove_node") {
    kept_out_.insert(index);
  } else if (kind == "lb_add_node") {
    kept_out_.erase(index);
  }
  if (!s) {
    f.error = s.error().message;
    spdlog::warn("fault {} failed: {}", kind, f.error);
    return;
  }
  if (scenario::fault_has_duration(kind)) to_heal_.push_back(&fault);
}

void FaultInjector::heal(const schema::Fault& f) {
  const int index = *scenario::fault_node_index(f.target());
  event("end of " + f.kind() + " " + node_name(index));
  Status s = f.kind() == "stop_node" ? deployment_.resume_node(index)
                                     : deployment_.set_node_link(index, true);
  if (!s) spdlog::warn("ending {}: {}", f.kind(), s.error().message);
}

void FaultInjector::sample_ownership() {
  OwnershipSample sample;
  sample.t_s = now_s();
  auto redis = deployment_.redis();
  if (!redis) return;  // Redis restarting: no sample this second
  auto owners = redis->owners();
  if (!owners) return;
  for (const auto& n : deployment_.nodes()) sample.by_node[n.name] = 0;
  for (const auto& [ep, node] : *owners) ++sample.by_node[node];
  ownership_.push_back(std::move(sample));
}

void FaultInjector::check_health() {
  std::vector<std::string> addresses;
  for (const auto& n : deployment_.nodes()) addresses.push_back(n.address);
  const auto healthy = health_->probe(addresses);
  std::vector<int> wanted;
  for (const auto& n : deployment_.nodes()) {
    const int index = testbed::Deployment::node_index(n.name);
    if (healthy.at(n.address) && kept_out_.count(index) == 0) wanted.push_back(index);
  }
  if (wanted == balanced_) return;
  if (Status s = deployment_.set_balanced_nodes(wanted); !s) {
    spdlog::warn("load balancer: {}", s.error().message);
    return;
  }
  balanced_ = wanted;
  std::string set;
  for (int i : wanted) set += " " + node_name(i);
  event("load balancer:" + (set.empty() ? std::string(" no nodes") : set));
  for (InjectedFault& f : faults_) {
    if (f.injected_s < 0 || f.lb_removed_after_s >= 0 ||
        !scenario::fault_targets_node(f.fault.kind()))
      continue;
    const int index = *scenario::fault_node_index(f.fault.target());
    if (std::find(wanted.begin(), wanted.end(), index) == wanted.end())
      f.lb_removed_after_s = now_s() - f.injected_s;
  }
}

}  // namespace fogm2m::runner
