// The emulated device's LwM2M 1.1 Send (POST /dp every send period) and
// queue mode (binding, radio off after the awake time).
#include <gtest/gtest.h>

#include "emulated_clients/device.h"
#include "emulated_clients/device_message_layer.h"
#include "lwm2m/codec/codec.h"
#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

// Registers `d` at T0; returns the time of its registration.
void register_at_t0(Device& d) {
  d.start(T0);
  auto out = tick(d, T0);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "/rd/abc"), T0));
  ASSERT_TRUE(d.registered());
}

std::vector<CoapMessage> sends_in(const std::vector<CoapMessage>& out) {
  std::vector<CoapMessage> s;
  for (const auto& m : out)
    if (m.is_request() && m.uri_path_segments().size() == 1 && m.uri_path_segments()[0] == "dp")
      s.push_back(m);
  return s;
}

TEST(DeviceSend, SendsTheAccelerometerEveryPeriodWhileRegistered) {
  auto c = config();
  c->send_period = 2s;
  Device d = make_device(c);
  d.start(T0);
  EXPECT_TRUE(sends_in(tick(d, T0 + 5s)).empty());  // not registered: the Register only
  Device r = make_device(c);
  register_at_t0(r);
  EXPECT_EQ(r.next_deadline(), T0 + 2s);
  EXPECT_TRUE(sends_in(tick(r, T0 + 1s)).empty());
  auto out = sends_in(tick(r, T0 + 2s));
  ASSERT_EQ(out.size(), 1u);
  const CoapMessage& send = out[0];
  EXPECT_EQ(send.type, CoapType::kCon);
  EXPECT_EQ(send.code, coap_code(CoapCode::kPost));
  EXPECT_EQ(send.content_format(), static_cast<uint32_t>(ContentFormat::kSenmlJson));
  const auto* bytes = reinterpret_cast<const uint8_t*>(send.payload.data());
  auto nodes = lwm2m::decode_composite_resources(
      ContentFormat::kSenmlJson, std::span<const uint8_t>(bytes, send.payload.size()),
      Device::models());
  ASSERT_TRUE(nodes) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 3u);
  EXPECT_EQ((*nodes)[0].path, Path(3313, 0, 5702));
  EXPECT_EQ(std::get<Resource>((*nodes)[0].node).value, local_value(r, "/3313/0/5702"));
  // One outstanding: none until it is answered.
  EXPECT_TRUE(sends_in(tick(r, T0 + 4s)).empty());
  EXPECT_TRUE(r.handle_response(response_to(send, CoapCode::kChanged), T0 + 4s));
  EXPECT_EQ(r.counters().sends, 1u);
  auto next = sends_in(tick(r, T0 + 4s));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0].token, send.token);
  EXPECT_TRUE(r.handle_response(response_to(next[0], CoapCode::kBadRequest), T0 + 5s));
  EXPECT_EQ(r.counters().send_errors, 1u);
  auto third = sends_in(tick(r, T0 + 6s));
  ASSERT_EQ(third.size(), 1u);
  r.on_timeout(third[0].token, T0 + 7s);
  EXPECT_EQ(r.counters().send_errors, 2u);
}

TEST(DeviceSend, SenmlCborAndNotOnLwm2m10) {
  auto c = config();
  c->send_period = 1s;
  c->send_cbor = true;
  Device d = make_device(c);
  register_at_t0(d);
  auto out = sends_in(tick(d, T0 + 1s));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].content_format(), static_cast<uint32_t>(ContentFormat::kSenmlCbor));

  auto old = config();
  old->send_period = 1s;
  old->version = Lwm2mVersion::k1_0;
  Device d10 = make_device(old);
  register_at_t0(d10);
  EXPECT_TRUE(sends_in(tick(d10, T0 + 5s)).empty());
}

TEST(DeviceQueueMode, RegistersWithQueueBinding) {
  auto c = config();
  c->queue_mode = true;
  Device d11 = make_device(c);
  d11.start(T0);
  auto reg = tick(d11, T0);
  ASSERT_EQ(reg.size(), 1u);
  EXPECT_EQ(reg[0].uri_queries(),
            (std::vector<std::string_view>{"ep=dev-001", "lt=300", "lwm2m=1.1", "b=U", "Q"}));

  auto old = config();
  old->queue_mode = true;
  old->version = Lwm2mVersion::k1_0;
  Device d10 = make_device(old);
  d10.start(T0);
  auto reg10 = tick(d10, T0);
  ASSERT_EQ(reg10.size(), 1u);
  EXPECT_EQ(reg10[0].uri_queries(),
            (std::vector<std::string_view>{"ep=dev-001", "lt=300", "lwm2m=1.0", "b=UQ"}));
}

TEST(DeviceQueueMode, AsleepAfterTheAwakeTimeUntilItSendsAgain) {
  auto c = config();
  c->queue_mode = true;
  c->awake_time = 10s;
  c->lifetime_s = 100;  // Update at 90 s
  Device d = make_device(c);
  register_at_t0(d);
  EXPECT_FALSE(d.asleep(T0 + 9s));
  d.handle_request(get("/3/0/0"), T0 + 9s);  // answering keeps it awake
  EXPECT_FALSE(d.asleep(T0 + 18s));
  EXPECT_TRUE(d.asleep(T0 + 19s));
  auto update = tick(d, T0 + 90s);
  ASSERT_EQ(update.size(), 1u);
  EXPECT_FALSE(d.asleep(T0 + 90s));
  EXPECT_TRUE(d.asleep(T0 + 100s));

  Device plain = make_device(config());
  register_at_t0(plain);
  EXPECT_FALSE(plain.asleep(T0 + 1000s));
}

// The message layer drops a request while the device sleeps: no answer, no
// cached response, counted.
class RecordingSink final : public DatagramSink {
 public:
  bool send(std::span<const uint8_t> bytes, const boost::asio::ip::udp::endpoint&) override {
    sent.emplace_back(bytes.begin(), bytes.end());
    return true;
  }
  std::vector<std::vector<uint8_t>> sent;
};

TEST(DeviceQueueMode, MessageLayerDropsRequestsWhileAsleep) {
  auto c = config();
  c->queue_mode = true;
  c->awake_time = 10s;
  Device d = make_device(c);
  register_at_t0(d);
  DeviceMessageOptions options;
  DeviceMessageLayer layer(options, 7);
  RecordingSink sink;
  const boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"), 5683);
  auto bytes = lwm2m::encode_coap(get("/3/0/0", ContentFormat::kText));
  ASSERT_TRUE(bytes);
  const std::span<const uint8_t> datagram(reinterpret_cast<const uint8_t*>(bytes->data()),
                                          bytes->size());
  layer.on_datagram(d, datagram, server, T0 + 5s, sink);
  EXPECT_EQ(sink.sent.size(), 1u);  // awake: answered
  layer.on_datagram(d, datagram, server, T0 + 60s, sink);
  EXPECT_EQ(sink.sent.size(), 1u);  // asleep: dropped
  EXPECT_EQ(d.counters().dropped_asleep, 1u);
}

}  // namespace
}  // namespace fogm2m::emulated
