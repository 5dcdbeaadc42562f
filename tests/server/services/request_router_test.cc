// Who answers what comes in on the request channel: the owner acts, the
// fallback node answers for nobody, malformed messages get an err when they
// carry a ticket, and sec_info keeps every node's PSK cache current.
#include "server/services/request_router.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "bus/reply.h"
#include "bus/request.h"
#include "tests/server/services/service_fixture.h"

namespace fogm2m::server {
namespace {

class RequestRouterTest : public testing::ServiceFixture {
 protected:
  RequestRouterTest() {
    store::Registration reg;
    reg.endpoint = "mine";
    reg.reg_id = "R1";
    reg.peer = {"10.0.0.7", 40000};
    devices.put(LocalDevice{reg, PeerInfo{reg.peer, false, ""}});
  }

  void receive(const std::string& message) {
    router.on_message(message);
    settle();
  }
  std::string request_for(const std::string& ep, const std::string& ticket,
                          const std::string& req) {
    return R"({"ep":")" + ep + R"(","ticket":")" + ticket + R"(","req":)" + req + "}";
  }
  // The replies seen so far for `ticket`.
  std::vector<bus::Reply> replies_to(const std::string& ticket) {
    std::vector<bus::Reply> out;
    for (const auto& m : on("LWM2M_RESP"))
      if (auto r = bus::parse_reply(m); r && r->ticket == ticket) out.push_back(*r);
    return out;
  }
  // Makes the store say `ep` is owned by `node`.
  void owned_by(const std::string& ep, const std::string& node) {
    store::Registration reg;
    reg.endpoint = ep;
    reg.reg_id = "R-" + ep;
    reg.owner = node;
    registrations.add(reg, [](Result<std::optional<store::Registration>>) {});
    settle();
  }

  testing::FakeMembership membership;
  DeviceManager manager{ctx};
  PskCache psk;
  RequestRouter router{ctx, manager, membership, psk};
};

TEST_F(RequestRouterTest, TheOwnerAcksAndAsksTheDevice) {
  receive(request_for("mine", "t1", R"({"kind":"read","path":"/3313/0/5702"})"));
  const auto replies = replies_to("t1");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kAck);
  EXPECT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(ctx.counters.bus_requests_owned, 1u);
}

// With an ack delay, a device that answers in time gets its reply alone;
// one slower than the delay gets the ack first, then its reply.
TEST_F(RequestRouterTest, ADeferredAckGoesOutOnlyForADeviceSlowerThanTheDelay) {
  ctx.bus_ack_delay = std::chrono::milliseconds(30);
  lwm2m::CoapMessage content;
  content.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
  content.add_uint_option(lwm2m::coap_option::kContentFormat,
                          static_cast<uint32_t>(lwm2m::ContentFormat::kText));
  content.payload = "1.5";

  receive(request_for("mine", "fast", R"({"kind":"read","path":"/3313/0/5702"})"));
  EXPECT_TRUE(replies_to("fast").empty());
  transport.answer(content);
  settle();
  auto replies = replies_to("fast");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kRep);
  EXPECT_EQ(ctx.counters.bus_acks_skipped, 1u);

  receive(request_for("mine", "slow", R"({"kind":"read","path":"/3313/0/5702"})"));
  io.restart();
  io.run_for(std::chrono::milliseconds(100));  // past one to two delays: the ack goes out
  replies = replies_to("slow");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kAck);
  transport.answer(content);
  settle();
  replies = replies_to("slow");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].type, bus::ReplyType::kRep);
  EXPECT_EQ(ctx.counters.bus_acks_skipped, 1u);
  // The fast request's ack never follows its reply.
  io.restart();
  io.run_for(std::chrono::milliseconds(60));
  EXPECT_EQ(replies_to("fast").size(), 1u);
}

// A requester repeats what a bus loss may have swallowed: the device is
// asked once; the repeat of a request still being served gets an ack, the
// repeat of an answered one the same reply again.
TEST_F(RequestRouterTest, ARepeatedTicketReachesTheDeviceOnce) {
  const std::string read = request_for("mine", "t1", R"({"kind":"read","path":"/3313/0/5702"})");
  receive(read);
  receive(read);
  EXPECT_EQ(transport.sent.size(), 1u);
  auto replies = replies_to("t1");
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kAck);
  EXPECT_EQ(replies[1].type, bus::ReplyType::kAck);

  lwm2m::CoapMessage content;
  content.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
  content.add_uint_option(lwm2m::coap_option::kContentFormat,
                          static_cast<uint32_t>(lwm2m::ContentFormat::kText));
  content.payload = "1.5";
  transport.answer(content);
  settle();
  receive(read);
  EXPECT_EQ(transport.sent.size(), 1u);
  replies = replies_to("t1");
  ASSERT_EQ(replies.size(), 4u);
  EXPECT_EQ(replies[2].type, bus::ReplyType::kRep);
  EXPECT_EQ(replies[3].type, bus::ReplyType::kRep);
  EXPECT_EQ(boost::json::serialize(replies[3].body), boost::json::serialize(replies[2].body));
  EXPECT_EQ(ctx.counters.bus_repeats, 2u);
  EXPECT_EQ(ctx.counters.bus_requests_owned, 1u);

  // Another ticket for the same device is a request of its own.
  receive(request_for("mine", "t2", R"({"kind":"read","path":"/3313/0/5702"})"));
  EXPECT_EQ(transport.sent.size(), 2u);
}

