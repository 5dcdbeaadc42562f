// The load generator through the gateway (`via: gateway`):
//  - the REST mapping: every bus request kind becomes the method, target and
//    body the gateway's own route parser (gateway/api_route.h) reads back as
//    that request;
//  - the HTTP client against a fake gateway on loopback: answers and their
//    Server-Timing, the connection cap and the queue, expiry in the queue,
//    keep-alive connections the server closed, no server at all;
//  - the load generator driving the fake gateway (Redis for its bus side):
//    every request counted, 504s as errors with their reason, silence as
//    timeouts, the added latency, observe_all, notifications.
#include "runner/gateway_client.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "gateway/api_route.h"
#include "runner/load_generator.h"
#include "runner/request_mix.h"
#include "tests/support/bus_peer.h"
#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::runner {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;
using gateway::ApiOperation;

bus::Request request(bus::RequestKind kind, const std::string& path,
                     const std::string& endpoint = "dev-1") {
  bus::Request r;
  r.kind = kind;
  r.endpoint = endpoint;
  r.path = *lwm2m::Path::parse(path);
  return r;
}

// The call for `r`, read back by the gateway's route parser.
struct Mapped {
  RestCall call;
  gateway::ApiRoute route;
};
Mapped map(const bus::Request& r, double timeout_s = 5) {
  auto call = make_rest_call(r, timeout_s);
  EXPECT_TRUE(call.ok()) << call.error().message;
  if (!call.ok()) return {};
  auto route = gateway::parse_api_route(std::string(http::to_string(call->method)), call->target);
  EXPECT_TRUE(route.ok()) << call->target << ": " << route.error().message;
  if (!route.ok()) return {};
  return {*call, *route};
}

// --- the REST mapping ---------------------------------------------------------

TEST(RestCall, ReadIsAGetWithFormatAndTimeout) {
  bus::Request r = request(bus::RequestKind::kRead, "/3313/0/5702");
  r.content_format = lwm2m::ContentFormat::kTlv;
  Mapped m = map(r, 2.5);
  EXPECT_EQ(m.call.method, http::verb::get);
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/5702?format=TLV&timeout=2.5");
  EXPECT_TRUE(m.call.body.empty());
  EXPECT_TRUE(m.call.content_type.empty());
  EXPECT_EQ(m.call.timeout, 2500ms);
  EXPECT_EQ(m.route.op, ApiOperation::kRead);
  EXPECT_EQ(m.route.endpoint, "dev-1");
  EXPECT_EQ(m.route.path.to_string(), "/3313/0/5702");
  ASSERT_NE(m.route.param("format"), nullptr);
  EXPECT_EQ(*m.route.param("format"), "TLV");
  ASSERT_NE(m.route.param("timeout"), nullptr);
  EXPECT_EQ(*m.route.param("timeout"), "2.5");

  // Without a content format: none asked for (the node's default).
  EXPECT_EQ(map(request(bus::RequestKind::kRead, "/3313/0")).call.target,
            "/api/clients/dev-1/3313/0?timeout=5");
}

TEST(RestCall, WriteOfOneValueIsAPlainTextPut) {
  bus::Request r = request(bus::RequestKind::kWrite, "/3313/0/5750");
  r.node = bus::single_value_node(r.path, json::value("hello world"));
  Mapped m = map(r);
  EXPECT_EQ(m.call.method, http::verb::put);
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/5750?timeout=5");
  EXPECT_EQ(m.call.content_type, "text/plain");
  EXPECT_EQ(m.call.body, "hello world");
  EXPECT_EQ(m.route.op, ApiOperation::kWrite);

  // Numbers and booleans as their text; a partial update says so.
  r.node = bus::single_value_node(r.path, json::value(21.5));
  r.replace = false;
  m = map(r);
  EXPECT_EQ(m.call.body, "21.5");
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/5750?replace=false&timeout=5");
  ASSERT_NE(m.route.param("replace"), nullptr);
  EXPECT_EQ(*m.route.param("replace"), "false");

  // RequestMix's writes are the same shorthand.
  schema::RequestSpec spec;
  spec.set_kind("write");
  spec.set_path("/3313/0/5750");
  spec.set_value("42");
  spec.set_weight(1);
  auto mix = RequestMix::make({spec}, {"dev-7"}, 1);
  ASSERT_TRUE(mix.ok()) << mix.error().message;
  m = map(mix->next());
  EXPECT_EQ(m.call.content_type, "text/plain");
  EXPECT_EQ(m.call.body, "42");
  EXPECT_EQ(m.route.endpoint, "dev-7");
}

