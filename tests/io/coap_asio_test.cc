#include "io/coap_asio.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/coap_loopback.h"
#include "tests/support/test_util.h"

namespace fogm2m::io {
namespace {

using namespace std::chrono_literals;
using test::run_until;

// What the client context's handlers saw; reached through coap_get_app_data.
struct ClientLog {
  std::vector<std::string> responses;  // payloads
  std::vector<coap_pdu_code_t> codes;
  std::optional<coap_nack_reason_t> nack;
  std::chrono::steady_clock::time_point nack_at;
};

coap_response_t on_response(coap_session_t* session, const coap_pdu_t*, const coap_pdu_t* received,
                            const coap_mid_t) {
  auto* log = static_cast<ClientLog*>(coap_get_app_data(coap_session_get_context(session)));
  size_t len = 0;
  const uint8_t* data = nullptr;
  std::string payload;
  if (coap_get_data(received, &len, &data) != 0)
    payload.assign(reinterpret_cast<const char*>(data), len);
  log->responses.push_back(payload);
  log->codes.push_back(coap_pdu_get_code(received));
  return COAP_RESPONSE_OK;
}

void on_nack(coap_session_t* session, const coap_pdu_t*, const coap_nack_reason_t reason,
             const coap_mid_t) {
  auto* log = static_cast<ClientLog*>(coap_get_app_data(coap_session_get_context(session)));
  log->nack = reason;
  log->nack_at = std::chrono::steady_clock::now();
}

int g_requests_served = 0;

void on_get_hello(coap_resource_t*, coap_session_t*, const coap_pdu_t*, const coap_string_t*,
                  coap_pdu_t* response) {
  ++g_requests_served;
  static constexpr char kBody[] = "world";
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_CONTENT);
  coap_add_data(response, sizeof(kBody) - 1, reinterpret_cast<const uint8_t*>(kBody));
}

class CoapAsioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_coap_log_level(CoapLogLevel::kWarning);
    set_coap_log_sink([this](CoapLogLevel level, std::string_view message) {
      logs_.emplace_back(std::to_string(static_cast<int>(level)) + " " + std::string(message));
    });
    g_requests_served = 0;
    client_ = coap_new_context(nullptr);
    ASSERT_NE(client_, nullptr);
    coap_set_app_data(client_, &log_);
    coap_register_response_handler(client_, &on_response);
    coap_register_nack_handler(client_, &on_nack);
  }

  void TearDown() override {
    // Drivers first: they must stop before their contexts are freed.
    client_driver_.reset();
    server_driver_.reset();
    if (client_ != nullptr) coap_free_context(client_);
    if (server_ != nullptr) coap_free_context(server_);
    set_coap_log_sink({});
  }

  // A server context with resource "hello" on 127.0.0.1:<ephemeral>, UDP or
  // DTLS. libcoap 4.3.1 cannot tell an endpoint's bound port, so a free one
  // is picked first, with retries against races.
  void make_server(coap_proto_t proto) {
    server_ = coap_new_context(nullptr);
    ASSERT_NE(server_, nullptr);
    if (proto == COAP_PROTO_DTLS) {
      coap_dtls_spsk_t spsk;
      std::memset(&spsk, 0, sizeof(spsk));
      spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
      spsk.psk_info.hint = {std::strlen(kHint), reinterpret_cast<const uint8_t*>(kHint)};
      spsk.psk_info.key = {std::strlen(kKey), reinterpret_cast<const uint8_t*>(kKey)};
      ASSERT_EQ(coap_context_set_psk2(server_, &spsk), 1);
    }
    coap_endpoint_t* ep = nullptr;
    for (int attempt = 0; attempt < 10 && ep == nullptr; ++attempt) {
      server_port_ = test::free_loopback_port(SOCK_DGRAM);
      coap_address_t addr = test::loopback_coap_address(server_port_);
      ep = coap_new_endpoint(server_, &addr, proto);
    }
    ASSERT_NE(ep, nullptr);
    coap_resource_t* r = coap_resource_init(coap_make_str_const("hello"), 0);
    coap_register_request_handler(r, COAP_REQUEST_GET, &on_get_hello);
    coap_add_resource(server_, r);
  }

  // Sends a confirmable GET /hello on `session`.
  void send_get(coap_session_t* session) {
    coap_pdu_t* pdu =
        coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, coap_new_message_id(session),
                      coap_session_max_pdu_size(session));
    ASSERT_NE(pdu, nullptr);
    uint8_t token[8];
    size_t token_len = 0;
    coap_session_new_token(session, &token_len, token);
    coap_add_token(pdu, token_len, token);
    coap_add_option(pdu, COAP_OPTION_URI_PATH, 5, reinterpret_cast<const uint8_t*>("hello"));
    ASSERT_NE(coap_send(session, pdu), COAP_INVALID_MID);
  }

  void start_drivers() {
    client_driver_ = std::make_unique<CoapAsioDriver>(io_, client_);
    Status st = client_driver_->start();
    ASSERT_TRUE(st.ok()) << st.error().message;
    if (server_ != nullptr) {
      server_driver_ = std::make_unique<CoapAsioDriver>(io_, server_);
      st = server_driver_->start();
      ASSERT_TRUE(st.ok()) << st.error().message;
    }
  }

  static constexpr const char* kHint = "fogm2m";
  static constexpr const char* kIdentity = "device-1";
  static constexpr const char* kKey = "secret-psk-0123";

  CoapLibrary library_;
  boost::asio::io_context io_;
  coap_context_t* client_ = nullptr;
  coap_context_t* server_ = nullptr;
  uint16_t server_port_ = 0;
  std::unique_ptr<CoapAsioDriver> client_driver_;
  std::unique_ptr<CoapAsioDriver> server_driver_;
  ClientLog log_;
  std::vector<std::string> logs_;
};

