// Queue mode's presence on real (short) timers: sleeping after the awake
// time, requests held and sent on waking, timed out, refused when full, and
// answered when the registration ends.
#include "server/services/presence.h"

#include <gtest/gtest.h>

#include "bus/device_event.h"
#include "bus/reply.h"
#include "tests/server/services/service_fixture.h"

namespace fogm2m::server {
namespace {

using namespace std::chrono_literals;
using testing::ServiceFixture;

LocalDevice device(const std::string& ep, bool queue_mode) {
  store::Registration reg;
  reg.endpoint = ep;
  reg.reg_id = "id-" + ep;
  reg.queue_mode = queue_mode;
  return LocalDevice{reg, PeerInfo{{"10.0.0.7", 40000}, false, ""}};
}

bus::Request read(const std::string& ep, const std::string& ticket,
                  std::optional<int64_t> timeout_ms = std::nullopt) {
  bus::Request r;
  r.endpoint = ep;
  r.ticket = ticket;
  r.timeout_ms = timeout_ms;
  r.path = lwm2m::Path(3313, 0, 5702);
  return r;
}

class PresenceTest : public ServiceFixture {
 protected:
  PresenceTest() {
    bus.subscribe(
        {ctx.channels.events},
        [this](std::string_view, std::string_view m) { events.emplace_back(m); }, nullptr);
    settle();
  }
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
  std::vector<std::string> errs() {
    std::vector<std::string> out;
    for (const auto& m : on(ctx.channels.responses))
      if (auto r = bus::parse_reply(m); r && r->type == bus::ReplyType::kErr)
        out.push_back(r->ticket + ": " + std::string(r->body.at("errorMessage").as_string()));
    return out;
  }

  PresenceOptions options() {
    PresenceOptions o;
    o.awake_time = 30ms;
    o.max_queued_per_device = 2;
    o.default_request_timeout = 5s;
    return o;
  }
  std::vector<std::string> dispatched;
  std::vector<std::string> events;
  Presence presence{ctx, options(), [this](const LocalDevice& d, const bus::Request& r) {
                      dispatched.push_back(d.registration.endpoint + ":" + r.ticket);
                    }};
};

TEST_F(PresenceTest, SleepsAfterTheAwakeTimeAndWakesOnItsNextMessage) {
  const LocalDevice q = device("q", true);
  presence.heard(q);
  EXPECT_TRUE(presence.tracking());
  EXPECT_FALSE(presence.sleeping("q"));
  run_for(80ms);
  EXPECT_TRUE(presence.sleeping("q"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(bus::parse_device_event(events[0], models)->kind, bus::DeviceEventKind::kSleeping);

  presence.hold(q, read("q", "t1"));
  presence.hold(q, read("q", "t2"));
  presence.hold(q, read("q", "t3"));  // beyond 2: refused at once
  settle();
  EXPECT_EQ(presence.waiting(), 2u);
  EXPECT_EQ(errs(), std::vector<std::string>{
                        "t3: device q is sleeping and 2 requests already wait for it"});
  EXPECT_TRUE(dispatched.empty());

  presence.heard(q);  // its Update
  EXPECT_FALSE(presence.sleeping("q"));
  EXPECT_EQ(dispatched, (std::vector<std::string>{"q:t1", "q:t2"}));
  EXPECT_EQ(presence.waiting(), 0u);
  settle();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(bus::parse_device_event(events[1], models)->kind, bus::DeviceEventKind::kAwake);
}

TEST_F(PresenceTest, ARequestTimesOutAtItsOwnDeadline) {
  const LocalDevice q = device("q", true);
  presence.heard(q);
  run_for(60ms);
  ASSERT_TRUE(presence.sleeping("q"));
  presence.hold(q, read("q", "short", 20));
  presence.hold(q, read("q", "long", 10'000));
  run_for(80ms);
  EXPECT_EQ(errs(), std::vector<std::string>{"short: device q sleeping, request timed out"});
  EXPECT_EQ(presence.waiting(), 1u);
  presence.forget("q");  // de-registered: the rest is answered
  settle();
  EXPECT_EQ(errs().size(), 2u);
  EXPECT_NE(errs()[1].find("long: device q sleeping, registration ended"), std::string::npos);
  EXPECT_FALSE(presence.tracking());
  EXPECT_TRUE(dispatched.empty());
}

TEST_F(PresenceTest, DevicesNotInQueueModeAreNotTracked) {
  presence.heard(device("plain", false));
  EXPECT_FALSE(presence.tracking());
  run_for(60ms);
  EXPECT_FALSE(presence.sleeping("plain"));
  EXPECT_TRUE(events.empty());
  // A queue-mode device registering again without it: what waited goes out.
  const LocalDevice q = device("q", true);
  presence.heard(q);
  run_for(60ms);
  presence.hold(q, read("q", "t1"));
  presence.heard(device("q", false));
  EXPECT_EQ(dispatched, std::vector<std::string>{"q:t1"});
  EXPECT_FALSE(presence.tracking());
}

}  // namespace
}  // namespace fogm2m::server
