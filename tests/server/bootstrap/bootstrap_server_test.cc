// The bootstrap server over real UDP on loopback, against a test client
// that answers (or refuses) each request itself.
#include "server/bootstrap/bootstrap_server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lwm2m/coap_code.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/model.h"

namespace fogm2m::server {
namespace {

using boost::asio::ip::udp;
using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::Path;

class BootstrapServerTest : public ::testing::Test {
 protected:
  void start(const std::string& config_text) {
    auto config = parse_bootstrap_config(config_text, "test.conf");
    ASSERT_TRUE(config.ok()) << config.error().message;
    BootstrapServerOptions o;
    o.bind_address = boost::asio::ip::make_address("127.0.0.1");
    o.port = 0;
    o.ack_timeout = std::chrono::milliseconds(100);
    o.max_retransmit = 2;
    server = std::make_unique<BootstrapServer>(io, std::move(*config), o);
    server->on_done = [this](const BootstrapOutcome& outcome) { outcomes.push_back(outcome); };
    ASSERT_TRUE(server->start().ok());
    client.open(udp::v4());
    client.bind(udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    client.non_blocking(true);
  }
  void send(const CoapMessage& m) {
    auto bytes = lwm2m::encode_coap(m);
    ASSERT_TRUE(bytes.ok());
    client.send_to(boost::asio::buffer(*bytes),
                   udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), server->local_port()));
  }
  // The next datagram from the server, running the server meanwhile.
  std::optional<CoapMessage> receive(std::chrono::milliseconds wait = std::chrono::seconds(2)) {
    const auto until = std::chrono::steady_clock::now() + wait;
    std::array<char, 1536> buf{};
    while (std::chrono::steady_clock::now() < until) {
      io.poll();
      udp::endpoint from;
      boost::system::error_code ec;
      const size_t n = client.receive_from(boost::asio::buffer(buf), from, 0, ec);
      if (!ec) {
        auto m = lwm2m::decode_coap(std::string_view(buf.data(), n));
        if (m) return *m;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return std::nullopt;
  }
  void run_for(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      io.poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  CoapMessage bootstrap_request(const std::string& query, uint16_t mid = 7) {
    CoapMessage m;
    m.type = CoapType::kCon;
    m.code = coap_code(CoapCode::kPost);
    m.message_id = mid;
    m.token = "tk";
    m.set_uri_path("/bs");
    if (!query.empty()) m.add_uri_query(query);
    return m;
  }
  void answer(const CoapMessage& req, CoapCode code) {
    CoapMessage a;
    a.type = CoapType::kAck;
    a.message_id = req.message_id;
    a.token = req.token;
    a.code = coap_code(code);
    send(a);
  }

  boost::asio::io_context io;
  std::unique_ptr<BootstrapServer> server;
  udp::socket client{io};
  std::vector<BootstrapOutcome> outcomes;
  lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
};

TEST_F(BootstrapServerTest, DeletesWritesAndFinishes) {
  start(R"([endpoint dev-1]
server_uri = coaps://127.0.0.1:5684
security = psk
psk_identity = dev-1
psk_key = 0102
short_server_id = 3
lifetime = 120
delete = true
)");
  send(bootstrap_request("ep=dev-1"));
  auto ack = receive();
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type, CoapType::kAck);
  EXPECT_EQ(ack->message_id, 7);
  EXPECT_EQ(ack->code, coap_code(CoapCode::kChanged));

  std::vector<std::string> seen;
  std::optional<lwm2m::Node> security, server_instance;
  for (int i = 0; i < 5; ++i) {
    auto req = receive();
    ASSERT_TRUE(req) << "request " << i;
    EXPECT_EQ(req->type, CoapType::kCon);
    seen.push_back(std::to_string(req->code) + " " + req->uri_path());
    if (req->code == coap_code(CoapCode::kPut)) {
      EXPECT_EQ(req->content_format(), 11542u);
      auto path = Path::parse(req->uri_path());
      ASSERT_TRUE(path.ok());
      auto node = lwm2m::decode(
          lwm2m::ContentFormat::kTlv, *path,
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(req->payload.data()),
                                   req->payload.size()),
          models);
      ASSERT_TRUE(node.ok()) << node.error().message;
      (path->object_id() == 0 ? security : server_instance) = *node;
    }
    answer(*req,
           req->code == coap_code(CoapCode::kDelete) ? CoapCode::kDeleted : CoapCode::kChanged);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"4 /0", "4 /1", "3 /0/1", "3 /1/0", "2 /bs"}));
  run_for(std::chrono::milliseconds(20));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_TRUE(outcomes[0].ok) << outcomes[0].message;
  EXPECT_EQ(outcomes[0].endpoint, "dev-1");