TEST_F(CoapAsioTest, ContextHasAnEpollDescriptor) {
  // Debian's libcoap 4.3.1 is built with epoll; the driver depends on it.
  EXPECT_GE(coap_context_get_coap_fd(client_), 0);
}

TEST_F(CoapAsioTest, GetIsAnsweredOverUdp) {
  make_server(COAP_PROTO_UDP);
  start_drivers();
  coap_address_t dst = test::loopback_coap_address(server_port_);
  coap_session_t* session = coap_new_client_session(client_, nullptr, &dst, COAP_PROTO_UDP);
  ASSERT_NE(session, nullptr);
  send_get(session);
  ASSERT_TRUE(run_until(
      io_, [&] { return !log_.responses.empty(); }, 5s));
  EXPECT_EQ(log_.responses[0], "world");
  EXPECT_EQ(log_.codes[0], COAP_RESPONSE_CODE_CONTENT);
  EXPECT_EQ(g_requests_served, 1);

  // Many requests in flight at once, sent from inside an io_context handler.
  boost::asio::post(io_, [&] {
    for (int i = 0; i < 50; ++i) send_get(session);
  });
  ASSERT_TRUE(run_until(
      io_, [&] { return log_.responses.size() == 51; }, 10s))
      << log_.responses.size();
  EXPECT_EQ(g_requests_served, 51);
  coap_session_release(session);
}

TEST_F(CoapAsioTest, UnansweredConIsRetransmittedThenNacked) {
  // A bound UDP socket that never answers: datagrams queue up unread, and no
  // ICMP port-unreachable cuts the exchange short.
  int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  start_drivers();
  coap_address_t dst = test::loopback_coap_address(ntohs(addr.sin_port));
  coap_session_t* session = coap_new_client_session(client_, nullptr, &dst, COAP_PROTO_UDP);
  ASSERT_NE(session, nullptr);
  // libcoap's minimum ACK_TIMEOUT is 1 s; a random factor of 1 makes the
  // schedule exact: send at 0 s, retransmit at 1 s, give up at 3 s.
  coap_session_set_ack_timeout(session, coap_fixed_point_t{1, 0});
  coap_session_set_ack_random_factor(session, coap_fixed_point_t{1, 0});
  coap_session_set_max_retransmit(session, 1);

  auto sent_at = std::chrono::steady_clock::now();
  // Sent from outside any driver handler, without kick(): libcoap's timerfd
  // in the epoll set must wake the driver for the retransmission.
  send_get(session);
  ASSERT_TRUE(run_until(
      io_, [&] { return log_.nack.has_value(); }, 8s));
  EXPECT_EQ(*log_.nack, COAP_NACK_TOO_MANY_RETRIES);
  auto elapsed = log_.nack_at - sent_at;
  EXPECT_GE(elapsed, 2900ms);
  EXPECT_LT(elapsed, 4500ms);

  int datagrams = 0;
  char buf[1500];
  while (::recv(silent, buf, sizeof(buf), MSG_DONTWAIT) > 0) ++datagrams;
  EXPECT_EQ(datagrams, 2);  // the original and one retransmission
  ::close(silent);
  coap_session_release(session);
}

