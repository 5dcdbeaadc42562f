// `fogm2m node`: runs one LwM2M server node of a cluster until SIGTERM/SIGINT.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "io/host_port.h"
#include "io/redis_client.h"
#include "server/node_process.h"

namespace fogm2m::cli {

namespace {

struct NodeArgs {
  server::NodeProcessOptions process;
  std::string redis = "127.0.0.1:6379";
  std::string redis_cluster;  // "host:port,host:port,...": a Redis Cluster instead
  bool memory = false;
  std::string log_level = "info";
  int device_timeout_ms = 5000;
  int bus_ack_delay_ms = 0;
  int coalesce_us = 0;
  double awake_s = 93;
  std::string reg_update_channel;
};

int run_node(NodeArgs args) {
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + args.process.node.node_id + "] %v");
  server::NodeOptions& node = args.process.node;
  if (!args.memory && !io::split_host_port(args.redis, node.redis_host, node.redis_port)) {
    std::cerr << "fogm2m node: --redis must be host:port, got \"" << args.redis << "\"\n";
    return 2;
  }
  if (!args.memory && !args.redis_cluster.empty() &&
      !io::parse_cluster_addresses(args.redis_cluster, node.redis_cluster)) {
    std::cerr << "fogm2m node: --redis-cluster must be host:port,host:port,..., got \""
              << args.redis_cluster << "\"\n";
    return 2;
  }
  if (args.memory) node.redis_host.clear();
  node.device_timeout = std::chrono::milliseconds(args.device_timeout_ms);
  node.bus_ack_delay = std::chrono::milliseconds(args.bus_ack_delay_ms);
  args.process.coalesce = std::chrono::microseconds(args.coalesce_us);
  node.awake_time = std::chrono::milliseconds(static_cast<int64_t>(args.awake_s * 1000));
  if (!args.reg_update_channel.empty()) node.channels.registration_update = args.reg_update_channel;
  return server::run_node_process(args.process);
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto args = std::make_shared<NodeArgs>();
  auto* cmd =
      app.add_subcommand("node", "Run one LwM2M server node of a cluster (until SIGTERM/SIGINT)");
  cmd->add_option("--id", args->process.node.node_id, "Instance id of this node (ownership EP#UID)")
      ->capture_default_str();
  cmd->add_option("--bind", args->process.bind, "Address to listen on for CoAP and CoAP/DTLS")
      ->capture_default_str();
  cmd->add_option("--coap-port", args->process.coap_port, "CoAP (UDP) port")->capture_default_str();
  cmd->add_option("--coaps-port", args->process.coaps_port, "CoAP over DTLS (PSK) port")
      ->capture_default_str();
  cmd->add_flag("!--no-dtls", args->process.dtls, "Do not listen for CoAP over DTLS");
  cmd->add_option("--redis", args->redis, "Redis host:port shared by the cluster")
      ->capture_default_str();
  cmd->add_option("--redis-cluster", args->redis_cluster,
                  "Redis Cluster nodes host:port,host:port,... (any of them; replaces --redis; "
                  "the bus uses sharded pub/sub)");
  cmd->add_flag("--memory", args->memory, "Single node: keep everything in memory, no Redis");
  cmd->add_option("--device-timeout-ms", args->device_timeout_ms,
                  "Timeout of a request to a device")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  cmd->add_option("--bus-ack-delay-ms", args->bus_ack_delay_ms,
                  "0: ack every bus request at once, then reply (the reference study's shape); "
                  "N: ack only requests the device has not answered within N ms, so a prompt "
                  "answer costs one publish instead of two")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  cmd->add_option("--models", args->process.models_dir,
                  "Folder of OMA DDF XML object models to load")
      ->check(CLI::ExistingDirectory);
  cmd->add_option(
      "--reg-update-channel", args->reg_update_channel,
      "Channel of registration updates (LESHAN_REG_UPD; Leshan's cluster used LESHAN_REG_UP)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->add_option("--coalesce-us", args->coalesce_us,
                  "While busy, wake at most once per N microseconds and handle what came meanwhile "
                  "in one pass: fewer wakeups and syscalls per request for up to N us of added "
                  "latency; idle, wake at once (0: wake for every event)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->add_option(
         "--socket-buffer", args->process.socket_buffer_bytes,
         "CoAP UDP socket receive/send buffer in bytes (0: the system's default); bursts of "
         "notifications wait there while the node is busy")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-pending-registrations", args->process.node.max_pending_registrations,
                  "Registers waiting for Redis at once; beyond, a Register is answered 5.03 with a "
                  "Max-Age spread over the backlog (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--awake-time-s", args->awake_s,
                  "Queue mode: a queue-mode device sleeps this long after its last message; "
                  "requests for it wait on this node until it wakes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--queue-limit", args->process.node.max_queued_per_device,
                  "Queue mode: bus requests that may wait for one sleeping device")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stats-interval", args->process.stats_interval_s,
                  "Print counters every N seconds (0: never)")
      ->capture_default_str();
  cmd->add_option("--metrics-port", args->process.metrics_port,
                  "Serve Prometheus metrics at http://BIND:PORT/metrics (off without this option)");
  cmd->add_option("--metrics-bind", args->process.metrics_bind, "Address of the metrics listener")
      ->capture_default_str();
  cmd->callback([args] {
    if (int code = run_node(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