TEST_F(RequestRouterTest, TheFallbackAnswersForNobody) {
  receive(request_for("stranger", "t2", R"({"kind":"read","path":"/3"})"));
  auto replies = replies_to("t2");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].body.at("errorMessage"), "unknown endpoint stranger: no registration");

  owned_by("elsewhere", "node-2");  // not alive
  receive(request_for("elsewhere", "t3", R"({"kind":"read","path":"/3"})"));
  replies = replies_to("t3");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].body.at("errorMessage"),
            "endpoint elsewhere is owned by node node-2, which is not running");

  membership.alive.insert("node-2");  // alive: that node answers, this one says nothing
  receive(request_for("elsewhere", "t4", R"({"kind":"read","path":"/3"})"));
  EXPECT_TRUE(replies_to("t4").empty());

  faults.failing = {"registrations.owner_of"};
  receive(request_for("stranger", "t5", R"({"kind":"read","path":"/3"})"));
  replies = replies_to("t5");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_NE(std::string(replies[0].body.at("errorMessage").as_string())
                .find("registration store unavailable"),
            std::string::npos);
  EXPECT_EQ(ctx.counters.store_errors, 1u);

  membership.fallback = false;  // another node is the fallback: nothing from this one
  receive(request_for("stranger", "t6", R"({"kind":"read","path":"/3"})"));
  EXPECT_TRUE(replies_to("t6").empty());
}

// An owner that dies right after a request came in still looks alive to
// its heartbeats for a while: the fallback looks again once they would show
// it, and answers before the requester gives up; by then a survivor may
// have taken the device over and serves the request instead.
TEST_F(RequestRouterTest, ARequestForADyingOwnersDeviceIsAnsweredOnceItsDeathShows) {
  membership.liveness_period = std::chrono::milliseconds(20);
  membership.alive.insert("node-2");
  owned_by("elsewhere", "node-2");
  receive(request_for("elsewhere", "t7", R"({"kind":"read","path":"/3"})"));
  EXPECT_TRUE(replies_to("t7").empty());
  membership.alive.erase("node-2");  // it died
  io.restart();
  io.run_for(std::chrono::milliseconds(60));
  auto replies = replies_to("t7");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].body.at("errorMessage"),
            "endpoint elsewhere is owned by node node-2, which is not running");

  membership.alive.insert("node-2");
  receive(request_for("elsewhere", "t8", R"({"kind":"read","path":"/3"})"));
  membership.alive.erase("node-2");
  store::Registration taken;  // taken over here meanwhile (its notifications came here)
  taken.endpoint = "elsewhere";
  taken.reg_id = "R-elsewhere";
  taken.peer = {"10.0.0.9", 40002};
  devices.put(LocalDevice{taken, PeerInfo{taken.peer, false, ""}});
  const size_t sent = transport.sent.size();
  io.restart();
  io.run_for(std::chrono::milliseconds(60));
  replies = replies_to("t8");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kAck);
  EXPECT_EQ(transport.sent.size(), sent + 1);  // asked the device
}

TEST_F(RequestRouterTest, MalformedMessagesGetAnErrWhenTheyCarryATicket) {
  receive(R"({"ep":"stranger","ticket":"m1","req":{"kind":"frobnicate","path":"/3"}})");
  auto replies = replies_to("m1");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kErr);
  EXPECT_NE(std::string(replies[0].body.at("errorMessage").as_string()).find("unknown kind"),
            std::string::npos);
  receive("{not json");
  receive(R"({"ep":"mine","req":{}})");
  EXPECT_EQ(on("LWM2M_RESP").size(), 1u);  // no ticket: nothing to answer
  EXPECT_EQ(ctx.counters.bus_malformed, 3u);

  // The owner answers a malformed request for its device even when it is not the fallback.
  membership.fallback = false;
  receive(R"({"ep":"mine","ticket":"m2","req":{"kind":"read"}})");
  EXPECT_EQ(replies_to("m2").size(), 1u);
}

