// NAT rebinding end to end, plain CoAP: two real nodes on a real Redis, an
// emulated device behind a UDP relay standing in for the load balancer.
// The device's source port changes mid-run (UdpDevice::rebind()); the relay
// gives the new port an upstream address of its own, so the node sees a new
// address, as behind a NAT whose mapping expired. The device's
// observation goes on under its ticket, and requests reach it at its new
// address: on its own node (which follows the address), and on the other
// node when the balancer sends the new flow there (which finds the
// observation by its token alone and takes the device over).
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>
#include <memory>
#include <string>

#include "emulated_clients/udp_device.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/support/udp_relay.h"

namespace fogm2m::test {
namespace {

namespace asio = boost::asio;
using emulated::Device;
using emulated::DeviceConfig;
using emulated::DeviceIdentity;
using emulated::UdpDevice;

asio::ip::udp::endpoint loopback(uint16_t port) {
  return asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), port);
}

class NatRebindingTest : public testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.nodes = 2;
    o.device_timeout = std::chrono::milliseconds(2000);
    h_ = std::make_unique<ClusterHarness>(o);
    ASSERT_TRUE(h_->start()) << h_->error();
    h_->on_io([&] { relay_ = std::make_unique<UdpRelay>(h_->io(), loopback(h_->coap_port(0))); });
    auto config = std::make_shared<DeviceConfig>();
    config->lifetime_s = 120;
    config->sample_period = std::chrono::milliseconds(50);
    emulated::UdpDeviceOptions opt;
    opt.bind_address = asio::ip::make_address("127.0.0.1");
    opt.transmission.ack_timeout = std::chrono::milliseconds(500);
    h_->on_io([&] {
      device_ =
          std::make_unique<UdpDevice>(h_->io(), loopback(relay_->port()),
                                      Device(config, DeviceIdentity{"nat-1", 3, "", ""}), opt);
      EXPECT_TRUE(device_->start().ok());
    });
    ASSERT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", "nat-1"));
  }
  void TearDown() override {
    if (h_)
      h_->on_io([&] {
        device_.reset();
        relay_.reset();
      });
  }

  // Rebinds the device; returns the notifications forwarded so far.
  size_t rebind() {
    const size_t before = count_notifications(h_->seen("LWM2M_RESP"));
    h_->on_io([&] { EXPECT_TRUE(device_->rebind().ok()); });
    return before;
  }
  bool notifications_resume(size_t before) {
    return h_->wait_for(
        "LWM2M_RESP",
        [&](const std::vector<std::string>& msgs) {
          return count_notifications(msgs) >= before + 20;
        },
        std::chrono::seconds(10));
  }
  std::string owner() {
    auto r = h_->redis({"GET", "EP#UID:{nat-1}"});
    return r.ok() ? r->str : "";
  }
  // The device's address as the store has it ("127.0.0.1:port").
  std::string stored_address() {
    auto r = h_->redis({"GET", "REG:EP:{nat-1}"});
    if (!r.ok() || !r->is_string()) return "";
    const auto identity = boost::json::parse(r->str).at("identity").as_object();
    return std::string(identity.at("address").as_string()) + ":" +
           std::to_string(identity.at("port").as_int64());
  }

  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<UdpRelay> relay_;
  std::unique_ptr<UdpDevice> device_;
};

TEST_F(NatRebindingTest, TheObservationAndRequestsFollowTheDevicesNewAddress) {
  auto obs =
      ask(*h_, "nat-1", R"({"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
    return count_notifications(msgs) >= 5;
  }));
  const std::string first_address = stored_address();
  ASSERT_FALSE(first_address.empty());
  EXPECT_EQ(relay_->clients(), 1u);

  // Same node, new address: node-1 follows the device there.
  size_t before = rebind();
  EXPECT_TRUE(notifications_resume(before)) << "notifications stopped after rebinding";
  EXPECT_EQ(relay_->clients(), 2u);
  EXPECT_EQ(owner(), "node-1");
  EXPECT_NE(stored_address(), first_address);
  auto read = ask(*h_, "nat-1", R"({"kind":"read","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  uint64_t followed = 0;
  h_->on_io([&] { followed = h_->node(0).counters().addresses_followed; });
  EXPECT_EQ(followed, 1u);

  // New address, and the balancer sends the new flow to node-2, which finds
  // the observation by its token and takes the device over.
  const std::string second_address = stored_address();
  h_->on_io([&] { relay_->move_to(loopback(h_->coap_port(1))); });
  before = rebind();
  EXPECT_TRUE(notifications_resume(before)) << "notifications did not resume through node-2";
  EXPECT_EQ(owner(), "node-2");
  EXPECT_NE(stored_address(), second_address);
  read = ask(*h_, "nat-1", R"({"kind":"read","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  uint64_t adopted = 0;
  h_->on_io([&] { adopted = h_->node(1).counters().observations_adopted; });
  EXPECT_EQ(adopted, 1u);
}

}  // namespace
}  // namespace fogm2m::test
