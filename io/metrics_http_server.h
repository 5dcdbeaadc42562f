// GET /metrics over HTTP/1.1: what Prometheus scrapes, served from a
// metrics::Registry on the caller's io_context (Boost.Beast).
//
//   GET|HEAD /metrics   200, Content-Type: text/plain; version=0.0.4; charset=utf-8
//   other methods       405 with Allow: GET, HEAD
//   other paths         404
//
// Connections are kept alive between requests (HTTP/1.1 default, or
// HTTP/1.0 with Connection: keep-alive) and closed after `idle_timeout`
// without a request, or when a request stays unfinished that long. Beyond
// `max_connections` open at once, a new connection is closed as soon as it
// is accepted. Requests are small: a header or body over 8 KiB closes the
// connection.
//
// Threading and ownership: everything runs on the io_context given at
// construction; make, use and destroy the server on its thread. The
// registry is read by render() when a request arrives and must outlive the
// server. Destruction closes the listening socket and every connection;
// handlers still queued in the io_context then do nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "io/metrics.h"
#include "lwm2m/result.h"

namespace fogm2m::io::metrics {

struct MetricsHttpServerOptions {
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_connections = 64;
};

class MetricsHttpServer {
 public:
  MetricsHttpServer(boost::asio::io_context& io, const Registry& registry,
                    MetricsHttpServerOptions options = {});
  ~MetricsHttpServer();
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // Listens on `address` (an IPv4 or IPv6 literal: "127.0.0.1", "::") and
  // `port` (0: an ephemeral one) and starts serving. Returns the bound port.
  // Errors: kInvalidArgument for an address that is not a literal or a
  // second listen(); kIo when the socket cannot be bound (port in use).
  Result<uint16_t> listen(const std::string& address, uint16_t port);

  // Connections open now.
  size_t connections() const;

 private:
  struct Shared;
  class Session;
  std::shared_ptr<Shared> shared_;
};

}  // namespace fogm2m::io::metrics
