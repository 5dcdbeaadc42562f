// End to end: a bootstrap server, a node with a real Redis, and an emulated
// device that bootstraps, then registers at the server it was given and
// answers a read over the bus.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <future>
#include <memory>
#include <string>

#include "emulated_clients/bootstrap_client.h"
#include "emulated_clients/device.h"
#include "emulated_clients/udp_device.h"
#include "lwm2m/coap_uri.h"
#include "server/bootstrap/bootstrap_server.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

using boost::asio::ip::make_address;
using boost::asio::ip::udp;
using emulated::BootstrapResult;

class Bootstrap : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = std::make_unique<ClusterHarness>();
    ASSERT_TRUE(h_->start()) << h_->error();
    const std::string config =
        "[endpoint bs-dev-1]\nserver_uri = coap://127.0.0.1:" + std::to_string(h_->coap_port(0)) +
        "\nlifetime = 90\ndelete = true\n";
    auto parsed = server::parse_bootstrap_config(config, "test.conf");
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    server::BootstrapServerOptions o;
    o.bind_address = make_address("127.0.0.1");
    o.port = 0;
    o.ack_timeout = std::chrono::milliseconds(500);
    h_->on_io([&] {
      bs_ = std::make_unique<server::BootstrapServer>(h_->io(), std::move(*parsed), o);
      bs_->on_done = [this](const server::BootstrapOutcome& out) {
        std::lock_guard lock(mu_);
        outcomes_.push_back(out);
      };
      ASSERT_TRUE(bs_->start().ok());
    });
  }
  void TearDown() override {
    h_->on_io([&] {
      dev_.reset();
      client_.reset();
      bs_.reset();
    });
  }

  // Bootstraps `ep` against the bootstrap server; the account or the error.
  Result<BootstrapResult> bootstrap(const std::string& ep) {
    std::promise<Result<BootstrapResult>> done;
    h_->on_io([&] {
      emulated::UdpBootstrapOptions o;
      o.bind_address = make_address("127.0.0.1");
      o.ack_timeout = std::chrono::milliseconds(500);
      o.timeout = std::chrono::seconds(10);
      client_ = std::make_unique<emulated::UdpBootstrap>(
          h_->io(), udp::endpoint(make_address("127.0.0.1"), bs_->local_port()), ep, o,
          [&done](Result<BootstrapResult> r) { done.set_value(std::move(r)); });
      EXPECT_TRUE(client_->start().ok());
    });
    auto f = done.get_future();
    if (f.wait_for(std::chrono::seconds(15)) != std::future_status::ready)
      return make_error(ErrorKind::kTimeout, "test: no bootstrap outcome");
    return f.get();
  }

  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<server::BootstrapServer> bs_;
  std::unique_ptr<emulated::UdpBootstrap> client_;
  std::unique_ptr<emulated::UdpDevice> dev_;
  std::mutex mu_;
  std::vector<server::BootstrapOutcome> outcomes_;
};

TEST_F(Bootstrap, DeviceBootstrapsRegistersAndAnswers) {
  auto account = bootstrap("bs-dev-1");
  ASSERT_TRUE(account.ok()) << account.error().message;
  EXPECT_EQ(account->server_uri, "coap://127.0.0.1:" + std::to_string(h_->coap_port(0)));
  EXPECT_EQ(account->lifetime_s, 90u);
  EXPECT_FALSE(account->psk);

  // The device registers where bootstrap sent it, with the lifetime it was given.
  auto uri = lwm2m::parse_coap_uri(account->server_uri);
  ASSERT_TRUE(uri.ok());
  auto config = std::make_shared<emulated::DeviceConfig>();
  config->server_uri = account->server_uri;
  config->lifetime_s = account->lifetime_s;
  emulated::UdpDeviceOptions opt;
  opt.bind_address = make_address("127.0.0.1");
  opt.transmission.ack_timeout = std::chrono::milliseconds(500);
  h_->on_io([&] {
    dev_ = std::make_unique<emulated::UdpDevice>(
        h_->io(), udp::endpoint(make_address(uri->host), uri->port),
        emulated::Device(config, emulated::DeviceIdentity{"bs-dev-1", 7, "", ""}), opt);
    EXPECT_TRUE(dev_->start().ok());
  });
  ASSERT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", "bs-dev-1"));
  auto read = ask(*h_, "bs-dev-1", R"({"kind":"read","path":"/1/0/1","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  EXPECT_EQ(read.body.at("content").at("value").to_number<int64_t>(), 90);
  auto maker = ask(*h_, "bs-dev-1", R"({"kind":"read","path":"/3/0/0"})");
  EXPECT_EQ(reply_code(maker), "CONTENT") << reply_error(maker);

  std::lock_guard lock(mu_);
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_TRUE(outcomes_[0].ok) << outcomes_[0].message;
}

TEST_F(Bootstrap, UnknownEndpointIsRefused) {
  auto account = bootstrap("stranger");
  ASSERT_FALSE(account.ok());
  EXPECT_EQ(account.error().message,
            "bootstrap: Bootstrap-Request answered 4.00: no bootstrap configuration for "
            "endpoint \"stranger\"");
}

}  // namespace
}  // namespace fogm2m::test
