// A node with metrics on, on in-memory stores and a fake transport: what a
// registration and bus requests leave in the Prometheus text.
#include "server/node_metrics.h"

#include <gtest/gtest.h>

#include "lwm2m/coap_code.h"
#include "lwm2m/content_format.h"
#include "server/node.h"
#include "tests/server/services/service_fixture.h"
#include "tests/support/test_util.h"

namespace fogm2m::server {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;

class NodeMetricsTest : public ::testing::Test {
 protected:
  NodeMetricsTest() {
    node.attach(transport);
    metrics.watch(node);
    std::optional<Status> ready;
    node.start([&](Status s) { ready = s; });
    EXPECT_TRUE(test::run_until(io, [&] { return ready.has_value(); }));
    EXPECT_TRUE(ready && ready->ok());
    node.bus().subscribe(
        {node.options().channels.responses},
        [this](std::string_view, std::string_view message) { replies.emplace_back(message); },
        nullptr);
  }

  ~NodeMetricsTest() override {
    bool stopped = false;
    node.stop([&] { stopped = true; });
    EXPECT_TRUE(test::run_until(io, [&] { return stopped; }));
  }

  // A device's Register; returns the response code.
  uint8_t register_device(const std::string& query) {
    CoapMessage reg;
    reg.code = coap_code(CoapCode::kPost);
    reg.set_uri_path("/rd");
    if (!query.empty()) reg.add_uri_query(query);
    reg.add_uri_query("lt=60");
    transport.deliver(device, reg);
    EXPECT_TRUE(test::run_until(io, [&] { return transport.last_response().has_value(); }));
    return transport.last_response() ? transport.last_response()->code : 0;
  }

  // Publishes a bus request and waits until the device was asked.
  void request(const std::string& message) {
    const size_t sent = transport.sent.size();
    node.bus().publish(node.options().channels.requests, message);
    EXPECT_TRUE(test::run_until(io, [&] { return transport.sent.size() > sent; }));
  }

  // Waits for the n-th message on the responses channel (acks included).
  void await_replies(size_t n) {
    EXPECT_TRUE(test::run_until(io, [&] { return replies.size() >= n; }));
  }

  bool rendered(const std::string& line) {
    return registry.render().find(line + "\n") != std::string::npos;
  }

  boost::asio::io_context io;
  const lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  io::metrics::Registry registry;
  NodeMetrics metrics{registry};
  Node node{io, NodeOptions{}, models, &metrics};
  testing::FakeCoapTransport transport;
  const PeerInfo device{{"10.0.0.1", 1000}, false, ""};
  std::vector<std::string> replies;
};

TEST_F(NodeMetricsTest, CountsRegistrationsAndBusRequests) {
  EXPECT_TRUE(rendered("fogm2m_registrations_total{outcome=\"created\"} 0"));
  EXPECT_TRUE(rendered("fogm2m_local_registrations 0"));

  EXPECT_EQ(register_device("ep=dev-1"), coap_code(CoapCode::kCreated));
  EXPECT_EQ(register_device(""), coap_code(CoapCode::kBadRequest));  // no endpoint name

  // A read the device answers...
  request(
      R"({"ep":"dev-1","ticket":"t1","req":{"kind":"read","path":"/3/0/0","contentFormat":"TEXT"}})");
  CoapMessage content;
  content.code = coap_code(CoapCode::kContent);
  content.add_uint_option(lwm2m::coap_option::kContentFormat,
                          static_cast<uint32_t>(lwm2m::ContentFormat::kText));
  content.payload = "Acme";
  transport.answer(content);
  await_replies(2);  // ack, rep
  // ... and one it never answers.
  request(R"({"ep":"dev-1","ticket":"t2","req":{"kind":"read","path":"/3/0/1"}})");
  transport.answer(make_error(ErrorKind::kTimeout, "no answer"));
  await_replies(4);
  // A message that is no request, with a ticket: this (fallback) node answers.
  node.bus().publish(node.options().channels.requests, R"({"ticket":"t3","req":{"kind":"jump"}})");
  await_replies(5);

  const std::string text = registry.render();
  SCOPED_TRACE(text);
  EXPECT_TRUE(rendered("fogm2m_registrations_total{outcome=\"created\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_registrations_total{outcome=\"rejected\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_registrations_total{outcome=\"updated\"} 0"));
  EXPECT_TRUE(rendered("fogm2m_bus_requests_received_total{kind=\"read\"} 2"));
  EXPECT_TRUE(rendered("fogm2m_bus_requests_received_total{kind=\"malformed\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_bus_requests_answered_total{kind=\"read\",outcome=\"ok\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_bus_requests_answered_total{kind=\"read\",outcome=\"timeout\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_bus_requests_answered_total{kind=\"read\",outcome=\"error\"} 0"));
  EXPECT_TRUE(
      rendered("fogm2m_bus_requests_answered_total{kind=\"malformed\",outcome=\"error\"} 1"));
  // Only the answered request is timed.
  EXPECT_TRUE(rendered("fogm2m_device_request_duration_seconds_count 1"));
  EXPECT_TRUE(rendered("fogm2m_device_request_duration_seconds_bucket{le=\"+Inf\"} 1"));
  EXPECT_TRUE(rendered("fogm2m_local_registrations 1"));
  EXPECT_TRUE(rendered("fogm2m_notifications_forwarded_total 0"));
  // An in-memory node has no Redis to report on.
  EXPECT_EQ(text.find("fogm2m_redis"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE fogm2m_bus_requests_answered_total counter\n"),
            text.rfind("# TYPE fogm2m_bus_requests_answered_total"));
}

}  // namespace
}  // namespace fogm2m::server
