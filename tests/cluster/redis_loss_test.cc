// A real node rides out the loss of its real redis-server: killed (SIGKILL)
// and restarted, or paused (SIGSTOP) for ten seconds. While Redis is away,
// new registrations get 5.03 and the devices the node owns keep updating;
// once it is back, the node serves again without a restart: the Updates are
// written through, registrations succeed, the bus carries requests.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>
#include <thread>

#include "emulated_clients/udp_device.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

class RedisLoss : public ::testing::Test {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.device_timeout = 2000ms;
    h_ = std::make_unique<ClusterHarness>(o);
    ASSERT_TRUE(h_->start()) << h_->error();
  }
  void TearDown() override {
    if (device_) h_->on_io([&] { device_.reset(); });
  }

  // Registers `ep` with coap-client; returns its regId.
  std::string register_with_coap_client(const std::string& ep) {
    auto reg = run_command(coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>,</3/0>'",
                                       "/rd?ep=" + ep + "&lt=60"));
    EXPECT_EQ(reg.status, 0) << reg.output;
    EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", ep));
    auto record = h_->redis({"GET", "REG:EP:{" + ep + "}"});
    if (!record || !record->is_string()) return "";
    return std::string(json::parse(record->str).at("regId").as_string());
  }

  // An emulated IPSO 3313 device registered with the node, to read over
  // the bus once Redis is back.
  void start_device(const std::string& ep) {
    auto config = std::make_shared<emulated::DeviceConfig>();
    config->lifetime_s = 120;
    emulated::UdpDeviceOptions opt;
    opt.transmission.ack_timeout = 500ms;
    opt.bind_address = boost::asio::ip::make_address("127.0.0.1");
    h_->on_io([&] {
      boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                            h_->coap_port(0));
      device_ = std::make_unique<emulated::UdpDevice>(
          h_->io(), server, emulated::Device(config, emulated::DeviceIdentity{ep, 1, "", ""}), opt);
      EXPECT_TRUE(device_->start().ok());
    });
    ASSERT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", ep));
  }

  int64_t stored_lifetime(const std::string& ep) {
    auto record = h_->redis({"GET", "REG:EP:{" + ep + "}"});
    if (!record || !record->is_string()) return -1;
    return json::parse(record->str).at("lt").as_int64();
  }

  // What a node that has Redis back must do, whatever the fault was.
  void expect_served_again(const std::string& kept, const std::string& newcomer) {
    ASSERT_TRUE(eventually([&] { return h_->redis_up(0); })) << "the node never reconnected";
    ASSERT_TRUE(h_->wait_for_redis());
    // The Update kept in memory reached the store.
    EXPECT_TRUE(eventually([&] { return stored_lifetime(kept) == 120; }))
        << "lt in Redis: " << stored_lifetime(kept);
    EXPECT_TRUE(eventually([&] { return h_->node(0).unwritten_updates() == 0; }));
    // Registrations succeed again, and their events reach the bus.
    auto reg = run_command(coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'",
                                       "/rd?ep=" + newcomer + "&lt=60"));
    EXPECT_EQ(reg.status, 0) << reg.output;
    EXPECT_EQ(reg.output.find("5.0"), std::string::npos) << reg.output;
    EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", newcomer));
    // The node listens on the bus again: a read reaches the device.
    auto read = ask(*h_, "acc-1", R"({"kind":"read","path":"/3/0/0","contentFormat":"TEXT"})");
    EXPECT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  }

  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<emulated::UdpDevice> device_;
};

TEST_F(RedisLoss, KilledAndRestartedRedisIsRiddenOut) {
  start_device("acc-1");
  const std::string kept = register_with_coap_client("kept");
  ASSERT_FALSE(kept.empty());

  h_->redis_server()->kill();
  ASSERT_TRUE(eventually([&] { return !h_->redis_up(0); }));
  auto refused = run_command(
      coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'", "/rd?ep=newcomer&lt=60"));
  EXPECT_NE(refused.output.find("5.03"), std::string::npos) << refused.output;
  auto update = run_command(coap_client(h_->coap_port(0), "-m post", "/rd/" + kept + "?lt=120"));
  EXPECT_EQ(update.status, 0) << update.output;
  EXPECT_EQ(update.output.find("5.0"), std::string::npos) << update.output;  // 2.04
  EXPECT_EQ(h_->node(0).unwritten_updates(), 1u);

  // Restarted without persistence: the store is empty. The node writes the
  // registration of the device it kept serving back in whole.
  ASSERT_TRUE(h_->redis_server()->restart());
  expect_served_again("kept", "newcomer");
  // acc-1 had no Update meanwhile: its record is lost with the server's
  // memory until its next Update (persistence is the remedy: AOF test).
}

TEST_F(RedisLoss, RedisPausedForTenSecondsIsRiddenOut) {
  start_device("acc-1");
  const std::string kept = register_with_coap_client("kept");
  ASSERT_FALSE(kept.empty());

  h_->redis_server()->pause();
  const auto paused_at = std::chrono::steady_clock::now();
  // The Update waits for the store until the link gives up on it (2 s),
  // then is answered from memory, well within CoAP's retransmissions.
  auto update = run_command(coap_client(h_->coap_port(0), "-m post", "/rd/" + kept + "?lt=120"));
  EXPECT_EQ(update.status, 0) << update.output;
  EXPECT_EQ(update.output.find("5.0"), std::string::npos) << update.output;
  EXPECT_FALSE(h_->redis_up(0));
  auto refused = run_command(
      coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'", "/rd?ep=newcomer&lt=60"));
  EXPECT_NE(refused.output.find("5.03"), std::string::npos) << refused.output;

  std::this_thread::sleep_until(paused_at + 10s);
  h_->redis_server()->resume();
  expect_served_again("kept", "newcomer");
}

}  // namespace
}  // namespace fogm2m::test