TEST_F(RequestRouterTest, SecInfoUpdatesEveryCacheAndTheFallbackStores) {
  receive(request_for("dev-s", "s1",
                      R"({"kind":"sec_info","action":"add","identity":"dev-s-id","key":"0102"})"));
  auto replies = replies_to("s1");
  ASSERT_EQ(replies.size(), 2u);  // ack, then the answer
  EXPECT_EQ(replies[1].body.at("code"), "CREATED");
  EXPECT_FALSE(replies[1].body.at("secInfo").as_object().contains("key"));
  ASSERT_TRUE(psk.find("dev-s-id").has_value());
  EXPECT_EQ(psk.find("dev-s-id")->key, std::string("\x01\x02", 2));

  receive(request_for("dev-s", "s2", R"({"kind":"sec_info","action":"get"})"));
  EXPECT_EQ(replies_to("s2").back().body.at("secInfo").at("identity"), "dev-s-id");
  receive(request_for("dev-s", "s3", R"({"kind":"sec_info","action":"delete"})"));
  EXPECT_EQ(replies_to("s3").back().body.at("code"), "DELETED");
  EXPECT_FALSE(psk.find("dev-s-id").has_value());
  receive(request_for("dev-s", "s4", R"({"kind":"sec_info","action":"get"})"));
  EXPECT_EQ(replies_to("s4").back().type, bus::ReplyType::kErr);

  faults.failing = {"security.put"};
  receive(request_for("dev-t", "s5",
                      R"({"kind":"sec_info","action":"add","identity":"t","key":"01"})"));
  EXPECT_EQ(replies_to("s5").back().type, bus::ReplyType::kErr);

  // A node that is not the fallback updates its cache and says nothing.
  membership.fallback = false;
  receive(request_for("dev-u", "s6",
                      R"({"kind":"sec_info","action":"add","identity":"dev-u-id","key":"03"})"));
  EXPECT_TRUE(replies_to("s6").empty());
  EXPECT_TRUE(psk.find("dev-u-id").has_value());
}

// Routed mode: a request on this node's own channel.
class RoutedRequestTest : public RequestRouterTest {
 protected:
  RoutedRequestTest() {
    bus.subscribe(
        {ctx.channels.requests},
        [this](std::string_view channel, std::string_view message) {
          published[std::string(channel)].emplace_back(message);
        },
        nullptr);
  }
  void receive_routed(const std::string& message) {
    router.on_routed_message(message);
    settle();
  }
};

TEST_F(RoutedRequestTest, TheOwnerServesItAsABroadcastOne) {
  receive_routed(request_for("mine", "r1", R"({"kind":"read","path":"/3313/0/5702"})"));
  const auto replies = replies_to("r1");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kAck);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(ctx.counters.bus_requests_routed, 1u);
  EXPECT_EQ(ctx.counters.bus_requests_owned, 1u);
  EXPECT_EQ(ctx.counters.bus_requests_rerouted, 0u);
  EXPECT_TRUE(on("LWM2M_REQ").empty());
}

// The requester's view of the owner was stale (the device moved, or is
// gone): the request goes back, unchanged, where every node sees it.
TEST_F(RoutedRequestTest, ADeviceThisNodeDoesNotHoldGoesBackOnTheBroadcastChannel) {
  owned_by("elsewhere", "node-2");
  membership.alive.insert("node-2");
  const std::string elsewhere =
      request_for("elsewhere", "r2", R"({"kind":"read","path":"/3313/0/5702"})");
  receive_routed(elsewhere);
  const std::string stranger = request_for("stranger", "r3", R"({"kind":"read","path":"/3"})");
  receive_routed(stranger);
  EXPECT_EQ(on("LWM2M_REQ"), (std::vector<std::string>{elsewhere, stranger}));
  EXPECT_TRUE(replies_to("r2").empty());  // answered when it comes back
  EXPECT_TRUE(replies_to("r3").empty());
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(ctx.counters.bus_requests_rerouted, 2u);

  // Every node mirrors sec_info in its PSK cache: it is never served routed.
  const std::string sec =
      request_for("mine", "r4", R"({"kind":"sec_info","action":"add","identity":"i","key":"01"})");
  receive_routed(sec);
  EXPECT_EQ(on("LWM2M_REQ").back(), sec);
  EXPECT_TRUE(replies_to("r4").empty());
  EXPECT_EQ(ctx.counters.bus_requests_rerouted, 3u);
}

// No other node saw it: this one answers, fallback or not.
TEST_F(RoutedRequestTest, AMalformedOneIsAnsweredHere) {
  membership.fallback = false;
  receive_routed(R"({"ep":"stranger","ticket":"r5","req":{"kind":"frobnicate","path":"/3"}})");
  auto replies = replies_to("r5");
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, bus::ReplyType::kErr);
  receive_routed("{not json");
  EXPECT_EQ(on("LWM2M_RESP").size(), 1u);
  EXPECT_TRUE(on("LWM2M_REQ").empty());
  EXPECT_EQ(ctx.counters.bus_malformed, 2u);
}

}  // namespace
}  // namespace fogm2m::server