TEST(RestCall, WriteOfAnInstanceIsAJsonPut) {
  bus::Request r = request(bus::RequestKind::kWrite, "/3313/0");
  r.node = json::parse(R"({"id":0,"resources":[{"id":5750,"value":"x"}]})");
  Mapped m = map(r);
  EXPECT_EQ(m.call.method, http::verb::put);
  EXPECT_EQ(m.call.content_type, "application/json");
  EXPECT_EQ(json::parse(m.call.body), *r.node);
  EXPECT_EQ(m.route.op, ApiOperation::kWrite);
  EXPECT_EQ(m.route.path.to_string(), "/3313/0");

  bus::Request bare = request(bus::RequestKind::kWrite, "/3313/0/5750");
  auto refused = make_rest_call(bare, 5);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::kInvalidArgument);
}

TEST(RestCall, ExecuteCreateDeleteDiscover) {
  bus::Request exec = request(bus::RequestKind::kExecute, "/3/0/4");
  exec.parameters = "0='x'";
  Mapped m = map(exec);
  EXPECT_EQ(m.call.method, http::verb::post);
  EXPECT_EQ(m.call.body, "0='x'");
  EXPECT_EQ(m.call.content_type, "text/plain");
  EXPECT_EQ(m.route.op, ApiOperation::kExecute);
  exec.parameters.clear();
  EXPECT_TRUE(map(exec).call.content_type.empty());

  bus::Request create = request(bus::RequestKind::kCreate, "/3313");
  create.node = json::parse(R"({"id":1,"resources":[]})");
  m = map(create);
  EXPECT_EQ(m.call.method, http::verb::post);
  EXPECT_EQ(m.call.content_type, "application/json");
  EXPECT_EQ(m.route.op, ApiOperation::kCreate);
  EXPECT_EQ(m.route.path.to_string(), "/3313");

  m = map(request(bus::RequestKind::kDelete, "/3313/1"));
  EXPECT_EQ(m.call.method, http::verb::delete_);
  EXPECT_EQ(m.route.op, ApiOperation::kDelete);

  m = map(request(bus::RequestKind::kDiscover, "/3313/0"));
  EXPECT_EQ(m.call.method, http::verb::get);
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/discover?timeout=5");
  EXPECT_EQ(m.route.op, ApiOperation::kDiscover);
  EXPECT_EQ(m.route.path.to_string(), "/3313/0");
}

TEST(RestCall, ObserveCancelAndAttributes) {
  bus::Request observe = request(bus::RequestKind::kObserve, "/3313/0");
  observe.content_format = lwm2m::ContentFormat::kSenmlJson;
  Mapped m = map(observe);
  EXPECT_EQ(m.call.method, http::verb::post);
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/observe?format=SENML_JSON&timeout=5");
  EXPECT_EQ(m.route.op, ApiOperation::kObserve);
  EXPECT_EQ(m.route.path.to_string(), "/3313/0");

  m = map(request(bus::RequestKind::kCancelObserve, "/3313/0"));
  EXPECT_EQ(m.call.method, http::verb::delete_);
  EXPECT_EQ(m.call.target, "/api/clients/dev-1/3313/0/observe?timeout=5");
  EXPECT_EQ(m.route.op, ApiOperation::kCancelObserve);

  bus::Request attributes = request(bus::RequestKind::kWriteAttributes, "/3313/0/5702");
  attributes.attributes.pmin = 1;
  attributes.attributes.pmax = 60;
  attributes.attributes.gt = 2.5;
  m = map(attributes);
  EXPECT_EQ(m.call.method, http::verb::put);
  EXPECT_EQ(m.call.target,
            "/api/clients/dev-1/3313/0/5702/attributes?pmin=1&pmax=60&gt=2.5&timeout=5");
  EXPECT_EQ(m.route.op, ApiOperation::kWriteAttributes);
  EXPECT_FALSE(make_rest_call(request(bus::RequestKind::kWriteAttributes, "/3313/0/5702"), 5).ok());
}

