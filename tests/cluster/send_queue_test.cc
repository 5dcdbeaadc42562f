// LwM2M 1.1 Send and queue mode end to end: a real node on a real Redis,
// emulated devices over UDP on loopback, the bus observed from Redis.
//   Send: the device's POST /dp -> a "send" event on LWM2M_EVENT and its
//   last values in the hash VAL:EP:{ep}.
//   Queue mode: a device that went quiet is announced sleeping; a read for
//   it waits on the node and is answered after the device's next Update
//   (announced awake), or times out; the wait per device is bounded.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>
#include <thread>

#include "bus/device_event.h"
#include "emulated_clients/udp_device.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

namespace json = boost::json;
using emulated::Device;
using emulated::DeviceConfig;
using emulated::DeviceIdentity;
using emulated::UdpDevice;

std::unique_ptr<UdpDevice> start_queue_device(ClusterHarness& h, const std::string& ep,
                                              std::shared_ptr<DeviceConfig> config) {
  emulated::UdpDeviceOptions opt;
  opt.transmission.ack_timeout = std::chrono::milliseconds(500);
  opt.bind_address = boost::asio::ip::make_address("127.0.0.1");
  std::unique_ptr<UdpDevice> dev;
  h.on_io([&] {
    boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                          h.coap_port(0));
    dev = std::make_unique<UdpDevice>(
        h.io(), server, Device(std::move(config), DeviceIdentity{ep, 7, "", ""}), opt);
    EXPECT_TRUE(dev->start().ok());
  });
  EXPECT_TRUE(seen_endpoint(h, "LESHAN_REG_NEW", ep)) << ep << " did not register";
  return dev;
}

bool is_event(const std::string& message, const char* kind, const std::string& ep) {
  return message.find(std::string("\"kind\":\"") + kind + "\"") != std::string::npos &&
         message.find("\"ep\":\"" + ep + "\"") != std::string::npos;
}

TEST(SendEndToEnd, DeviceSendsAreAnnouncedAndKeptAsLastValues) {
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  for (bool cbor : {false, true}) {
    const std::string ep = cbor ? "send-cbor" : "send-json";
    SCOPED_TRACE(ep);
    auto config = std::make_shared<DeviceConfig>();
    config->lifetime_s = 120;
    config->send_period = std::chrono::milliseconds(200);
    config->send_cbor = cbor;
    auto dev = start_queue_device(h, ep, config);
    ASSERT_TRUE(h.wait_for("LWM2M_EVENT",
                           [&](const std::vector<std::string>& all) {
                             size_t n = 0;
                             for (const auto& m : all) n += is_event(m, "send", ep);
                             return n >= 2;
                           }))
        << "no two send events of " << ep;
    std::string event_text;
    for (const auto& m : h.seen("LWM2M_EVENT"))
      if (is_event(m, "send", ep)) event_text = m;
    const auto models = lwm2m::ModelRegistry::builtin();
    auto event = bus::parse_device_event(event_text, models);
    ASSERT_TRUE(event) << event.error().message << ": " << event_text;
    EXPECT_EQ(event->content_format,
              cbor ? lwm2m::ContentFormat::kSenmlCbor : lwm2m::ContentFormat::kSenmlJson);
    ASSERT_EQ(event->content.size(), 3u);
    EXPECT_EQ(event->content[0].path, lwm2m::Path(3313, 0, 5702));

    auto hash = h.redis({"HGETALL", "VAL:EP:{" + ep + "}"});
    ASSERT_TRUE(hash) << hash.error().message;
    ASSERT_EQ(hash->elements.size(), 6u);  // x, y, z
    std::vector<std::string> fields;
    for (size_t i = 0; i < hash->elements.size(); i += 2) {
      fields.push_back(hash->elements[i].str);
      const auto v = json::parse(hash->elements[i + 1].str).as_object();
      EXPECT_GT(v.at("ts").as_int64(), 0);
      EXPECT_EQ(v.at("node").at("type").as_string(), "FLOAT");
    }
    std::sort(fields.begin(), fields.end());
    EXPECT_EQ(fields, (std::vector<std::string>{"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"}));

    uint32_t sends = 0;
    h.on_io([&] {
      sends = dev->device().counters().sends;
      dev.reset();
    });
    EXPECT_GE(sends, 2u);
  }
  uint64_t received = 0;
  h.on_io([&] { received = h.node(0).counters().sends_received; });
  EXPECT_GE(received, 4u);
}

