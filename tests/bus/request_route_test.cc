// RequestRoute against a real redis-server: where each request goes
// (broadcast, its owner's channel, broadcast again when the owner cannot be
// used), what the owner cache keeps, and what a lookup costs. The test plays
// the nodes: it writes their ownership keys and heartbeats and listens on
// their channels.
#include "bus/request_route.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/unix_clock.h"
#include "store/keys.h"
#include "tests/support/bus_peer.h"
#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::bus {
namespace {

using namespace std::chrono_literals;

class RequestRouteTest : public test::RedisServerTest {
 protected:
  void SetUp() override {
    RedisServerTest::SetUp();
    link_.emplace(io_, io::RedisLinkOptions::at(redis_host(), redis_port()));
    bool up = false;
    link_->start([&](Status s) { up = s.ok(); });
    ASSERT_TRUE(test::run_until(io_, [&] { return up; }));
    ASSERT_TRUE(command({"FLUSHALL"}));
    const Channels ch;
    ASSERT_TRUE(
        listener_.start(redis_host(), redis_port(),
                        {ch.requests, ch.node_requests("node-a"), ch.node_requests("node-b")},
                        [this](std::string_view c, std::string_view m) {
                          heard_.emplace_back(std::string(c), std::string(m));
                        }));
  }
  void TearDown() override {
    route_.reset();
    if (link_) link_->disconnect();
  }

  // Runs a Redis command; true when it was answered without error.
  bool command(std::vector<std::string> argv) {
    std::optional<bool> ok;
    link_->command(argv, [&](Result<io::RedisReply> r) { ok = r.ok(); });
    return test::run_until(io_, [&] { return ok.has_value(); }) && *ok;
  }
  void own(const std::string& ep, const std::string& node) {
    ASSERT_TRUE(command({"SET", store::keys::owner(ep), node}));
  }
  // A heartbeat of `node`, `age` ago.
  void beat(const std::string& node, std::chrono::milliseconds age = 0ms) {
    ASSERT_TRUE(command({"ZADD", std::string(store::keys::kNodes),
                         std::to_string(io::system_unix_ms() - age.count()), node}));
  }

  RequestRoute& route(BusMode mode, std::chrono::milliseconds owner_ttl = 2s,
                      std::chrono::milliseconds refresh = 1s) {
    RequestRouteOptions o;
    o.mode = mode;
    o.owner_ttl = owner_ttl;
    o.membership_refresh = refresh;
    route_.emplace(*link_, o);
    return *route_;
  }

  // Publishes a read of `ep` through the route and waits until the bus
  // carried it; returns the channel it was heard on ("" if it was not).
  std::string send(const std::string& ep, RequestKind kind = RequestKind::kRead) {
    Request r;
    r.endpoint = ep;
    r.kind = kind;
    r.ticket = "t" + std::to_string(++tickets_);
    const std::string message = R"({"ep":")" + ep + R"(","ticket":")" + r.ticket + "\"}";
    std::optional<Status> sent;
    const size_t before = heard_.size();
    route_->publish(r, message, [&](Status s) { sent = std::move(s); });
    if (!test::run_until(io_, [&] { return sent.has_value() && heard_.size() > before; }))
      return "";
    EXPECT_TRUE(sent->ok());
    // Nothing else arrives for it: one message, exactly as given.
    test::run_until(
        io_, [] { return false; }, 30ms);
    EXPECT_EQ(heard_.size(), before + 1);
    EXPECT_EQ(heard_.back().second, message);
    return heard_.back().first;
  }

  boost::asio::io_context io_;
  std::optional<io::RedisLink> link_;
  std::optional<RequestRoute> route_;
  test::BusPeer listener_{io_};
  std::vector<std::pair<std::string, std::string>> heard_;  // channel, message
  int tickets_ = 0;
};

TEST_F(RequestRouteTest, BroadcastModeSendsEverythingToEveryNode) {
  own("dev-1", "node-a");
  beat("node-a");
  RequestRoute& r = route(BusMode::kBroadcast);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ");
  EXPECT_EQ(send("dev-unknown"), "LWM2M_REQ");
  EXPECT_EQ(r.counters().broadcast, 2u);
  EXPECT_EQ(r.counters().lookups, 0u);  // broadcast costs no Redis read
}

TEST_F(RequestRouteTest, RoutedModeSendsToTheLiveOwnerAloneAndCachesIt) {
  own("dev-1", "node-a");
  beat("node-a");
  RequestRoute& r = route(BusMode::kRouted);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");
  EXPECT_EQ(r.counters().routed, 2u);
  EXPECT_EQ(r.counters().lookups, 1u);
  EXPECT_EQ(r.counters().broadcast, 0u);
}