TEST(RestCall, CompositeKindsAreTheCompositeRoutes) {
  bus::Request r = request(bus::RequestKind::kReadComposite, "/");
  r.paths = {lwm2m::Path(3, 0, 9), lwm2m::Path(3313, 0)};
  r.content_format = lwm2m::ContentFormat::kSenmlCbor;
  Mapped m = map(r);
  EXPECT_EQ(m.call.method, http::verb::get);
  EXPECT_EQ(m.route.op, ApiOperation::kReadComposite);
  EXPECT_EQ(m.route.paths, r.paths);
  EXPECT_EQ(*m.route.param("format"), "SENML_CBOR");

  r.kind = bus::RequestKind::kObserveComposite;
  m = map(r);
  EXPECT_EQ(m.call.method, http::verb::post);
  EXPECT_EQ(m.route.op, ApiOperation::kObserveComposite);
  EXPECT_EQ(m.route.paths, r.paths);
  r.kind = bus::RequestKind::kCancelObserveComposite;
  m = map(r);
  EXPECT_EQ(m.call.method, http::verb::delete_);
  EXPECT_EQ(m.route.op, ApiOperation::kCancelObserveComposite);
  EXPECT_EQ(m.route.param("format"), nullptr);

  bus::Request w = request(bus::RequestKind::kWriteComposite, "/");
  w.node = json::parse(R"({"/3/0/15":{"id":15,"value":"UTC"}})");
  m = map(w);
  EXPECT_EQ(m.call.method, http::verb::put);
  EXPECT_EQ(m.call.content_type, "application/json");
  EXPECT_EQ(json::parse(m.call.body), *w.node);
  EXPECT_EQ(m.route.op, ApiOperation::kWriteComposite);

  r.paths.clear();
  EXPECT_FALSE(make_rest_call(r, 5).ok());
}

TEST(RestCall, EndpointsArePercentEncodedAndSecInfoHasNoCall) {
  Mapped m = map(request(bus::RequestKind::kRead, "/3/0/0", "urn:dev 1/ä"));
  EXPECT_EQ(m.call.target, "/api/clients/urn%3Adev%201%2F%C3%A4/3/0/0?timeout=5");
  EXPECT_EQ(m.route.endpoint, "urn:dev 1/ä");
  EXPECT_EQ(m.route.op, ApiOperation::kRead);

  auto sec = make_rest_call(request(bus::RequestKind::kSecInfo, "/0"), 5);
  ASSERT_FALSE(sec.ok());
  EXPECT_EQ(sec.error().kind, ErrorKind::kUnsupported);
  EXPECT_FALSE(make_rest_call(request(bus::RequestKind::kRead, "/3"), 0).ok());
}

