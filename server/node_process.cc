#include "server/node_process.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>

#include "io/coalescing_loop.h"
#include "io/metrics.h"
#include "io/metrics_http_server.h"
#include "lwm2m/model.h"
#include "server/node_metrics.h"
#include "server/transport/dtls_transport.h"
#include "server/transport/udp_transport.h"

namespace fogm2m::server {

int run_node_process(const NodeProcessOptions& args) {
  // A write to a Redis that closed the connection must be an error the
  // connection reports (and the node logs), not a SIGPIPE that kills the
  // node; hiredis writes with plain write(). The node starts no children.
  ::signal(SIGPIPE, SIG_IGN);

  lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  if (!args.models_dir.empty()) {
    auto loaded = lwm2m::load_ddf_directory(args.models_dir, models);
    if (!loaded) {
      spdlog::error("{}", loaded.error().message);
      return 2;
    }
    spdlog::info("loaded {} object models from {}", *loaded, args.models_dir);
  }

  boost::asio::io_context io;
  // Declared before what they watch, so destroyed after it; the HTTP
  // server, declared last, goes first: nothing renders a dead node.
  io::metrics::Registry registry;
  std::optional<NodeMetrics> metrics;
  if (args.metrics_port) metrics.emplace(registry);
  Node node(io, args.node, models, metrics ? &*metrics : nullptr);

  UdpTransportOptions udp_options;
  udp_options.bind_address = args.bind;
  udp_options.port = args.coap_port;
  udp_options.socket_buffer_bytes = args.socket_buffer_bytes;
  UdpTransport udp(io, udp_options);
  node.attach(udp);

  std::unique_ptr<DtlsTransport> dtls;
  if (args.dtls) {
    DtlsTransportOptions dtls_options;
    dtls_options.address = args.bind;
    dtls_options.port = args.coaps_port;
    dtls_options.psk_lookup = [&node](std::string_view identity) -> std::optional<std::string> {
      auto info = node.psk_cache().find(identity);
      if (!info) return std::nullopt;
      return info->key;
    };
    dtls_options.log_sink = [](io::CoapLogLevel, std::string_view line) {
      spdlog::warn("libcoap: {}", line);
    };
    dtls = std::make_unique<DtlsTransport>(io, dtls_options);
    node.attach(*dtls);
  }

  std::optional<io::metrics::MetricsHttpServer> metrics_server;
  if (metrics) {
    metrics->watch(node);
    metrics->watch(udp);
    metrics_server.emplace(io, registry);
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
      spdlog::info(
          "devices={} observations={} reg={} upd={} dereg={} expired={} bus_req={} owned={} "
          "notif={} "
          "timeouts={} udp: {}",
          node.devices().size(), node.observation_count(), c.registrations, c.updates,
          c.deregistrations, c.expirations, c.bus_requests, c.bus_requests_owned, c.notifications,
          c.device_timeouts, udp.stats().to_string());
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
    if (metrics_server) {
      auto port = metrics_server->listen(args.metrics_bind, *args.metrics_port);
      if (!port) {
        spdlog::error("metrics: {}", port.error().message);
        exit_code = 1;
        io.stop();
        return;
      }
      spdlog::info("metrics on http://{}:{}/metrics", args.metrics_bind, *port);
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

  io::run_coalescing(io, {.interval = args.coalesce, .busy_handlers = 1});
  return exit_code;
}

}  // namespace fogm2m::server