TEST_F(RequestRouteTest, RoutedModeBroadcastsWhatNoLiveOwnerTakes) {
  own("dev-1", "node-a");
  beat("node-a");
  own("dev-2", "node-b");
  beat("node-b", 10s);  // its heartbeats stopped
  RequestRoute& r = route(BusMode::kRouted);
  EXPECT_EQ(send("dev-unknown"), "LWM2M_REQ");  // the fallback node says so
  EXPECT_EQ(send("dev-2"), "LWM2M_REQ");        // the fallback answers for the dead owner
  // Every node mirrors sec_info in its PSK cache.
  EXPECT_EQ(send("dev-1", RequestKind::kSecInfo), "LWM2M_REQ");
  EXPECT_EQ(r.counters().broadcast, 3u);
  EXPECT_EQ(r.counters().routed, 0u);
  EXPECT_EQ(r.counters().lookups, 2u);

  // A lookup that fails (here: a key of the wrong type) goes broadcast and
  // is not cached.
  ASSERT_TRUE(command({"HSET", store::keys::owner("dev-3"), "f", "v"}));
  EXPECT_EQ(send("dev-3"), "LWM2M_REQ");
  EXPECT_EQ(send("dev-3"), "LWM2M_REQ");
  EXPECT_EQ(r.counters().lookup_errors, 2u);
}

// The owner's process is gone before its heartbeats lapsed: nobody reads its
// channel, so the request goes out again, broadcast, and the owner is
// looked up afresh next time.
TEST_F(RequestRouteTest, ARequestNobodyHeardGoesOutAgainBroadcast) {
  own("dev-1", "node-gone");
  beat("node-gone");
  RequestRoute& r = route(BusMode::kRouted);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ");
  EXPECT_EQ(r.counters().routed, 1u);
  EXPECT_EQ(r.counters().unheard, 1u);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ");
  EXPECT_EQ(r.counters().lookups, 2u);
}

TEST_F(RequestRouteTest, TheOwnerIsTrustedForItsTtlOrUntilForgotten) {
  own("dev-1", "node-a");
  beat("node-a");
  beat("node-b");
  RequestRoute& r = route(BusMode::kRouted, 300ms);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");
  own("dev-1", "node-b");                        // the device moved
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");  // stale: node-a puts it back on LWM2M_REQ
  r.forget("dev-1");
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-b");
  own("dev-1", "node-a");
  test::run_until(
      io_, [] { return false; }, 400ms);  // the entry expires
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");
  EXPECT_EQ(r.counters().lookups, 3u);
}

TEST_F(RequestRouteTest, TheLiveNodesAreReadAgainWhenTheViewAges) {
  own("dev-1", "node-a");
  RequestRoute& r = route(BusMode::kRouted, 50ms, 50ms);
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ");  // node-a has not beaten yet
  beat("node-a");
  test::run_until(
      io_, [] { return false; }, 100ms);
  // The view is read again before the owner (one connection: in order).
  EXPECT_EQ(send("dev-1"), "LWM2M_REQ:node-a");
  EXPECT_EQ(r.counters().routed, 1u);
}

// Requests for one endpoint that arrive while its owner is being looked up
// wait for that one GET, and leave in their order.
TEST_F(RequestRouteTest, ConcurrentLookupsOfOneEndpointShareOneGet) {
  own("dev-1", "node-a");
  beat("node-a");
  RequestRoute& r = route(BusMode::kRouted);
  int sent = 0;
  for (int i = 0; i < 3; ++i) {
    Request req;
    req.endpoint = "dev-1";
    req.ticket = "c" + std::to_string(i);
    r.publish(req, req.ticket, [&](Status s) { sent += s.ok(); });
  }
  ASSERT_TRUE(test::run_until(io_, [&] { return sent == 3 && heard_.size() == 3; }));
  EXPECT_EQ(r.counters().lookups, 1u);
  EXPECT_EQ(r.counters().routed, 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(heard_[i].first, "LWM2M_REQ:node-a");
    EXPECT_EQ(heard_[i].second, "c" + std::to_string(i));
  }
}

TEST(RequestRouteModes, ParseAndPrint) {
  EXPECT_EQ(parse_bus_mode("broadcast"), BusMode::kBroadcast);
  EXPECT_EQ(parse_bus_mode("routed"), BusMode::kRouted);
  EXPECT_FALSE(parse_bus_mode("multicast").has_value());
  EXPECT_STREQ(to_string(BusMode::kRouted), "routed");
  EXPECT_STREQ(to_string(BusMode::kBroadcast), "broadcast");
  EXPECT_EQ(Channels{}.node_requests("node-7"), "LWM2M_REQ:node-7");
}

// A refused PUBLISH (Redis away) is reported, in either mode.
TEST(RequestRouteDown, ARefusedPublishIsReported) {
  auto started = test::RedisServer::start();
  ASSERT_TRUE(started) << started.error().message;
  boost::asio::io_context io;
  io::RedisLink link(io, io::RedisLinkOptions::at((*started)->host(), (*started)->port()));
  bool up = false;
  link.start([&](Status s) { up = s.ok(); });
  ASSERT_TRUE(test::run_until(io, [&] { return up; }));
  (*started)->kill();
  ASSERT_TRUE(test::run_until(io, [&] { return !link.up(); }));
  for (BusMode mode : {BusMode::kBroadcast, BusMode::kRouted}) {
    RequestRouteOptions o;
    o.mode = mode;
    RequestRoute r(link, o);
    Request req;
    req.endpoint = "dev-1";
    std::optional<Status> sent;
    r.publish(req, "m", [&](Status s) { sent = std::move(s); });
    ASSERT_TRUE(test::run_until(io, [&] { return sent.has_value(); })) << to_string(mode);
    EXPECT_FALSE(sent->ok()) << to_string(mode);
  }
  link.disconnect();
}

}  // namespace
}  // namespace fogm2m::bus