TEST(RestCall, ServerTimingAndFailureReasons) {
  EXPECT_EQ(server_timing_bus_ms("bus;dur=12.345"), 12.345);
  EXPECT_EQ(server_timing_bus_ms("db;dur=1, bus; desc=\"x\"; dur=0.5"), 0.5);
  EXPECT_EQ(server_timing_bus_ms("total;dur=3"), std::nullopt);
  EXPECT_EQ(server_timing_bus_ms("bus;dur=abc"), std::nullopt);
  EXPECT_EQ(server_timing_bus_ms("bus"), std::nullopt);
  EXPECT_EQ(server_timing_bus_ms(""), std::nullopt);

  EXPECT_EQ(failure_reason(GatewayReply{504, "Request timeout: dev-1\nmore", 5000.0}),
            "HTTP 504: Request timeout: dev-1");
  EXPECT_EQ(failure_reason(GatewayReply{503, "", std::nullopt}), "HTTP 503");
  EXPECT_EQ(failure_reason(GatewayReply{0, "connect to 1.2.3.4:8080: refused", std::nullopt}),
            "HTTP: connect to 1.2.3.4:8080: refused");
  EXPECT_EQ(failure_reason(GatewayReply{400, std::string(300, 'x'), std::nullopt}).size(),
            std::string("HTTP 400: ").size() + 120);
}

// --- a fake gateway on loopback -----------------------------------------------

struct FakeAnswer {
  unsigned status = 200;
  std::string body = R"j({"status":"CONTENT(69)","valid":true,"success":true,"failure":false})j";
  std::optional<double> bus_ms = 1.5;
  std::chrono::milliseconds delay{0};
  bool close = false;   // "Connection: close"
  bool silent = false;  // never answers
};

class FakeGateway {
 public:
  using Request = http::request<http::string_body>;
  using Answer = std::function<FakeAnswer(const Request&)>;

  FakeGateway(boost::asio::io_context& io, Answer answer)
      : io_(io),
        acceptor_(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        answer_(std::move(answer)) {
    accept();
  }
  ~FakeGateway() {
    for (auto& s : sessions_) {
      beast::error_code ignored;
      s->socket.close(ignored);
    }
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Closes every connection waiting for its next request, as the real
  // gateway does after its idle timeout.
  void close_idle() {
    for (auto& s : sessions_)
      if (s->idle) {
        beast::error_code ignored;
        s->socket.shutdown(tcp::socket::shutdown_both, ignored);
        s->socket.close(ignored);
      }
  }

  int accepted = 0;
  int in_flight = 0;
  int max_in_flight = 0;
  std::vector<Request> seen;

 private:
  struct Session {
    explicit Session(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    tcp::socket socket;
    beast::flat_buffer buffer;
    Request request;
    boost::asio::steady_timer timer;
    bool idle = true;
  };
  using SessionPtr = std::shared_ptr<Session>;

  void accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++accepted;
      sessions_.push_back(std::make_shared<Session>(std::move(socket)));
      read(sessions_.back());
      accept();
    });
  }

  void read(const SessionPtr& s) {
    s->idle = true;
    s->request = {};
    http::async_read(s->socket, s->buffer, s->request, [this, s](beast::error_code ec, size_t) {
      if (ec) return;
      s->idle = false;
      seen.push_back(s->request);
      max_in_flight = std::max(max_in_flight, ++in_flight);
      FakeAnswer a = answer_(s->request);
      if (a.silent) return;
      s->timer.expires_after(a.delay);
      s->timer.async_wait([this, s, a](beast::error_code) { respond(s, a); });
    });
  }

  void respond(const SessionPtr& s, const FakeAnswer& a) {
    --in_flight;
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(a.status), 11);
    res->set(http::field::content_type, a.status == 200 ? "application/json" : "text/plain");
    if (a.bus_ms) {
      char timing[48];
      std::snprintf(timing, sizeof timing, "bus;dur=%.3f", *a.bus_ms);
      res->set("Server-Timing", timing);
    }
    res->keep_alive(!a.close);
    res->body() = a.body;
    res->prepare_payload();
    http::async_write(s->socket, *res,
                      [this, s, res, close = a.close](beast::error_code ec, size_t) {
                        if (ec || close) {
                          beast::error_code ignored;
                          s->socket.shutdown(tcp::socket::shutdown_both, ignored);
                          s->socket.close(ignored);
                          return;
                        }
                        read(s);
                      });
  }

  boost::asio::io_context& io_;
  tcp::acceptor acceptor_;
  Answer answer_;
  std::vector<SessionPtr> sessions_;
};

