// Injects a scenario's faults (schema::Fault) into a deployed cluster while
// the load runs, and keeps the load balancer's node set in line with the
// nodes' health, as keepalived does for LVS (testbed/health_check.h): a
// dead, hung or cut-off node leaves the set within about a second, one that
// answers again comes back (unless an lb_remove_node fault keeps it out).
//
// Runs on a thread of its own between start() and stop(); meanwhile only
// that thread touches the Deployment. stop() heals what is still broken
// (resumes paused nodes, mends cut links), so the run's teardown finds the
// cluster as it made it.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"
#include "testbed/deployment.h"
#include "testbed/health_check.h"

namespace fogm2m::runner {

struct InjectedFault {
  schema::Fault fault;
  double injected_s = -1;          // when, from the load's start (-1: not reached)
  std::string error;               // the injection failed
  double lb_removed_after_s = -1;  // node faults: until the health check took it out
};

// Something that changed, for the run's timeline.
struct FaultEvent {
  double t_s = 0;
  std::string what;  // "kill_node node-2", "lb: node1 node3", ...
};

// Devices each node owns (ownership keys in Redis), sampled once a second.
struct OwnershipSample {
  double t_s = 0;
  std::map<std::string, int> by_node;  // node id -> devices
};

class FaultInjector {
 public:
  FaultInjector(testbed::Deployment& deployment, std::vector<schema::Fault> faults,
                std::chrono::steady_clock::time_point load_start);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  // Opens the health check in the load balancer's namespace and starts.
  Status start();
  // Stops, heals what is still broken; idempotent.
  void stop();

  // After stop().
  const std::vector<InjectedFault>& faults() const { return faults_; }
  const std::vector<FaultEvent>& events() const { return events_; }
  const std::vector<OwnershipSample>& ownership() const { return ownership_; }

 private:
  void loop();
  double now_s() const;
  void inject(InjectedFault& f);
  void heal(const schema::Fault& f);
  void check_health();
  void event(std::string what);
  void sample_ownership();

  testbed::Deployment& deployment_;
  std::vector<InjectedFault> faults_;
  std::vector<FaultEvent> events_;
  std::vector<OwnershipSample> ownership_;
  std::chrono::steady_clock::time_point load_start_;
  std::optional<testbed::HealthCheck> health_;
  std::set<int> kept_out_;  // lb_remove_node, until lb_add_node
  std::vector<int> balanced_;
  std::vector<const schema::Fault*> to_heal_;  // duration faults in progress
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace fogm2m::runner
