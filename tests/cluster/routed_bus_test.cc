// Routed bus mode end to end: two real nodes on a real Redis, a device
// registered at node 2, and a requester that publishes through
// bus::RequestRoute as the load generator and the gateway do. A routed
// request reaches its owner alone; what the owner cannot take (unknown
// endpoint, dead owner, a stale view of the owner) is still answered, with
// the reply a broadcast request would get.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "bus/reply.h"
#include "bus/request.h"
#include "bus/request_route.h"
#include "emulated_clients/udp_device.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using emulated::Device;
using emulated::DeviceConfig;
using emulated::DeviceIdentity;
using emulated::UdpDevice;

constexpr const char* kRead = R"({"kind":"read","path":"/3313/0/5702","contentFormat":"TEXT"})";

std::unique_ptr<UdpDevice> start_routed_device(ClusterHarness& h, int node, const std::string& ep) {
  auto config = std::make_shared<DeviceConfig>();
  config->lifetime_s = 120;
  emulated::UdpDeviceOptions opt;
  opt.transmission.ack_timeout = std::chrono::milliseconds(500);
  opt.bind_address = boost::asio::ip::make_address("127.0.0.1");
  std::unique_ptr<UdpDevice> dev;
  h.on_io([&] {
    boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                          h.coap_port(node));
    dev = std::make_unique<UdpDevice>(h.io(), server, Device(config, DeviceIdentity{ep, 1, "", ""}),
                                      opt);
    EXPECT_TRUE(dev->start().ok());
  });
  EXPECT_TRUE(seen_endpoint(h, "LESHAN_REG_NEW", ep)) << ep << " did not register";
  return dev;
}

// The final reply (rep or err) to `ticket` and how many acks came with it;
// nullopt when none came within `timeout`.
struct Answer {
  bus::Reply reply;
  int acks = 0;
  int finals = 0;
};
std::optional<Answer> answer_to(ClusterHarness& h, const std::string& ticket,
                                std::chrono::milliseconds timeout = 10s) {
  std::optional<Answer> found;
  h.wait_for(
      "LWM2M_RESP",
      [&](const std::vector<std::string>& messages) {
        Answer a;
        for (const auto& m : messages) {
          auto r = bus::parse_reply(m);
          if (!r || r->ticket != ticket) continue;
          if (r->type == bus::ReplyType::kAck) {
            ++a.acks;
          } else {
            ++a.finals;
            a.reply = *r;
          }
        }
        if (a.finals == 0) return false;
        found = a;
        return true;
      },
      timeout);
  return found;
}

std::string request_json(const std::string& ep, const std::string& ticket, const std::string& req) {
  return R"({"ep":")" + ep + R"(","ticket":")" + ticket + R"(","req":)" + req + "}";
}

// The requester's end as the load generator and the gateway hold it: a
// RequestRoute on a Redis client of its own (one server, or the harness'
// Redis Cluster: then SPUBLISH), on the harness' io thread.
class Requester {
 public:
  Requester(ClusterHarness& h, bus::BusMode mode) : h_(h) {
    std::promise<Status> up;
    h_.on_io([&] {
      if (h_.clustered()) {
        io::RedisClusterOptions co;
        for (size_t k = 0; k < h_.redis_cluster()->size(); ++k)
          co.seeds.push_back(h_.redis_cluster()->address(k));
        client_ = std::make_unique<io::ClusterRedis>(h_.io(), std::move(co));
      } else {
        client_ = std::make_unique<io::SingleRedis>(
            h_.io(),
            io::RedisLinkOptions::at(h_.redis_server()->host(), h_.redis_server()->port()));
      }
      bus::RequestRouteOptions o;
      o.mode = mode;
      route_ = std::make_unique<bus::RequestRoute>(*client_, o);
      client_->start([&up](Status s) { up.set_value(s); });
    });
    auto f = up.get_future();
    up_ = f.wait_for(5s) == std::future_status::ready && f.get().ok();
  }
  ~Requester() {
    h_.on_io([this] {
      route_.reset();
      client_->disconnect();
      client_.reset();
    });
  }
  bool up() const { return up_; }