RestCall get(const std::string& target) {
  RestCall c;
  c.target = target;
  c.timeout = 2s;
  return c;
}

class GatewayClientTest : public ::testing::Test {
 protected:
  GatewayClientOptions options(uint16_t port, size_t max_connections = 64) {
    GatewayClientOptions o;
    o.port = port;
    o.token = "token-0123456789abcdef";
    o.max_connections = max_connections;
    return o;
  }
  // Calls `target` `n` times; returns the replies in the order they came.
  std::vector<GatewayReply> call_all(GatewayClient& client, const std::vector<RestCall>& calls,
                                     GatewayClient::Clock::time_point expires) {
    std::vector<GatewayReply> replies;
    for (const auto& c : calls)
      client.call(c, expires, [&replies](GatewayReply r) { replies.push_back(std::move(r)); });
    EXPECT_TRUE(test::run_until(io_, [&] { return replies.size() == calls.size(); }));
    return replies;
  }
  static GatewayClient::Clock::time_point in(std::chrono::milliseconds d) {
    return GatewayClient::Clock::now() + d;
  }

  boost::asio::io_context io_;
};

TEST_F(GatewayClientTest, AnswersComeBackWithTheirServerTiming) {
  FakeGateway fake(io_, [](const FakeGateway::Request& r) {
    FakeAnswer a;
    if (r.target().find("err") != std::string_view::npos) {
      a.status = 504;
      a.body = "Request timeout: device did not answer";
      a.bus_ms = 2000.25;
    }
    return a;
  });
  GatewayClient client(io_, options(fake.port()));
  RestCall put;
  put.method = http::verb::put;
  put.target = "/api/clients/ok-1/3313/0/5750?timeout=2";
  put.body = "on";
  put.content_type = "text/plain";
  auto replies = call_all(client, {put}, in(5s));
  for (auto& r : call_all(client, {get("/api/clients/err-1/3313/0/5702")}, in(5s)))
    replies.push_back(std::move(r));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 200u);
  EXPECT_NE(replies[0].body.find("\"success\":true"), std::string::npos);
  EXPECT_EQ(replies[0].bus_ms, 1.5);
  EXPECT_EQ(replies[1].status, 504u);
  EXPECT_EQ(replies[1].bus_ms, 2000.25);
  EXPECT_EQ(failure_reason(replies[1]), "HTTP 504: Request timeout: device did not answer");

  ASSERT_EQ(fake.seen.size(), 2u);
  const auto& first = fake.seen[0];
  EXPECT_EQ(first.method(), http::verb::put);
  EXPECT_EQ(first.target(), "/api/clients/ok-1/3313/0/5750?timeout=2");
  EXPECT_EQ(first[http::field::authorization], "Bearer token-0123456789abcdef");
  EXPECT_EQ(first[http::field::content_type], "text/plain");
  EXPECT_EQ(first[http::field::host], "127.0.0.1:" + std::to_string(fake.port()));
  EXPECT_EQ(first.body(), "on");
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(fake.seen[1].method(), http::verb::get);
  EXPECT_EQ(fake.accepted, 1) << "the second call reuses the connection";
}

TEST_F(GatewayClientTest, AtMostMaxConnectionsTheRestWaitInOrder) {
  FakeGateway fake(io_, [](const FakeGateway::Request&) {
    FakeAnswer a;
    a.delay = 30ms;
    return a;
  });
  GatewayClient client(io_, options(fake.port(), 4));
  std::vector<RestCall> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(get("/api/clients/ok-" + std::to_string(i) + "/3"));
  auto replies = call_all(client, calls, in(10s));
  ASSERT_EQ(replies.size(), 20u);
  for (const auto& r : replies) EXPECT_EQ(r.status, 200u);
  EXPECT_LE(fake.accepted, 4);
  EXPECT_EQ(fake.max_in_flight, 4);
  EXPECT_LE(client.connections(), 4u);
  EXPECT_EQ(client.queued(), 0u);
  ASSERT_EQ(fake.seen.size(), 20u);
  for (int i = 0; i < 20; ++i)  // first come, first sent
    EXPECT_EQ(fake.seen[i].target(), calls[i].target);
}

