#include "io/metrics_http_server.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <unordered_map>
#include <vector>

namespace fogm2m::io::metrics {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr uint32_t kRequestLimitBytes = 8 * 1024;  // header and body, each
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);
constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// The response to one request; protocol only, no I/O.
http::response<http::string_body> handle_request(const http::request<http::string_body>& req,
                                                 const Registry& registry) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "fogm2m");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  const beast::string_view target = req.target();
  const beast::string_view path = target.substr(0, target.find('?'));
  const bool head = req.method() == http::verb::head;
  if (path != "/metrics") {
    res.result(http::status::not_found);
    res.body() = "Not found: metrics are at /metrics\n";
  } else if (req.method() != http::verb::get && !head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "Method not allowed: GET /metrics\n";
  } else {
    res.result(http::status::ok);
    res.set(http::field::content_type, kContentType);
    res.body() = registry.render();
  }
  res.prepare_payload();
  if (head) res.body().clear();  // Content-Length stays the GET's
  return res;
}

}  // namespace

// What the server, its accept loop and its sessions share. The server owns
// it, and every pending handler holds it too, so a handler that runs after
// the server is gone finds `registry` null and stops there.
struct MetricsHttpServer::Shared : std::enable_shared_from_this<Shared> {
  Shared(boost::asio::io_context& io_context, const Registry& r, MetricsHttpServerOptions o)
      : registry(&r), options(o), acceptor(io_context), accept_retry(io_context) {}

  bool closed() const { return registry == nullptr; }
  void accept_next();

  const Registry* registry;  // nullptr once the server is destroyed
  MetricsHttpServerOptions options;
  tcp::acceptor acceptor;
  boost::asio::steady_timer accept_retry;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // open connections
};

// One connection: read a request, write its response, again until the
// client closes, stays idle too long, or asks to close. Kept alive by its
// pending operation's handler.
class MetricsHttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<Shared> shared, tcp::socket socket)
      : shared_(std::move(shared)), stream_(std::move(socket)) {}
  ~Session() { shared_->sessions.erase(this); }

  void start() { do_read(); }

  // Ends the connection now; the pending operation completes, aborted.
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(kRequestLimitBytes);
    parser_->body_limit(kRequestLimitBytes);
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (shared_->closed()) return;
    if (ec == http::error::end_of_stream) {  // the client is done: a normal end
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    // Idle too long, reset, malformed or oversized: the connection ends
    // (with this session, when the handler returns).
    if (ec) return;
    response_ = handle_request(parser_->get(), *shared_->registry);
    stream_.expires_after(shared_->options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code write_ec, size_t) {
                        self->on_write(write_ec);
                      });
  }

  void on_write(beast::error_code ec) {
    if (shared_->closed() || ec) return;
    if (!response_.keep_alive()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    do_read();
  }

  std::shared_ptr<Shared> shared_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;  // kept between requests: it may hold the next one
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;  // alive until written
};

// Accepts connections until the acceptor closes; one over the cap is
// closed at once. An accept error other than the acceptor's closing (out
// of file descriptors) is retried after a pause rather than in a loop.
void MetricsHttpServer::Shared::accept_next() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->closed() || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      self->accept_retry.expires_after(kAcceptRetry);
      self->accept_retry.async_wait([self](beast::error_code wait_ec) {
        if (!wait_ec && !self->closed()) self->accept_next();
      });
      return;
    }
    if (self->sessions.size() >= self->options.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(self, std::move(socket));
      self->sessions.emplace(session.get(), session);
      session->start();
    }
    self->accept_next();
  });
}

MetricsHttpServer::MetricsHttpServer(boost::asio::io_context& io, const Registry& registry,
                                     MetricsHttpServerOptions options)
    : shared_(std::make_shared<Shared>(io, registry, options)) {}

MetricsHttpServer::~MetricsHttpServer() {
  shared_->registry = nullptr;
  beast::error_code ignored;
  shared_->acceptor.close(ignored);
  shared_->accept_retry.cancel();
  // Collected first: a session may end (and leave the map) while closed.
  std::vector<std::shared_ptr<Session>> open;
  for (auto& [raw, weak] : shared_->sessions)
    if (auto session = weak.lock()) open.push_back(std::move(session));
  for (auto& session : open) session->close();
}

Result<uint16_t> MetricsHttpServer::listen(const std::string& address, uint16_t port) {
  tcp::acceptor& acceptor = shared_->acceptor;
  if (acceptor.is_open()) return make_error(ErrorKind::kInvalidArgument, "already listening");
  beast::error_code ec;
  const auto ip = boost::asio::ip::make_address(address, ec);
  if (ec)
    return make_error(ErrorKind::kInvalidArgument,
                      "metrics address \"" + address + "\" is not an IPv4 or IPv6 address");
  const tcp::endpoint endpoint(ip, port);
  auto failed = [&](const char* step) -> Error {
    beast::error_code ignored;
    acceptor.close(ignored);
    return make_error(ErrorKind::kIo, std::string(step) + " " + address + ":" +
                                          std::to_string(port) + ": " + ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec); ec) return failed("cannot open");
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec)
    return failed("cannot set SO_REUSEADDR on");
  if (acceptor.bind(endpoint, ec); ec) return failed("cannot bind");
  if (acceptor.listen(boost::asio::socket_base::max_listen_connections, ec); ec)
    return failed("cannot listen on");
  const uint16_t bound = acceptor.local_endpoint(ec).port();
  if (ec) return failed("cannot read the port of");
  shared_->accept_next();
  return bound;
}

size_t MetricsHttpServer::connections() const {
  return shared_->sessions.size();
}

}  // namespace fogm2m::io::metrics