  // Publishes a request for `ep` through the route; returns its ticket.
  std::string send(const std::string& ep, const std::string& req) {
    const std::string ticket = "routed-" + std::to_string(++tickets_);
    const std::string message = request_json(ep, ticket, req);
    auto parsed = bus::parse_request(message);
    EXPECT_TRUE(parsed.request.ok());
    h_.on_io([&] {
      route_->publish(*parsed.request, message,
                      [](Status s) { EXPECT_TRUE(s.ok()) << s.error().message; });
    });
    return ticket;
  }
  bus::RequestRoute::Counters counters() {
    bus::RequestRoute::Counters c;
    h_.on_io([&] { c = route_->counters(); });
    return c;
  }

 private:
  ClusterHarness& h_;
  std::unique_ptr<io::RedisClient> client_;
  std::unique_ptr<bus::RequestRoute> route_;
  bool up_ = false;
  int tickets_ = 0;
};

server::NodeCounters counters_of(ClusterHarness& h, int node) {
  server::NodeCounters c;
  h.on_io([&] { c = h.node(node).counters(); });
  return c;
}

// Each test runs on one redis-server and on a Redis Cluster (where the
// owner's channel LWM2M_REQ:<node-id> lives in its own slot's shard).
class RoutedBus : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.nodes = 2;
    o.device_timeout = 2000ms;
    if (std::string(GetParam()) == "redis_cluster") {
      std::string error;
      o.redis_cluster = shared_redis_cluster(error);
      ASSERT_NE(o.redis_cluster, nullptr) << error;
    }
    h_ = std::make_unique<ClusterHarness>(o);
    ASSERT_TRUE(h_->start()) << h_->error();
    dev_ = start_routed_device(*h_, 1, "acc-r");  // owned by node-2
    ASSERT_EQ(h_->redis({"GET", "EP#UID:{acc-r}"})->str, "node-2");
    requester_ = std::make_unique<Requester>(*h_, bus::BusMode::kRouted);
    ASSERT_TRUE(requester_->up());
  }
  void TearDown() override {
    requester_.reset();
    if (dev_) h_->on_io([&] { dev_.reset(); });
  }
  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<UdpDevice> dev_;
  std::unique_ptr<Requester> requester_;
};

// Node 1 never reads the requests for node 2's device: not one message off
// the bus (bus_requests counts every message a node parses).
TEST_P(RoutedBus, ARoutedRequestReachesOnlyItsOwner) {
  const auto node1_before = counters_of(*h_, 0), node2_before = counters_of(*h_, 1);
  for (int i = 0; i < 5; ++i) {
    auto a = answer_to(*h_, requester_->send("acc-r", kRead));
    ASSERT_TRUE(a.has_value()) << "no reply to request " << i;
    ASSERT_EQ(a->reply.type, bus::ReplyType::kRep);
    EXPECT_EQ(a->reply.body.at("code").as_string(), "CONTENT");
    EXPECT_EQ(a->acks, 1);
    EXPECT_EQ(a->finals, 1);
  }
  std::this_thread::sleep_for(200ms);  // let anything stray arrive
  const auto node1 = counters_of(*h_, 0), node2 = counters_of(*h_, 1);
  EXPECT_EQ(node1.bus_requests, node1_before.bus_requests);
  EXPECT_EQ(node1.device_requests, 0u);
  EXPECT_EQ(node2.bus_requests - node2_before.bus_requests, 5u);
  EXPECT_EQ(node2.bus_requests_routed - node2_before.bus_requests_routed, 5u);
  EXPECT_EQ(node2.bus_requests_owned - node2_before.bus_requests_owned, 5u);
  EXPECT_EQ(node2.bus_requests_rerouted, 0u);
  const auto route = requester_->counters();
  EXPECT_EQ(route.routed, 5u);
  EXPECT_EQ(route.broadcast, 0u);
  EXPECT_EQ(route.lookups, 1u);  // the owner is cached
}

