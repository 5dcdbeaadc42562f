// The load balancer's health check, as keepalived does it for LVS: every
// round probes each node with a CoAP ping (an empty Confirmable message,
// which a CoAP endpoint answers with Reset, RFC 7252 4.3) from the load
// balancer's namespace. A node that misses `misses_to_fail` rounds in a row
// is unhealthy; one answer makes it healthy again. It looks at the node's
// CoAP port only, never at Redis, so a Redis restart fails no node.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct HealthCheckOptions {
  uint16_t port = 5683;
  std::chrono::milliseconds probe_timeout{200};
  int misses_to_fail = 2;
};

class HealthCheck {
 public:
  // Opens the probing socket inside `netns` (empty: the caller's).
  static Result<HealthCheck> create(const std::string& netns, HealthCheckOptions options = {});
  HealthCheck(HealthCheck&& other) noexcept;
  HealthCheck& operator=(HealthCheck&&) = delete;
  ~HealthCheck();

  // One round: pings every address at once, waits up to probe_timeout for
  // the answers; returns which addresses are healthy now (an address seen
  // for the first time starts healthy).
  std::map<std::string, bool> probe(const std::vector<std::string>& addresses);

 private:
  HealthCheck(int fd, HealthCheckOptions options) : fd_(fd), options_(options) {}

  int fd_ = -1;
  HealthCheckOptions options_;
  uint16_t next_id_ = 1;
  std::map<std::string, int> misses_;  // consecutive missed rounds by address
};

}  // namespace fogm2m::testbed
