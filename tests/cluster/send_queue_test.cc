// LwM2M 1.1 Send and queue mode end to end: a real node on a real Redis,
// emulated devices over UDP on loopback, the bus observed from Redis.
//   Send: the device's POST /dp -> a "send" event on LWM2M_EVENT and its
//   last values in the hash VAL:EP:{ep}.
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

std::unique_ptr<UdpDevice> start_device(ClusterHarness& h, const std::string& ep,
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
    auto dev = start_device(h, ep, config);
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
  auto dev = start_device(h, "send-gone", config);
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

}  // namespace
}  // namespace fogm2m::test