TEST(SendEndToEnd, DeregistrationForgetsTheLastValues) {
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  auto config = std::make_shared<DeviceConfig>();
  config->lifetime_s = 120;
  config->send_period = std::chrono::milliseconds(100);
  auto dev = start_queue_device(h, "send-gone", config);
  ASSERT_TRUE(h.wait_for("LWM2M_EVENT", [&](const std::vector<std::string>& all) {
    for (const auto& m : all)
      if (is_event(m, "send", "send-gone")) return true;
    return false;
  }));
  h.on_io([&] { dev->stop(); });
  ASSERT_TRUE(seen_endpoint(h, "LESHAN_REG_DEL", "send-gone"));
  bool gone = false;
  for (int i = 0; i < 50 && !gone; ++i) {
    auto exists = h.redis({"EXISTS", "VAL:EP:{send-gone}"});
    gone = exists && exists->integer == 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(gone);
  h.on_io([&] { dev.reset(); });
}

// ---- Queue mode ----------------------------------------------------------------

std::shared_ptr<DeviceConfig> queue_device(uint32_t lifetime_s) {
  auto config = std::make_shared<DeviceConfig>();
  config->lifetime_s = lifetime_s;  // Update at 90 % of it
  config->queue_mode = true;
  config->awake_time = std::chrono::milliseconds(900);  // the node says asleep first
  return config;
}

HarnessOptions queue_harness(size_t max_queued = 16) {
  HarnessOptions o;
  o.awake_time = std::chrono::milliseconds(700);
  o.max_queued_per_device = max_queued;
  return o;
}

bool wait_event(ClusterHarness& h, const char* kind, const std::string& ep,
                std::chrono::milliseconds wait = std::chrono::seconds(10)) {
  return h.wait_for(
      "LWM2M_EVENT",
      [&](const std::vector<std::string>& all) {
        for (const auto& m : all)
          if (is_event(m, kind, ep)) return true;
        return false;
      },
      wait);
}

std::string read_message(const std::string& ep, const std::string& ticket, int timeout_ms) {
  return R"({"ep":")" + ep + R"(","ticket":")" + ticket + R"(","timeout":)" +
         std::to_string(timeout_ms) +
         R"(,"req":{"kind":"read","path":"/3313/0/5702","contentFormat":"TEXT"}})";
}

size_t count_of(const std::vector<std::string>& all, const std::string& needle) {
  size_t n = 0;
  for (const auto& m : all) n += m.find(needle) != std::string::npos;
  return n;
}

TEST(QueueModeEndToEnd, ReadForASleepingDeviceIsAnsweredAfterItsNextUpdate) {
  ClusterHarness h(queue_harness());
  ASSERT_TRUE(h.start()) << h.error();
  auto dev = start_queue_device(h, "queue-1", queue_device(4));  // Update every 3.6 s
  auto reg = h.redis({"GET", "REG:EP:{queue-1}"});
  ASSERT_TRUE(reg && reg->is_string());
  EXPECT_NE(reg->str.find("\"queue\":true"), std::string::npos) << reg->str;
  ASSERT_TRUE(wait_event(h, "sleeping", "queue-1")) << "never announced sleeping";
  const size_t updates_before = count_of(h.seen("LESHAN_REG_UPD"), "queue-1");

  const auto asked = std::chrono::steady_clock::now();
  const std::string raw =
      h.request(read_message("queue-1", "q-read", 15000), "q-read", std::chrono::seconds(15));
  const auto waited = std::chrono::steady_clock::now() - asked;
  ASSERT_FALSE(raw.empty()) << "no reply";
  auto reply = bus::parse_reply(raw);
  ASSERT_TRUE(reply) << raw;
  ASSERT_EQ(reply->type, bus::ReplyType::kRep) << raw;
  EXPECT_EQ(reply->body.at("code").as_string(), "CONTENT") << raw;
  // Answered only once the device had updated and woken up.
  EXPECT_GT(count_of(h.seen("LESHAN_REG_UPD"), "queue-1"), updates_before);
  EXPECT_TRUE(wait_event(h, "awake", "queue-1", std::chrono::milliseconds(0)));
  EXPECT_GT(waited, std::chrono::milliseconds(100));
  uint32_t dropped = 0;
  h.on_io([&] {
    dropped = dev->device().counters().dropped_asleep;
    dev.reset();
  });
  EXPECT_EQ(dropped, 0u);  // the node never sent while it slept
}

TEST(QueueModeEndToEnd, RequestTimesOutWhileTheDeviceSleepsAndTheWaitIsBounded) {
  ClusterHarness h(queue_harness(1));
  ASSERT_TRUE(h.start()) << h.error();
  auto dev = start_queue_device(h, "queue-2", queue_device(120));  // no Update for 108 s
  ASSERT_TRUE(wait_event(h, "sleeping", "queue-2")) << "never announced sleeping";

  // The first waits (1 per device here), the second is refused at once.
  h.publish("LWM2M_REQ", read_message("queue-2", "q-first", 800));
  const std::string second =
      h.request(read_message("queue-2", "q-second", 800), "q-second", std::chrono::seconds(5));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second.find("is sleeping and 1 requests already wait for it"), std::string::npos)
      << second;

  const auto asked = std::chrono::steady_clock::now();
  std::string first;
  ASSERT_TRUE(h.wait_for(
      "LWM2M_RESP",
      [&](const std::vector<std::string>& all) {
        for (const auto& m : all)
          if (m.find("q-first") != std::string::npos && m.find("\"err\"") != std::string::npos)
            first = m;
        return !first.empty();
      },
      std::chrono::seconds(5)));
  EXPECT_NE(first.find("device queue-2 sleeping, request timed out"), std::string::npos) << first;
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::seconds(2));
  size_t waiting = 1;
  h.on_io([&] {
    waiting = h.node(0).sleeping_requests();
    dev.reset();
  });
  EXPECT_EQ(waiting, 0u);
}

}  // namespace
}  // namespace fogm2m::test