TEST_F(GatewayClientTest, ACallStillQueuedAtItsExpiryIsNotSent) {
  FakeGateway fake(io_, [](const FakeGateway::Request&) {
    FakeAnswer a;
    a.delay = 200ms;
    return a;
  });
  GatewayClient client(io_, options(fake.port(), 1));
  std::vector<GatewayReply> replies;
  client.call(get("/api/clients/a/3"), in(5s), [&](GatewayReply r) { replies.push_back(r); });
  client.call(get("/api/clients/b/3"), in(50ms), [&](GatewayReply r) { replies.push_back(r); });
  ASSERT_TRUE(test::run_until(io_, [&] { return replies.size() == 2; }));
  // b gave up at 50 ms, a was answered at 200 ms.
  EXPECT_EQ(replies[0].status, 0u);
  EXPECT_EQ(replies[0].body, "expired waiting for a connection");
  EXPECT_EQ(replies[1].status, 200u);
  EXPECT_EQ(fake.seen.size(), 1u);
}

TEST_F(GatewayClientTest, AConnectionTheGatewayClosedWhileIdleIsReplacedUnseen) {
  FakeGateway fake(io_, [](const FakeGateway::Request&) { return FakeAnswer{}; });
  GatewayClient client(io_, options(fake.port()));
  EXPECT_EQ(call_all(client, {get("/api/clients/a/3")}, in(5s))[0].status, 200u);
  fake.close_idle();
  test::run_until(
      io_, [] { return false; }, 50ms);
  auto again = call_all(client, {get("/api/clients/a/3")}, in(5s));
  EXPECT_EQ(again[0].status, 200u) << again[0].body;
  EXPECT_EQ(fake.accepted, 2);
  EXPECT_EQ(fake.seen.size(), 2u);
}

TEST_F(GatewayClientTest, ConnectionCloseIsHonoured) {
  FakeGateway fake(io_, [](const FakeGateway::Request&) {
    FakeAnswer a;
    a.close = true;
    return a;
  });
  GatewayClient client(io_, options(fake.port()));
  auto replies = call_all(client, {get("/api/clients/a/3")}, in(5s));
  EXPECT_EQ(replies[0].status, 200u);
  EXPECT_EQ(client.connections(), 0u);
  replies = call_all(client, {get("/api/clients/a/3")}, in(5s));
  EXPECT_EQ(replies[0].status, 200u);
  EXPECT_EQ(fake.accepted, 2);
}

TEST_F(GatewayClientTest, NoGatewayIsAFailureWithoutAnswer) {
  GatewayClient client(io_, options(test::free_loopback_port(SOCK_STREAM)));
  auto replies = call_all(client, {get("/api/clients/a/3")}, in(5s));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 0u);
  EXPECT_EQ(failure_reason(replies[0]).rfind("HTTP: connect to 127.0.0.1:", 0), 0u)
      << failure_reason(replies[0]);
  EXPECT_EQ(client.connections(), 0u);
}

TEST_F(GatewayClientTest, SocketsAreOpenedThroughAroundConnect) {
  FakeGateway fake(io_, [](const FakeGateway::Request&) { return FakeAnswer{}; });
  GatewayClientOptions o = options(fake.port());
  int opened = 0;
  o.around_connect = [&opened](const std::function<void()>& open) {
    ++opened;
    open();
  };
  GatewayClient client(io_, o);
  call_all(client, {get("/api/clients/a/3"), get("/api/clients/b/3")}, in(5s));
  EXPECT_EQ(opened, fake.accepted);
  EXPECT_GE(opened, 1);

  // Without a socket from it, nothing is sent.
  o.around_connect = [](const std::function<void()>&) {};
  GatewayClient refused(io_, o);
  auto replies = call_all(refused, {get("/api/clients/a/3")}, in(5s));
  EXPECT_EQ(replies[0].status, 0u);
  EXPECT_NE(replies[0].body.find("cannot open a socket"), std::string::npos) << replies[0].body;
}