  ASSERT_TRUE(security && server_instance);
  const auto& sec = std::get<lwm2m::ObjectInstance>(*security);
  EXPECT_EQ(sec.find(0)->value, lwm2m::Value("coaps://127.0.0.1:5684"));
  EXPECT_EQ(sec.find(1)->value, lwm2m::Value(false));
  EXPECT_EQ(sec.find(2)->value, lwm2m::Value(int64_t{0}));
  EXPECT_EQ(sec.find(3)->value, lwm2m::Value(lwm2m::Opaque{'d', 'e', 'v', '-', '1'}));
  EXPECT_EQ(sec.find(5)->value, lwm2m::Value(lwm2m::Opaque{1, 2}));
  EXPECT_EQ(sec.find(10)->value, lwm2m::Value(int64_t{3}));
  const auto& srv = std::get<lwm2m::ObjectInstance>(*server_instance);
  EXPECT_EQ(srv.find(0)->value, lwm2m::Value(int64_t{3}));
  EXPECT_EQ(srv.find(1)->value, lwm2m::Value(int64_t{120}));
}

TEST_F(BootstrapServerTest, UnknownOrMissingEndpointIsBadRequest) {
  start("[endpoint dev-1]\nserver_uri = coap://127.0.0.1\n");
  send(bootstrap_request("ep=stranger"));
  auto a = receive();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->code, coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(a->payload, "no bootstrap configuration for endpoint \"stranger\"");
  send(bootstrap_request("", 8));
  auto b = receive();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->code, coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(b->payload, "Bootstrap-Request without ep=");
  EXPECT_FALSE(receive(std::chrono::milliseconds(300)));  // nothing else is sent
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_FALSE(outcomes[0].ok);
}

TEST_F(BootstrapServerTest, ARefusedWriteOrSilenceEndsTheSession) {
  start("[default]\nserver_uri = coap://127.0.0.1\n");
  send(bootstrap_request("ep=a"));
  ASSERT_TRUE(receive());  // 2.04
  auto put = receive();
  ASSERT_TRUE(put);
  EXPECT_EQ(put->uri_path(), "/0/1");
  answer(*put, CoapCode::kBadRequest);
  run_for(std::chrono::milliseconds(20));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_FALSE(outcomes[0].ok);
  EXPECT_EQ(outcomes[0].message, "PUT /0/1: 4.00");
  EXPECT_FALSE(receive(std::chrono::milliseconds(200)));

  // A repeated Bootstrap-Request (same message ID) is answered again, nothing new starts.
  send(bootstrap_request("ep=a"));
  auto again = receive();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->code, coap_code(CoapCode::kChanged));
  EXPECT_FALSE(receive(std::chrono::milliseconds(200)));

  // A new one restarts; unanswered, the CON is sent 1 + 2 times, then the session fails.
  send(bootstrap_request("ep=a", 9));
  ASSERT_TRUE(receive());  // 2.04
  int sent = 0;
  while (receive(std::chrono::milliseconds(600))) ++sent;
  EXPECT_EQ(sent, 3);
  run_for(std::chrono::milliseconds(500));
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1].message, "PUT /0/1: no answer");
}

}  // namespace
}  // namespace fogm2m::server
