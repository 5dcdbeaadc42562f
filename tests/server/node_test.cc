// The node as its services see the world: a fake transport for the devices
// and a fake clock for registration dates and expiry, both injected.
#include "server/node.h"

#include <gtest/gtest.h>

#include "lwm2m/coap_code.h"
#include "lwm2m/content_format.h"
#include "tests/server/services/service_fixture.h"
#include "tests/support/test_util.h"

namespace fogm2m::server {
namespace {

using namespace std::chrono_literals;

TEST(Node, RunsOnAnInjectedTransportAndClock) {
  boost::asio::io_context io;
  const lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  int64_t now = 1'000'000;
  NodeOptions options;
  options.clock = [&] { return now; };
  options.sweep_interval = 5ms;
  options.expiry_grace_ms = 0;
  Node node(io, options, models);
  testing::FakeCoapTransport transport;
  node.attach(transport);
  std::optional<Status> ready;
  node.start([&](Status s) { ready = s; });
  ASSERT_TRUE(test::run_until(io, [&] { return ready.has_value(); }));
  ASSERT_TRUE(ready->ok());

  lwm2m::CoapMessage reg;
  reg.code = lwm2m::coap_code(lwm2m::CoapCode::kPost);
  reg.set_uri_path("/rd");
  reg.add_uri_query("ep=dev-1");
  reg.add_uri_query("lt=10");
  transport.deliver(PeerInfo{{"10.0.0.1", 1000}, false, ""}, reg);
  ASSERT_TRUE(test::run_until(io, [&] { return transport.last_response().has_value(); }));
  EXPECT_EQ(transport.last_response()->code, lwm2m::coap_code(lwm2m::CoapCode::kCreated));
  ASSERT_NE(node.devices().by_endpoint("dev-1"), nullptr);
  EXPECT_EQ(node.devices().by_endpoint("dev-1")->registration.registration_date_ms, now);

  // Real time passes for the sweep timer, but only the fake clock ends the
  // registration: ten seconds of it.
  io.restart();
  io.run_for(30ms);
  EXPECT_NE(node.devices().by_endpoint("dev-1"), nullptr);
  now += 10'001;
  ASSERT_TRUE(test::run_until(io, [&] { return node.devices().by_endpoint("dev-1") == nullptr; }));
  EXPECT_EQ(node.counters().expirations, 1u);

  bool stopped = false;
  node.stop([&] { stopped = true; });
  ASSERT_TRUE(test::run_until(io, [&] { return stopped; }));
}

}  // namespace
}  // namespace fogm2m::server