// --- the load generator through the fake gateway ------------------------------

// Answers like the gateway in front of devices named by what they do:
// "ok-*" 200 after 5 ms (1 ms of it on the bus), "err-*" 504, "silent-*"
// never; observes of "err-*" are answered by the device with NOT_FOUND.
FakeAnswer device_answer(const FakeGateway::Request& r) {
  const std::string target(r.target());
  FakeAnswer a;
  if (r[http::field::authorization] != "Bearer token-0123456789abcdef") {
    a.status = 401;
    a.body = "missing or wrong bearer token";
    a.bus_ms.reset();
    return a;
  }
  if (target == "/api/objectspecs") {
    a.body = "[]";
    a.bus_ms.reset();
    return a;
  }
  a.delay = 5ms;
  a.bus_ms = 1.0;
  const bool observe = target.find("/observe") != std::string::npos;
  if (target.find("/silent-") != std::string::npos) {
    a.silent = true;
  } else if (target.find("/err-") != std::string::npos) {
    if (observe) {
      a.body = R"j({"status":"NOT_FOUND(132)","valid":true,"success":false,"failure":true})j";
    } else {
      a.status = 504;
      a.body = "Request timeout: no response within 0.3 s";
    }
  }
  return a;
}

class LoadGeneratorViaGateway : public test::RedisServerTest {
 protected:
  void SetUp() override {
    RedisServerTest::SetUp();
    fake_ = std::make_unique<FakeGateway>(io_, device_answer);
    gen_ = make_generator("token-0123456789abcdef");
    Status connected = gen_->connect();
    ASSERT_TRUE(connected.ok()) << connected.error().message;
  }
  void TearDown() override {
    gen_.reset();
    fake_.reset();
  }
  std::unique_ptr<LoadGenerator> make_generator(const std::string& token) {
    BusOptions bus;
    bus.host = redis_host();
    bus.port = redis_port();
    GatewayClientOptions gateway;
    gateway.port = fake_->port();
    gateway.token = token;
    return std::make_unique<LoadGenerator>(io_, bus, gateway);
  }
  static LoadPlan plan(std::vector<std::string> endpoints, double rate, double window_s) {
    LoadPlan p;
    p.endpoints = std::move(endpoints);
    schema::RequestSpec read;
    read.set_kind("read");
    read.set_path("/3313/0/{xyz}");
    read.set_weight(1);
    p.mix = {read};
    p.rate = rate;
    p.warmup_s = 0.2;
    p.window_s = window_s;
    p.request_timeout_s = 0.3;
    return p;
  }

  boost::asio::io_context io_;
  std::unique_ptr<FakeGateway> fake_;
  std::unique_ptr<LoadGenerator> gen_;
};

