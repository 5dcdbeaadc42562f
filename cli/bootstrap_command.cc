// `fogm2m bootstrap`: a minimal LwM2M bootstrap server (server/bootstrap/)
// until SIGTERM/SIGINT.
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "server/bootstrap/bootstrap_server.h"

namespace fogm2m::cli {

namespace {

struct BootstrapArgs {
  std::string config;
  std::string bind = "0.0.0.0";
  uint16_t port = 5783;
  std::string log_level = "info";
};

int run_bootstrap(const BootstrapArgs& args) {
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [bootstrap] %v");
  auto config = server::load_bootstrap_config(args.config);
  if (!config) {
    std::cerr << "fogm2m bootstrap: " << config.error().message << "\n";
    return 2;
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(args.bind, ec);
  if (ec) {
    std::cerr << "fogm2m bootstrap: --bind \"" << args.bind << "\" is not an IP address\n";
    return 2;
  }
  const size_t endpoints = config->endpoints.size();
  const bool fallback = config->fallback.has_value();
  server::BootstrapServerOptions options;
  options.bind_address = address;
  options.port = args.port;
  boost::asio::io_context io;
  server::BootstrapServer bs(io, std::move(*config), options);
  if (Status s = bs.start(); !s) {
    std::cerr << "fogm2m bootstrap: " << s.error().message << "\n";
    return 1;
  }
  spdlog::info("listening on {}:{} (CoAP/UDP); {} endpoint sections{}", args.bind, bs.local_port(),
               endpoints, fallback ? " and a default" : ", no default");
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code e, int signo) {
    if (e) return;
    spdlog::info("signal {}: stopping", signo);
    bs.stop();
    io.stop();
  });
  io.run();
  return 0;
}

}  // namespace

void add_bootstrap_command(CLI::App& app) {
  auto args = std::make_shared<BootstrapArgs>();
  auto* cmd = app.add_subcommand(
      "bootstrap",
      "Run a minimal LwM2M bootstrap server: answers POST /bs?ep=, writes the Security (/0) and "
      "Server (/1) objects from --config, then Bootstrap-Finish");
  cmd->add_option("--config", args->config,
                  "Configuration file: [default] and [endpoint NAME] sections of key = value "
                  "(server_uri, security, psk_identity, psk_key, short_server_id, lifetime, "
                  "delete)")
      ->required();
  cmd->add_option("--bind", args->bind, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", args->port, "UDP port (0: any free port)")->capture_default_str();
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  cmd->callback([args] {
    if (int code = run_bootstrap(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