TEST_F(CoapAsioTest, IdleContextsUseNoCpu) {
  make_server(COAP_PROTO_UDP);
  start_drivers();
  coap_address_t dst = test::loopback_coap_address(server_port_);
  coap_session_t* session = coap_new_client_session(client_, nullptr, &dst, COAP_PROTO_UDP);
  ASSERT_NE(session, nullptr);
  send_get(session);
  ASSERT_TRUE(run_until(
      io_, [&] { return !log_.responses.empty(); }, 5s));

  uint64_t rounds_before = client_driver_->rounds() + server_driver_->rounds();
  auto cpu_before = test::thread_cpu_time();
  io_.restart();
  io_.run_for(500ms);
  auto cpu = test::thread_cpu_time() - cpu_before;
  uint64_t rounds = client_driver_->rounds() + server_driver_->rounds() - rounds_before;
  EXPECT_LT(cpu, 50ms) << cpu.count() << " us of CPU while idle";
  EXPECT_LT(rounds, 20u) << "processing rounds while idle";
  coap_session_release(session);
}

TEST_F(CoapAsioTest, StopDetachesAndStartResumes) {
  make_server(COAP_PROTO_UDP);
  start_drivers();
  EXPECT_TRUE(server_driver_->running());
  EXPECT_FALSE(server_driver_->start().ok());  // already started

  server_driver_->stop();
  server_driver_->stop();  // idempotent
  EXPECT_FALSE(server_driver_->running());

  coap_address_t dst = test::loopback_coap_address(server_port_);
  coap_session_t* session = coap_new_client_session(client_, nullptr, &dst, COAP_PROTO_UDP);
  ASSERT_NE(session, nullptr);
  send_get(session);
  io_.restart();
  io_.run_for(300ms);
  EXPECT_EQ(g_requests_served, 0);  // nobody processes the server context

  ASSERT_TRUE(server_driver_->start().ok());
  ASSERT_TRUE(run_until(
      io_, [&] { return !log_.responses.empty(); }, 5s));
  EXPECT_EQ(g_requests_served, 1);
  coap_session_release(session);
}

TEST_F(CoapAsioTest, NullContextIsRejected) {
  CoapAsioDriver driver(io_, nullptr);
  Status st = driver.start();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(CoapAsioTest, LogLinesReachTheSink) {
  set_coap_log_level(CoapLogLevel::kDebug);
  coap_log(LOG_WARNING, "fogm2m test line %d\n", 42);
  set_coap_log_level(CoapLogLevel::kWarning);
  ASSERT_FALSE(logs_.empty());
  EXPECT_EQ(logs_.back(), "4 fogm2m test line 42");
}

TEST_F(CoapAsioTest, GetIsAnsweredOverDtlsPsk) {
  if (!coap_dtls_is_supported()) GTEST_SKIP() << "libcoap built without DTLS";
  make_server(COAP_PROTO_DTLS);
  start_drivers();
  coap_dtls_cpsk_t cpsk;
  std::memset(&cpsk, 0, sizeof(cpsk));
  cpsk.version = COAP_DTLS_CPSK_SETUP_VERSION;
  cpsk.psk_info.identity = {std::strlen(kIdentity), reinterpret_cast<const uint8_t*>(kIdentity)};
  cpsk.psk_info.key = {std::strlen(kKey), reinterpret_cast<const uint8_t*>(kKey)};
  coap_address_t dst = test::loopback_coap_address(server_port_);
  coap_session_t* session =
      coap_new_client_session_psk2(client_, nullptr, &dst, COAP_PROTO_DTLS, &cpsk);
  ASSERT_NE(session, nullptr);
  // The request waits in the session until the handshake completes.
  send_get(session);
  client_driver_->kick();
  ASSERT_TRUE(run_until(
      io_, [&] { return !log_.responses.empty(); }, 10s));
  EXPECT_EQ(log_.responses[0], "world");
  EXPECT_EQ(coap_session_get_state(session), COAP_SESSION_STATE_ESTABLISHED);
  coap_session_release(session);
}

}  // namespace
}  // namespace fogm2m::io
