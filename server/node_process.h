// A node as a process runs it (what `fogm2m node` runs): the Node with its
// object models, its UDP transport and (optionally) its DTLS transport,
// whose PSKs come from the node's cache, and (optionally) its Prometheus
// metrics over HTTP, on one io_context, until SIGINT or SIGTERM; then the
// transports stop and the node leaves the cluster.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "server/node.h"

namespace fogm2m::server {

struct NodeProcessOptions {
  NodeOptions node;
  std::string bind = "0.0.0.0";  // CoAP and CoAP/DTLS listen here
  uint16_t coap_port = 5683;
  uint16_t coaps_port = 5684;
  bool dtls = true;
  int socket_buffer_bytes = 4 << 20;  // CoAP UDP socket buffers (0: the system's)
  std::string models_dir;             // OMA DDF XML models to add to the built-in ones
  int stats_interval_s = 0;           // counters into the log every N s (0: never)
  // GET /metrics (node_metrics.h) on this port (0: an ephemeral one);
  // nullopt: no metrics and no listener.
  std::optional<uint16_t> metrics_port;
  std::string metrics_bind = "127.0.0.1";
  // While busy, wake at most once per this interval (io/coalescing_loop.h);
  // 0: wake for every event.
  std::chrono::microseconds coalesce{0};
};

// Runs until a signal; returns the process exit code: 0 after a signal, 1
// when the node, a transport or the metrics listener could not start, 2
// when the models could not be loaded. Logs through spdlog (the caller sets
// level and pattern).
int run_node_process(const NodeProcessOptions& options);

}  // namespace fogm2m::server