TEST_P(RoutedBus, AnUnknownEndpointFallsBackAndGetsTheUsualError) {
  // Until a node's first heartbeat round has read the others' beats it takes
  // itself for the fallback too (RedisMembership, broadcast as before): let
  // one round pass so exactly one node answers.
  std::this_thread::sleep_for(1200ms);
  auto a = answer_to(*h_, requester_->send("nobody", kRead));
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->reply.type, bus::ReplyType::kErr);
  EXPECT_EQ(a->reply.body.at("errorMessage").as_string(),
            "unknown endpoint nobody: no registration");
  EXPECT_EQ(a->finals, 1);
  const auto route = requester_->counters();
  EXPECT_EQ(route.broadcast, 1u);
  EXPECT_EQ(route.routed, 0u);
}

// The owner stops while the requester still takes it for alive: the routed
// PUBLISH reaches nobody, goes out again broadcast, and node 1 (the
// fallback) answers for the dead owner within the requester's 5 s.
TEST_P(RoutedBus, ARequestForADeadOwnersDeviceIsAnsweredBeforeTheTimeout) {
  // Node 1's view of the live nodes holds node 2 once a heartbeat round
  // passed: then it looks again after the liveness period (3.5 s) before it
  // answers, the slow case.
  std::this_thread::sleep_for(1200ms);
  auto first = answer_to(*h_, requester_->send("acc-r", kRead));
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->reply.type, bus::ReplyType::kRep);

  std::promise<void> stopped;
  h_->on_io([&] { h_->node(1).stop([&] { stopped.set_value(); }, 500ms); });
  ASSERT_EQ(stopped.get_future().wait_for(5s), std::future_status::ready);

  const auto sent_at = Clock::now();
  auto a = answer_to(*h_, requester_->send("acc-r", kRead), 5s);
  ASSERT_TRUE(a.has_value()) << "no answer within the requester's timeout";
  EXPECT_LT(Clock::now() - sent_at, 5s);
  ASSERT_EQ(a->reply.type, bus::ReplyType::kErr);
  EXPECT_EQ(a->reply.body.at("errorMessage").as_string(),
            "endpoint acc-r is owned by node node-2, which is not running");
  EXPECT_EQ(a->finals, 1);
  // Either it was routed and nobody heard it, or the requester had already
  // seen node 2 leave the membership: broadcast either way.
  const auto route = requester_->counters();
  EXPECT_EQ(route.routed - route.unheard, 1u)
      << "broadcast " << route.broadcast << " routed " << route.routed << " unheard "
      << route.unheard << " lookups " << route.lookups << " lookup errors " << route.lookup_errors;
  EXPECT_EQ(route.broadcast + route.unheard, 1u);
}

// A request routed on a stale view of the owner (here node 1, which never
// held the device) goes back on the broadcast channel and node 2 serves it;
// one for an endpoint nobody holds gets the fallback's error.
TEST_P(RoutedBus, ARoutedRequestAtAStaleOwnerIsStillAnswered) {
  const bus::Channels ch;
  h_->publish(ch.node_requests("node-1"), request_json("acc-r", "stale-1", kRead));
  auto a = answer_to(*h_, "stale-1");
  ASSERT_TRUE(a.has_value());
  ASSERT_EQ(a->reply.type, bus::ReplyType::kRep);
  EXPECT_EQ(a->reply.body.at("code").as_string(), "CONTENT");
  EXPECT_EQ(a->acks, 1);
  EXPECT_EQ(a->finals, 1);
  EXPECT_EQ(counters_of(*h_, 0).bus_requests_rerouted, 1u);
  EXPECT_EQ(counters_of(*h_, 1).bus_requests_owned, 1u);

  h_->publish(ch.node_requests("node-2"), request_json("gone", "stale-2", kRead));
  auto b = answer_to(*h_, "stale-2");
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->reply.type, bus::ReplyType::kErr);
  EXPECT_EQ(b->reply.body.at("errorMessage").as_string(), "unknown endpoint gone: no registration");
  EXPECT_EQ(counters_of(*h_, 1).bus_requests_rerouted, 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, RoutedBus, ::testing::Values("redis", "redis_cluster"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace fogm2m::test
