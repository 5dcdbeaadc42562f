#include "gateway/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cstdio>
#include <optional>

#include "gateway/event_stream.h"
#include "gateway/web_assets.h"

namespace fogm2m::gateway {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::string_view kServerName = "fogm2m-gateway";
constexpr std::chrono::seconds kWriteTimeout{30};

unsigned status_of(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kUnsupported:
      return 405;
    default:
      return 400;
  }
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, const HttpServices& services, const HttpServerOptions& options,
              ConnectionToken connection)
      : stream_(std::move(socket)),
        services_(services),
        options_(options),
        connection_(std::move(connection)) {}

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(options_.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::eof)
      return close();
    if (ec == http::error::body_limit)
      return answer_and_close(
          413, "request body larger than " + std::to_string(options_.max_body) + " bytes");
    if (ec == http::error::header_limit) return answer_and_close(431, "request headers too large");
    if (ec) return answer_and_close(400, "malformed HTTP request: " + ec.message());
    request_ = parser_->release();
    started_ = Clock::now();
    dispatch();
  }

  void dispatch() {
    auto route = parse_api_route(std::string_view(request_.method_string()),
                                 std::string_view(request_.target()));
    if (!route) return answer(status_of(route.error()), route.error().message, std::nullopt);
    op_ = route->op;
    if (route->op == ApiOperation::kAsset) return serve_asset(route->asset);
    const bool authenticated =
        services_.auth->allows(std::string_view(request_[http::field::authorization]),
                               std::string_view(request_[http::field::cookie]));
    if (route->op == ApiOperation::kStomp) {
      if (!beast::websocket::is_upgrade(request_))
        return answer(426, "/ws speaks STOMP over WebSocket: upgrade the connection", op_);
      // STOMP clients may bring the token in their CONNECT frame instead.
      stream_.expires_never();
      return services_.open_stomp(std::move(stream_), std::move(request_), authenticated,
                                  std::move(connection_));
    }
    if (!authenticated) return answer(401, "missing or wrong bearer token", op_);
    switch (route->op) {
      case ApiOperation::kEvents: {
        const std::string* ep = route->param("ep");
        auto stream = std::make_shared<EventStream>(
            std::move(stream_), services_.hub, ep ? *ep : std::string(), std::move(connection_));
        stream->start();
        return;
      }
      case ApiOperation::kMetrics:
        return answer(200, services_.metrics ? services_.metrics() : std::string(), op_,
                      "text/plain; version=0.0.4; charset=utf-8");
      default:
        break;
    }
    const std::string content_type(request_[http::field::content_type]);
    services_.api->handle(*route, std::move(request_.body()), content_type,
                          [self = shared_from_this()](ApiAnswer a) {
                            self->bus_time_ = a.bus_time;
                            self->answer(a.status, std::move(a.body), self->op_, a.content_type);
                          });
  }

  void serve_asset(const std::string& name) {
    const WebAsset* asset = find_web_asset(name);
    if (!asset) return answer(404, "no file " + name, std::nullopt);
    answer(200, std::string(asset->bytes), std::nullopt, std::string(asset->content_type));
  }

  void answer(unsigned status, std::string body, std::optional<ApiOperation> op,
              std::string content_type = "text/plain; charset=utf-8") {
    if (op && services_.answered) services_.answered(*op, status, Clock::now() - started_);
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(status), request_.version());
    res->set(http::field::server, kServerName);
    res->set(http::field::content_type, content_type);
    res->set(http::field::cache_control, "no-store");
    if (status == 401) res->set(http::field::www_authenticate, "Bearer realm=\"fogm2m\"");
    if (bus_time_) {
      char timing[48];
      std::snprintf(timing, sizeof timing, "bus;dur=%.3f",
                    std::chrono::duration<double, std::milli>(*bus_time_).count());
      res->set("Server-Timing", timing);
      bus_time_.reset();
    }
    res->keep_alive(request_.keep_alive() && !close_after_);
    const bool head = request_.method() == http::verb::head;
    res->body() = std::move(body);
    res->prepare_payload();
    if (head) res->body().clear();
    // The read's idle timeout may have run out while a device took its time.
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->close();
                        self->read();
                      });
  }

  void answer_and_close(unsigned status, std::string message) {
    close_after_ = true;
    request_ = {};
    request_.version(11);
    answer(status, std::move(message), std::nullopt);
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const HttpServices& services_;
  const HttpServerOptions& options_;
  ConnectionToken connection_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpRequest request_;
  ApiOperation op_ = ApiOperation::kAsset;
  Clock::time_point started_;
  bool close_after_ = false;
  std::optional<std::chrono::nanoseconds> bus_time_;  // of the request being answered
};

}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, HttpServices services,
                       HttpServerOptions options)
    : io_(io),
      services_(std::move(services)),
      options_(std::move(options)),
      acceptor_(io),
      accept_pause_(io) {}

HttpServer::~HttpServer() {
  stop();
}

Result<uint16_t> HttpServer::listen() {
  beast::error_code ec;
  const auto address = boost::asio::ip::make_address(options_.address, ec);
  if (ec) return make_error(ErrorKind::kInvalidArgument, "bad address " + options_.address);
  const tcp::endpoint at(address, options_.port);
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::kIo, "HTTP on " + options_.address + ":" +
                                          std::to_string(options_.port) + ": " + ec.message());
  accept();
  return acceptor_.local_endpoint().port();
}

void HttpServer::stop() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  accept_pause_.cancel();
}

void HttpServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;  // stopped
    if (!ec) {
      if (*connections_ >= options_.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the cap: refused before any byte is read
      } else {
        ++*connections_;
        ConnectionToken token(nullptr, [count = connections_](void*) { --*count; });
        std::make_shared<HttpSession>(std::move(socket), services_, options_, std::move(token))
            ->start();
      }
    } else {
      // Out of file descriptors, say: wait a moment rather than spin.
      spdlog::warn("gateway: accept: {}", ec.message());
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec && acceptor_.is_open()) accept();
      });
      return;
    }
    if (acceptor_.is_open()) accept();
  });
}

}  // namespace fogm2m::gateway
