// The gateway's HTTP/1.1 server (Boost.Beast, on the caller's io_context):
// accepts connections, reads each request (bodies up to max_body: larger
// ones get 413), checks the bearer token (auth.h), routes it (api_route.h)
// and answers: the REST API (rest_api.h), Server-Sent Events
// (event_stream.h), the STOMP WebSocket (stomp_session.h), Prometheus
// metrics and the web UI's files. Keep-alive; one request at a time per
// connection; idle connections close after idle_timeout.
//
// Without a token only the web UI's files are served (the page asks for the
// token); everything under /api, /ws and /metrics answers 401.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "gateway/api_route.h"
#include "gateway/auth.h"
#include "gateway/event_hub.h"
#include "gateway/rest_api.h"
#include "lwm2m/result.h"

namespace fogm2m::gateway {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port
  size_t max_body = 1 << 20;
  size_t max_connections = 18000;  // under the fd limit of 20,000 this machine allows
  std::chrono::seconds idle_timeout{60};
};

// Held by whatever serves an open connection (an HTTP session, then the SSE
// stream or STOMP session it hands over to): the connection counts as open
// while one is held.
using ConnectionToken = std::shared_ptr<void>;

// What the server routes to. Every member must outlive the server's
// io_context run, except `hub` (weak: streams may outlive the gateway).
struct HttpServices {
  const Auth* auth = nullptr;
  RestApi* api = nullptr;
  std::weak_ptr<EventHub> hub;
  // Takes over an upgraded connection for STOMP over WebSocket.
  std::function<void(boost::beast::tcp_stream stream, HttpRequest upgrade, bool authenticated,
                     ConnectionToken connection)>
      open_stomp;
  std::function<std::string()> metrics;  // Prometheus text exposition
  // Told of every answered API request (for metrics): its route, status
  // and how long the gateway took.
  std::function<void(ApiOperation op, unsigned status, std::chrono::nanoseconds took)> answered;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpServices services, HttpServerOptions options);
  ~HttpServer();

  // Binds and starts accepting; returns the bound port.
  Result<uint16_t> listen();
  void stop();  // stops accepting; open connections end on their own

  size_t connections() const { return *connections_; }

 private:
  void accept();

  boost::asio::io_context& io_;
  HttpServices services_;
  HttpServerOptions options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  std::shared_ptr<size_t> connections_ = std::make_shared<size_t>(0);
};

}  // namespace fogm2m::gateway
