// `fogm2m gateway`: the cluster's REST/WebSocket gateway and web UI, in
// front of the Redis bus, until SIGTERM/SIGINT.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <memory>

#include "bus/request_route.h"
#include "cli/commands.h"
#include "gateway/gateway.h"
#include "io/host_port.h"
#include "io/redis_client.h"

namespace fogm2m::cli {

namespace {

struct GatewayArgs {
  std::string redis = "127.0.0.1:6379";
  std::string redis_cluster;  // "host:port,host:port,...": a Redis Cluster instead
  std::string bind = "127.0.0.1";
  uint16_t http_port = 8080;
  std::string token_file;
  std::string token_env = "FOGM2M_GATEWAY_TOKEN";
  bool no_auth = false;
  std::string models_dir;
  double timeout_s = 5;
  size_t max_body = 1 << 20;
  int idle_timeout_s = 60;
  std::string log_level = "info";
  std::string bus_mode = "broadcast";
};

int run_gateway(const GatewayArgs& args) {
  ::signal(SIGPIPE, SIG_IGN);  // a client gone mid-write is an error code, not a death
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [gateway] %v");
  gateway::GatewayOptions options;
  if (!io::split_host_port(args.redis, options.bus.redis.host, options.bus.redis.port)) {
    std::cerr << "fogm2m gateway: --redis must be host:port, got \"" << args.redis << "\"\n";
    return 2;
  }
  if (!args.redis_cluster.empty() &&
      !io::parse_cluster_addresses(args.redis_cluster, options.bus.redis_cluster)) {
    std::cerr << "fogm2m gateway: --redis-cluster must be host:port,host:port,..., got \""
              << args.redis_cluster << "\"\n";
    return 2;
  }
  options.bus.mode = bus::parse_bus_mode(args.bus_mode).value_or(bus::BusMode::kBroadcast);
  options.http.address = args.bind;
  options.http.port = args.http_port;
  options.http.max_body = args.max_body;
  options.http.idle_timeout = std::chrono::seconds(args.idle_timeout_s);
  options.api.default_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(args.timeout_s * 1000));

  // The token: a file, else the environment; none only when asked for.
  auto auth = gateway::Auth::open();
  if (!args.token_file.empty()) {
    auto from_file = gateway::Auth::from_file(args.token_file);
    if (!from_file) {
      std::cerr << "fogm2m gateway: " << from_file.error().message << "\n";
      return 2;
    }
    auth = std::move(*from_file);
  } else if (auto from_env = gateway::Auth::from_env(args.token_env)) {
    auth = std::move(*from_env);
  } else if (!args.no_auth) {
    std::cerr << "fogm2m gateway: no token: give --token-file FILE or set $" << args.token_env
              << " (16 characters or more), or --no-auth to let anyone in\n";
    return 2;
  }

  lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  if (!args.models_dir.empty()) {
    auto loaded = lwm2m::load_ddf_directory(args.models_dir, models);
    if (!loaded) {
      std::cerr << "fogm2m gateway: " << loaded.error().message << "\n";
      return 2;
    }
  }

  boost::asio::io_context io;
  gateway::Gateway gw(io, options, std::move(auth), models);
  int exit_code = 0;
  gw.start([&](Status ready) {
    if (!ready) {
      spdlog::error("{}", ready.error().message);
      exit_code = 1;
      io.stop();
      return;
    }
    spdlog::info(
        "HTTP on {}:{} (REST /api, events /api/event, STOMP /ws, /metrics, web UI /); "
        "{} registrations; requests on the bus: {}",
        args.bind, gw.http_port(), gw.directory().size(), args.bus_mode);
  });
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: stopping", signo);
    gw.stop();
    io.stop();
  });
  io.run();
  return exit_code;
}

}  // namespace

void add_gateway_command(CLI::App& app) {
  auto args = std::make_shared<GatewayArgs>();
  auto* cmd = app.add_subcommand(
      "gateway", "Run the REST/WebSocket gateway and web UI in front of the cluster's Redis bus");
  cmd->add_option("--redis", args->redis, "Redis host:port shared by the cluster")
      ->capture_default_str();
  cmd->add_option("--redis-cluster", args->redis_cluster,
                  "Redis Cluster nodes host:port,host:port,... (any of them; replaces --redis)");
  cmd->add_option("--bind", args->bind, "Address to listen on for HTTP")->capture_default_str();
  cmd->add_option("--http-port", args->http_port, "HTTP port (0: any free port)")
      ->capture_default_str();
  cmd->add_option("--token-file", args->token_file, "File holding the bearer token");
  cmd->add_option("--token-env", args->token_env,
                  "Environment variable holding the bearer token (when no --token-file)")
      ->capture_default_str();
  cmd->add_flag("--no-auth", args->no_auth, "Let every client in without a token");
  cmd->add_option("--models", args->models_dir, "Folder of OMA DDF XML object models to load");
  cmd->add_option("--timeout", args->timeout_s,
                  "Default time to wait for a device's answer, seconds (?timeout= overrides)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 300.0));
  cmd->add_option("--max-body", args->max_body, "Largest request body, bytes (larger: 413)")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout_s,
                  "Seconds an HTTP connection may wait for its next request")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--bus-mode", args->bus_mode,
                  "broadcast: every request to every node (LWM2M_REQ); routed: each to its "
                  "owner's channel alone (LWM2M_REQ:<node-id>), broadcast when the owner is "
                  "unknown or down")
      ->capture_default_str()
      ->check(CLI::IsMember({"broadcast", "routed"}));
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->callback([args] {
    if (int code = run_gateway(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
