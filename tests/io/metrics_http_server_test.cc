// GET /metrics over real loopback TCP: the server runs on its io_context in
// a thread of its own, the test is a blocking Beast client.
#include "io/metrics_http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <thread>

namespace fogm2m::io::metrics {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

// A blocking HTTP/1.1 client on one connection; reads give up after 5 s.
class Client {
 public:
  explicit Client(uint16_t port) {
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  http::response<http::string_body> request(http::verb verb, const std::string& target,
                                            bool keep_alive = true) {
    send(verb, target, keep_alive);
    http::response<http::string_body> res;
    http::read(socket_, buffer_, res);
    return res;
  }

  // A HEAD request's response: headers only.
  http::response<http::empty_body> head(const std::string& target) {
    send(http::verb::head, target, true);
    http::response_parser<http::empty_body> parser;
    parser.skip(true);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  // Whether the server closed the connection: a read ends in EOF (rather
  // than in data or the 5 s timeout).
  bool closed_by_server() {
    char byte;
    beast::error_code ec;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  void send(http::verb verb, const std::string& target, bool keep_alive) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    if (verb == http::verb::post) req.body() = "x";
    req.prepare_payload();
    http::write(socket_, req);
  }

  boost::asio::io_context io_;  // for the socket only: the client blocks
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
};

class MetricsHttpServerTest : public ::testing::Test {
 protected:
  MetricsHttpServerTest() {
    registry.counter("fogm2m_test_requests_total", "Requests.", {{"kind", "read"}}).inc(3);
    registry.gauge("fogm2m_test_up", "Up.").set(1);
  }

  // Listens on an ephemeral loopback port and serves from a thread.
  void serve(MetricsHttpServerOptions options = {}) {
    server.emplace(io, registry, options);
    auto listened = server->listen("127.0.0.1", 0);
    ASSERT_TRUE(listened.ok()) << listened.error().message;
    port = *listened;
    ASSERT_NE(port, 0);
    thread = std::thread([this] { io.run(); });
  }

  // Destroys the server on its thread; returns once every handler ran
  // (io.run() returns only when nothing is pending any more).
  void destroy_server() {
    boost::asio::post(io, [this] { server.reset(); });
    work.reset();
    thread.join();
  }

  ~MetricsHttpServerTest() override {
    if (thread.joinable()) destroy_server();
  }

  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work{
      io.get_executor()};
  Registry registry;
  std::optional<MetricsHttpServer> server;
  uint16_t port = 0;
  std::thread thread;
};

TEST_F(MetricsHttpServerTest, ServesTheRegistryAtMetrics) {
  serve();
  Client client(port);
  const auto res = client.request(http::verb::get, "/metrics");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], kPrometheusText);
  EXPECT_EQ(res.body(), registry.render());  // the server thread only reads it
  EXPECT_NE(res.body().find("fogm2m_test_requests_total{kind=\"read\"} 3\n"), std::string::npos);
  EXPECT_TRUE(res.keep_alive());

  // Same connection; a query string is ignored.
  const auto again = client.request(http::verb::get, "/metrics?name[]=x");
  EXPECT_EQ(again.result(), http::status::ok);
  EXPECT_EQ(again.body(), res.body());

  const auto head = client.head("/metrics");
  EXPECT_EQ(head.result(), http::status::ok);
  EXPECT_EQ(head[http::field::content_length], std::to_string(res.body().size()));
}

TEST_F(MetricsHttpServerTest, AnswersOtherPaths404AndOtherMethods405) {
  serve();
  Client client(port);
  const auto missing = client.request(http::verb::get, "/");
  EXPECT_EQ(missing.result(), http::status::not_found);
  EXPECT_EQ(client.request(http::verb::get, "/metrics/x").result(), http::status::not_found);

  const auto post = client.request(http::verb::post, "/metrics");
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET, HEAD");
  EXPECT_EQ(client.request(http::verb::delete_, "/metrics").result(),
            http::status::method_not_allowed);

  // Still usable after the errors.
  EXPECT_EQ(client.request(http::verb::get, "/metrics").result(), http::status::ok);
}

TEST_F(MetricsHttpServerTest, ClosesWhenTheClientAsks) {
  serve();
  Client client(port);
  const auto res = client.request(http::verb::get, "/metrics", /*keep_alive=*/false);
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_TRUE(client.closed_by_server());
}

TEST_F(MetricsHttpServerTest, ClosesIdleConnections) {
  MetricsHttpServerOptions options;
  options.idle_timeout = 200ms;
  serve(options);
  Client client(port);
  EXPECT_EQ(client.request(http::verb::get, "/metrics").result(), http::status::ok);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(MetricsHttpServerTest, ClosesConnectionsBeyondTheCap) {
  MetricsHttpServerOptions options;
  options.max_connections = 1;
  serve(options);
  Client first(port);
  EXPECT_EQ(first.request(http::verb::get, "/metrics").result(), http::status::ok);
  Client second(port);
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_EQ(first.request(http::verb::get, "/metrics").result(), http::status::ok);
}

TEST_F(MetricsHttpServerTest, DestructionClosesOpenConnections) {
  serve();
  Client client(port);
  EXPECT_EQ(client.request(http::verb::get, "/metrics").result(), http::status::ok);
  Client silent(port);  // connected, no request yet
  destroy_server();     // returns: nothing of the server is left pending
  EXPECT_TRUE(client.closed_by_server());
  EXPECT_TRUE(silent.closed_by_server());
}

TEST_F(MetricsHttpServerTest, ListenErrorsAreValues) {
  MetricsHttpServer a(io, registry);
  auto bad = a.listen("localhost", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);

  auto bound = a.listen("127.0.0.1", 0);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  auto twice = a.listen("127.0.0.1", 0);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().kind, ErrorKind::kInvalidArgument);

  MetricsHttpServer b(io, registry);
  auto taken = b.listen("127.0.0.1", *bound);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().kind, ErrorKind::kIo);
  EXPECT_NE(taken.error().message.find("cannot bind"), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::io::metrics