TEST_F(LoadGeneratorViaGateway, EveryRequestIsCountedAndTheAddedLatencyKept) {
  LoadPlan p = plan({"ok-1", "err-1", "silent-1"}, 150, 1.0);
  p.seed = 3;
  auto r = gen_->run(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->via_gateway);
  EXPECT_LE(std::abs(static_cast<double>(r->sent) - 150.0), 1.0);
  EXPECT_EQ(r->answered + r->err_replies + r->timed_out, r->sent);
  EXPECT_GT(r->answered, 20u);
  EXPECT_GT(r->err_replies, 20u);
  EXPECT_GT(r->timed_out, 20u);
  EXPECT_EQ(r->error_messages.at("HTTP 504: Request timeout: no response within 0.3 s"),
            r->err_replies);
  for (uint32_t us : r->latencies_us) EXPECT_GE(us, 5000u);
  // Every answer carried its bus time: latency - 1 ms each.
  ASSERT_EQ(r->gateway_added_us.size(), r->answered);
  for (size_t i = 0; i < r->answered; ++i)
    EXPECT_NEAR(r->gateway_added_us[i] + 1000.0, r->latencies_us[i], 2.0) << i;
  // Each request went over HTTP, the reads as GETs of the mix's paths.
  int reads = 0;
  for (const auto& seen : fake_->seen)
    if (seen.method() == http::verb::get && seen.target().find("/3313/0/570") != std::string::npos)
      ++reads;
  EXPECT_GE(reads, static_cast<int>(r->sent));

  schema::ResultRecord record;
  fill_record(*r, &record);
  ASSERT_TRUE(record.has_gateway());
  EXPECT_EQ(record.gateway().timed_requests(), r->answered);
  EXPECT_GE(record.gateway().added_latency().p50_ms(), 3.0);  // 5 ms answer - 1 ms on the bus
  EXPECT_GE(record.gateway().added_latency().p99_ms(), record.gateway().added_latency().p50_ms());
}

TEST_F(LoadGeneratorViaGateway, ObserveAllPostsAnObservePerDevice) {
  auto r = gen_->observe_all({"ok-1", "ok-2", "ok-3", "err-1", "silent-1"}, "/3313/0", 300ms, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->observed, 3u);
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(r->timed_out, 1u);
  EXPECT_EQ(r->errors.at("NOT_FOUND(132)"), 1u);
  int observes = 0;
  for (const auto& seen : fake_->seen)
    if (seen.method() == http::verb::post && seen.target().starts_with("/api/clients/") &&
        seen.target().find("/3313/0/observe?") != std::string::npos)
      ++observes;
  EXPECT_EQ(observes, 5);
}

TEST_F(LoadGeneratorViaGateway, OnlyNotificationsCountOnTheBus) {
  test::BusPeer peer(io_);
  ASSERT_TRUE(peer.start(redis_host(), redis_port(), {"gateway-client-test"},
                         [](std::string_view, std::string_view) {}));
  // The gateway's replies to the load and its observations' notifications
  // share the channel.
  auto timer = std::make_shared<boost::asio::steady_timer>(io_);
  int published = 0;
  std::function<void()> tick = [&] {
    if (++published > 60) return;
    peer.publish(peer.channels().responses,
                 R"({"ticket":"gw-1","rep":{"code":"CONTENT","contentFormat":"TLV"}})");
    peer.publish(peer.channels().responses,
                 R"({"ticket":"gw-obs","rep":{"code":"CONTENT","notification":true,"ep":"ok-1"}})");
    timer->expires_after(10ms);
    timer->async_wait([&](boost::system::error_code ec) {
      if (!ec) tick();
    });
  };
  tick();
  LoadPlan p = plan({"ok-1"}, 20, 0.5);
  p.warmup_s = 0;
  p.timeline = true;
  auto r = gen_->run(p);
  timer->cancel();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->notifications, 0);
  EXPECT_LE(r->notifications, 0.5 / 0.010 + 1);
  ASSERT_TRUE(r->notifications_by_device.count("ok-1"));
  EXPECT_GT(r->notifications_by_device.at("ok-1").size(), 0u);
  EXPECT_EQ(r->notifications_by_device.size(), 1u);
}

TEST_F(LoadGeneratorViaGateway, AWrongTokenFailsConnect) {
  auto other = make_generator("not-the-token-at-all");
  Status s = other->connect();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kIo);
  EXPECT_NE(s.error().message.find("HTTP 401"), std::string::npos) << s.error().message;
  EXPECT_FALSE(other->run(plan({"ok-1"}, 10, 0.1)).ok());
}

}  // namespace
}  // namespace fogm2m::runner
