// `fogm2m node`: runs one LwM2M server node of a cluster until SIGTERM/SIGINT.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/host_port.h"
#include "lwm2m/model.h"
#include "server/transport/dtls_transport.h"
#include "server/node.h"
#include "server/transport/udp_transport.h"

namespace fogm2m::cli {

namespace {

struct NodeArgs {
  server::NodeOptions node;
  std::string bind = "0.0.0.0";
  uint16_t coap_port = 5683;
  uint16_t coaps_port = 5684;
  bool dtls = true;
  std::string redis = "127.0.0.1:6379";
  bool memory = false;
  std::string log_level = "info";
  std::string models_dir;
  int device_timeout_ms = 5000;
  int stats_interval_s = 0;
  std::string reg_update_channel;
  int socket_buffer_bytes = 4 << 20;
};

int run_node(const NodeArgs& args) {
  // A write to a Redis that closed the connection must be an error the
  // connection reports (and the node logs), not a SIGPIPE that kills the
  // node; hiredis writes with plain write(). The node starts no children.
  ::signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [" + args.node.node_id + "] %v");

  lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  if (!args.models_dir.empty()) {
    auto loaded = lwm2m::load_ddf_directory(args.models_dir, models);
    if (!loaded) {
      std::cerr << "fogm2m node: " << loaded.error().message << "\n";
      return 2;
    }
    spdlog::info("loaded {} object models from {}", *loaded, args.models_dir);
  }

  server::NodeOptions options = args.node;
  if (!args.memory && !split_host_port(args.redis, options.redis_host, options.redis_port)) {
    std::cerr << "fogm2m node: --redis must be host:port, got \"" << args.redis << "\"\n";
    return 2;
  }
  if (args.memory) options.redis_host.clear();
  options.device_timeout = std::chrono::milliseconds(args.device_timeout_ms);
  if (!args.reg_update_channel.empty()) options.channels.registration_update = args.reg_update_channel;

  boost::asio::io_context io;
  server::Node node(io, options, models);

  server::UdpTransportOptions udp_options;
  udp_options.bind_address = args.bind;
  udp_options.port = args.coap_port;
  udp_options.socket_buffer_bytes = args.socket_buffer_bytes;
  server::UdpTransport udp(io, udp_options);
  node.attach(udp);

  std::unique_ptr<server::DtlsTransport> dtls;
  if (args.dtls) {
    server::DtlsTransportOptions dtls_options;
    dtls_options.address = args.bind;
    dtls_options.port = args.coaps_port;
    dtls_options.psk_lookup = [&node](std::string_view identity) -> std::optional<std::string> {
      auto info = node.psk_cache().find(identity);
      if (!info) return std::nullopt;
      return info->key;
    };
    dtls_options.log_sink = [](io::CoapLogLevel, std::string_view line) { spdlog::warn("libcoap: {}", line); };
    dtls = std::make_unique<server::DtlsTransport>(io, dtls_options);
    node.attach(*dtls);
  }

  int exit_code = 0;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  boost::asio::steady_timer stats_timer(io);
  std::function<void()> print_stats = [&] {
    if (args.stats_interval_s <= 0) return;
    stats_timer.expires_after(std::chrono::seconds(args.stats_interval_s));
    stats_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      const auto& c = node.counters();
      spdlog::info("devices={} observations={} reg={} upd={} dereg={} expired={} bus_req={} owned={} notif={} "
                   "timeouts={} udp: {}",
                   node.devices().size(), node.observation_count(), c.registrations, c.updates, c.deregistrations,
                   c.expirations, c.bus_requests, c.bus_requests_owned, c.notifications, c.device_timeouts,
                   udp.stats().to_string());
      print_stats();
    });
  };

  node.start([&](Status ready) {
    if (!ready) {
      spdlog::error("{}", ready.error().message);
      exit_code = 1;
      io.stop();
      return;
    }
    if (auto s = udp.start(); !s) {
      spdlog::error("CoAP on {}:{}: {}", args.bind, args.coap_port, s.error().message);
      exit_code = 1;
      io.stop();
      return;
    }
    spdlog::info("CoAP on {}:{}", args.bind, udp.local_port());
    if (dtls) {
      if (auto s = dtls->start(); !s) {
        spdlog::error("CoAP/DTLS on {}:{}: {}", args.bind, args.coaps_port, s.error().message);
        exit_code = 1;
        io.stop();
        return;
      }
      spdlog::info("CoAP/DTLS (PSK) on {}:{}", args.bind, dtls->local_port());
    }
    print_stats();
  });

  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signo);
    udp.stop();
    if (dtls) dtls->stop();
    stats_timer.cancel();
    node.stop([&] { io.stop(); });
  });

  io.run();
  return exit_code;
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto args = std::make_shared<NodeArgs>();
  auto* cmd = app.add_subcommand("node", "Run one LwM2M server node of a cluster (until SIGTERM/SIGINT)");
  cmd->add_option("--id", args->node.node_id, "Instance id of this node (ownership EP#UID)")->capture_default_str();
  cmd->add_option("--bind", args->bind, "Address to listen on for CoAP and CoAP/DTLS")->capture_default_str();
  cmd->add_option("--coap-port", args->coap_port, "CoAP (UDP) port")->capture_default_str();
  cmd->add_option("--coaps-port", args->coaps_port, "CoAP over DTLS (PSK) port")->capture_default_str();
  cmd->add_flag("!--no-dtls", args->dtls, "Do not listen for CoAP over DTLS");
  cmd->add_option("--redis", args->redis, "Redis host:port shared by the cluster")->capture_default_str();
  cmd->add_flag("--memory", args->memory, "Single node: keep everything in memory, no Redis");
  cmd->add_option("--device-timeout-ms", args->device_timeout_ms, "Timeout of a request to a device")
      ->capture_default_str()
      ->check(CLI::Range(100, 600000));
  cmd->add_option("--models", args->models_dir, "Folder of OMA DDF XML object models to load")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--reg-update-channel", args->reg_update_channel,
                  "Channel of registration updates (LESHAN_REG_UPD; Leshan's cluster used LESHAN_REG_UP)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->add_option("--socket-buffer", args->socket_buffer_bytes,
                  "CoAP UDP socket receive/send buffer in bytes (0: the system's default); bursts of "
                  "notifications wait there while the node is busy")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--stats-interval", args->stats_interval_s, "Print counters every N seconds (0: never)")
      ->capture_default_str();
  cmd->callback([args] {
    if (int code = run_node(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
