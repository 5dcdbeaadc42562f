// The observe engine (observations.h): when an observation notifies, in
// which format, and how it ends.
#include "emulated_clients/observations.h"

#include <gtest/gtest.h>

#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

TEST(DeviceObserve, NotifiesEverySampleByDefault) {
  auto c = config(50ms);
  c->notify_con_every = 4;
  Device d = make_device(c);
  d.start(T0, /*register_with_server=*/false);
  auto resp = d.handle_request(observe("/3313/0/5702", "ob1", 0, ContentFormat::kText), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(d.observation_count(), 1u);
  uint32_t last_seq = *resp.observe();

  std::vector<CoapMessage> out;
  int notifications = 0, con = 0;
  for (int i = 1; i <= 20; ++i) {
    const TimePoint now = T0 + i * 50ms;
    EXPECT_EQ(d.next_deadline(), now);
    const Value x_before = local_value(d, "/3313/0/5702", now);
    out.clear();
    d.tick(now, out);
    const Value x = local_value(d, "/3313/0/5702", now);
    if (x == x_before) {
      EXPECT_TRUE(out.empty());
      continue;
    }
    ASSERT_EQ(out.size(), 1u);
    const CoapMessage& n = out[0];
    EXPECT_EQ(n.token, "ob1");
    EXPECT_EQ(n.code, coap_code(CoapCode::kContent));
    EXPECT_EQ(n.content_format(), 0u);
    EXPECT_EQ(std::stod(n.payload), x.as<double>());
    ASSERT_TRUE(n.observe().has_value());
    EXPECT_GT(*n.observe(), last_seq);
    last_seq = *n.observe();
    ++notifications;
    if (n.type == CoapType::kCon) {
      ++con;
      EXPECT_EQ(notifications % 4, 0);
    } else {
      EXPECT_EQ(n.type, CoapType::kNon);
    }
  }
  EXPECT_GE(notifications, 18);  // the walk almost always moves
  EXPECT_EQ(con, notifications / 4);
  EXPECT_EQ(d.counters().notifications_sent, static_cast<uint32_t>(notifications));

  // Cancel with Observe 1: the current value, no Observe option, no more notifications.
  auto cancel = d.handle_request(observe("/3313/0/5702", "ob1", 1, ContentFormat::kText), T0 + 2s);
  EXPECT_EQ(cancel.code, coap_code(CoapCode::kContent));
  EXPECT_FALSE(cancel.observe().has_value());
  EXPECT_EQ(d.observation_count(), 0u);
  out.clear();
  d.tick(T0 + 3s, out);
  EXPECT_TRUE(out.empty());
}

TEST(DeviceObserve, ResetAndTimeoutCancel) {
  Device d = make_device(config(50ms));
  d.start(T0, false);
  ASSERT_TRUE(d.handle_request(observe("/3313/0", "a"), T0).observe().has_value());
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5703", "b"), T0).observe().has_value());
  EXPECT_TRUE(d.has_observation("a"));
  d.on_reset("a", T0);
  EXPECT_FALSE(d.has_observation("a"));
  d.on_timeout("b", T0);
  EXPECT_EQ(d.observation_count(), 0u);
  EXPECT_EQ(d.counters().errors, 2u);
}

TEST(DeviceObserve, InstanceInChosenFormatAndTooMany) {
  auto c = config();
  c->max_observations = 2;
  Device d = make_device(c);
  auto resp = d.handle_request(observe("/3313/0", "i1", 0, ContentFormat::kSenmlJson), T0);
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(resp.content_format(), 110u);
  d.sample();
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].content_format(), 110u);
  Node n = payload_node(notes[0], "/3313/0");
  ASSERT_TRUE(std::holds_alternative<ObjectInstance>(n));
  EXPECT_EQ(std::get<ObjectInstance>(n),
            std::get<ObjectInstance>(*d.read_local(Path(3313, 0), T0)));

  ASSERT_TRUE(d.handle_request(observe("/3313/0/5702", "i2"), T0).observe().has_value());
  auto third = d.handle_request(observe("/3313/0/5703", "i3"), T0);
  EXPECT_EQ(third.code, coap_code(CoapCode::kContent));
  EXPECT_FALSE(third.observe().has_value());  // answered, not observed
  EXPECT_EQ(d.observation_count(), 2u);
  // Observing the same token again replaces the observation.
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5704", "i2"), T0).observe().has_value());
  EXPECT_EQ(d.observation_count(), 2u);
  // Errors are not observed.
  EXPECT_EQ(d.handle_request(observe("/3/0/4", "x"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(observe("/0/0", "x"), T0).code, coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(observe("/3313/0/5702", "x", 0, ContentFormat::kCbor), T0).code,
            coap_code(CoapCode::kNotAcceptable));
  EXPECT_FALSE(d.has_observation("x"));
}

TEST(DeviceObserve, NotificationsInSenmlCbor) {
  Device d = make_device();
  auto resp = d.handle_request(observe("/3313/0/5702", "c1", 0, ContentFormat::kSenmlCbor), T0);
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(resp.content_format(), 112u);
  d.sample();
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].content_format(), 112u);
  EXPECT_EQ(payload_node(notes[0], "/3313/0/5702"), Node(*d.read_local(Path(3313, 0, 5702), T0)));
}

TEST(DeviceObserve, NotificationsInLwm2mCbor) {
  Device d = make_device();
  auto resp = d.handle_request(observe("/3313/0", "c2", 0, ContentFormat::kLwm2mCbor), T0);
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(resp.content_format(), 11544u);
  d.sample();
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].content_format(), 11544u);
  EXPECT_EQ(payload_node(notes[0], "/3313/0"), Node(*d.read_local(Path(3313, 0), T0)));
}

TEST(DeviceObserve, PminHoldsBackAndPmaxForces) {
  Device d = make_device(config(0ms));  // no sampling: the test moves values
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0/5702", {"pmin=2", "pmax=5"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5702", "p"), T0).observe().has_value());
  EXPECT_EQ(d.next_deadline(), T0 + 5s);  // pmax
  EXPECT_TRUE(d.collect_notifications(T0 + 500ms).empty());

  d.sample();  // a change at 0.5 s waits for pmin
  EXPECT_EQ(d.next_deadline(), T0 + 2s);
  EXPECT_TRUE(d.collect_notifications(T0 + 1900ms).empty());
  auto at_pmin = d.collect_notifications(T0 + 2s);
  ASSERT_EQ(at_pmin.size(), 1u);
  Node n = payload_node(at_pmin[0], "/3313/0/5702");
  EXPECT_EQ(std::get<Resource>(n).value, local_value(d, "/3313/0/5702"));

  // No change: nothing until pmax, then the same value again.
  EXPECT_EQ(d.next_deadline(), T0 + 7s);
  EXPECT_TRUE(d.collect_notifications(T0 + 6900ms).empty());
  auto at_pmax = d.collect_notifications(T0 + 7s);
  ASSERT_EQ(at_pmax.size(), 1u);
  EXPECT_EQ(at_pmax[0].payload, at_pmin[0].payload);
  EXPECT_GT(*at_pmax[0].observe(), *at_pmin[0].observe());

  // Attributes inherit: pmax from the object level when the resource has none.
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0/5702", {"pmin", "pmax"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3313", {"pmax=3"}), T0).code,
            coap_code(CoapCode::kChanged));
  // New attributes make the device look again once pmin allows.
  EXPECT_EQ(d.next_deadline(), T0 + 7s);
  EXPECT_TRUE(d.collect_notifications(T0 + 7s).empty());
  EXPECT_EQ(d.next_deadline(), T0 + 10s);
  EXPECT_EQ(d.collect_notifications(T0 + 10s).size(), 1u);
  // pmax below pmin is ignored.
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0", {"pmin=4"}), T0).code,
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(d.next_deadline(), T0 + 14s);
  EXPECT_TRUE(d.collect_notifications(T0 + 13s).empty());
  EXPECT_TRUE(d.collect_notifications(T0 + 14s).empty());
  EXPECT_EQ(d.next_deadline(), TimePoint::max());
}

TEST(DeviceObserve, ServerDefaultPeriods) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/2", "3"), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/3", "30"), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5703", "o"), T0).observe().has_value());
  d.sample();
  EXPECT_EQ(d.next_deadline(), T0 + 3s);
  EXPECT_TRUE(d.collect_notifications(T0 + 2s).empty());
  EXPECT_EQ(d.collect_notifications(T0 + 3s).size(), 1u);
  EXPECT_EQ(d.next_deadline(), T0 + 33s);
}

TEST(DeviceObserve, GreaterThanAndLessThanNotifyOnCrossing) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_attributes("/1/0/1", {"gt=100", "lt=20"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "50"), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_TRUE(
      d.handle_request(observe("/1/0/1", "g", 0, ContentFormat::kText), T0).observe().has_value());
  TimePoint t = T0;
  EXPECT_TRUE(set_lifetime(d, 80, t += 1s).empty());  // no crossing
  auto up = set_lifetime(d, 150, t += 1s);            // crosses gt upwards
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].payload, "150");
  EXPECT_TRUE(set_lifetime(d, 170, t += 1s).empty());  // stays above
  auto down = set_lifetime(d, 90, t += 1s);            // crosses gt downwards
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].payload, "90");
  EXPECT_TRUE(set_lifetime(d, 30, t += 1s).empty());
  auto below = set_lifetime(d, 10, t += 1s);  // crosses lt
  ASSERT_EQ(below.size(), 1u);
  EXPECT_EQ(below[0].payload, "10");
  EXPECT_TRUE(set_lifetime(d, 5, t += 1s).empty());
}

TEST(DeviceObserve, StepMeasuresFromLastNotifiedValue) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "100"), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/1/0/1", {"st=10"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_TRUE(
      d.handle_request(observe("/1/0/1", "s", 0, ContentFormat::kText), T0).observe().has_value());
  TimePoint t = T0;
  EXPECT_TRUE(set_lifetime(d, 105, t += 1s).empty());
  EXPECT_TRUE(set_lifetime(d, 109, t += 1s).empty());
  auto step = set_lifetime(d, 111, t += 1s);  // 11 from 100
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].payload, "111");
  EXPECT_TRUE(set_lifetime(d, 103, t += 1s).empty());   // 8 from 111
  EXPECT_EQ(set_lifetime(d, 101, t += 1s).size(), 1u);  // 10 from 111
}

TEST(DeviceObserve, DeletedTargetEndsWithNotFound) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0).code,
            coap_code(CoapCode::kCreated));
  ASSERT_TRUE(d.handle_request(observe("/3313/1/5702", "del"), T0).observe().has_value());
  ASSERT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            coap_code(CoapCode::kDeleted));
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].code, coap_code(CoapCode::kNotFound));
  EXPECT_EQ(notes[0].type, CoapType::kCon);
  EXPECT_EQ(notes[0].token, "del");
  EXPECT_EQ(d.observation_count(), 0u);
}

TEST(DeviceObserve, DeviceInstanceFollowsTheClock) {
  Device d = make_device(config(0ms));  // T0 is on a second boundary
  ASSERT_TRUE(d.handle_request(observe("/3/0", "clk"), T0 + 100ms).observe().has_value());
  EXPECT_EQ(d.next_deadline(), T0 + 100ms);
  EXPECT_TRUE(d.collect_notifications(T0 + 100ms).empty());  // same second
  EXPECT_EQ(d.next_deadline(), T0 + 1s);
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  Node n = payload_node(notes[0], "/3/0");
  EXPECT_EQ(std::get<ObjectInstance>(n).find(13)->value, Value(lwm2m::Time{kUnixAtT0 + 1}));
  EXPECT_EQ(d.next_deadline(), T0 + 2s);
}

// ---- Registration
// ---------------------------------------------------------------------------------

// ---- Observe-Composite (FETCH on "/" with Observe) -------------------------------------------

TEST(DeviceObserve, CompositeNotifiesAllItsPathsWhenOneChanges) {
  Device d = make_device(config(0ms));
  const uint8_t changed = coap_code(CoapCode::kChanged);
  const std::vector<Path> paths{Path(3, 0, 15), Path(3313, 0, 5702)};
  auto resp = d.handle_request(fetch(paths, ContentFormat::kSenmlJson, 0u, "co"), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(d.observation_count(), 1u);
  EXPECT_TRUE(d.has_observation("co"));
  EXPECT_EQ(composite_nodes(resp, paths).size(), 2u);
  EXPECT_EQ(d.next_deadline(), TimePoint::max());

  // A resource it does not watch changes: nothing to tell.
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/14", "+05"), T0).code, changed);
  EXPECT_TRUE(d.collect_notifications(T0 + 1s).empty());
  // One of its paths changes: one notification with both.
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "Asia/Tokyo"), T0 + 2s).code,
            changed);
  auto notes = d.collect_notifications(T0 + 2s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].token, "co");
  EXPECT_EQ(notes[0].code, coap_code(CoapCode::kContent));
  EXPECT_GT(*notes[0].observe(), *resp.observe());
  EXPECT_EQ(notes[0].content_format(), 110u);
  auto nodes = composite_nodes(notes[0], paths);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].node, Node(Resource::single(15, Value("Asia/Tokyo"))));
  EXPECT_EQ(nodes[1].node, Node(*d.read_local(Path(3313, 0, 5702), T0)));
  // The other path alone changes: both again.
  d.sample();
  EXPECT_EQ(d.collect_notifications(T0 + 3s).size(),
            local_value(d, "/3313/0/5702") == std::get<Resource>(nodes[1].node).value ? 0u : 1u);

  // A FETCH with Observe 1 cancels it (answered as a read).
  auto cancel = d.handle_request(fetch(paths, ContentFormat::kSenmlJson, 1u, "co"), T0 + 4s);
  EXPECT_EQ(cancel.code, coap_code(CoapCode::kContent));
  EXPECT_FALSE(cancel.observe().has_value());
  EXPECT_EQ(d.observation_count(), 0u);
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "UTC"), T0 + 5s).code, changed);
  EXPECT_TRUE(d.collect_notifications(T0 + 5s).empty());
}

TEST(DeviceObserve, CompositeInSenmlCbor) {
  Device d = make_device(config(0ms));
  const std::vector<Path> paths{Path(3, 0, 15), Path(3, 0, 14)};
  auto resp = d.handle_request(fetch(paths, ContentFormat::kSenmlCbor, 0u, "cb"), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(resp.content_format(), 112u);
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/14", "-03"), T0).code,
            coap_code(CoapCode::kChanged));
  auto notes = d.collect_notifications(T0);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].content_format(), 112u);
  auto nodes = composite_nodes(notes[0], paths);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[1].node, Node(Resource::single(14, Value("-03"))));
}

// The composite's periods: the shortest pmin and the shortest pmax in force
// at any of its paths.
TEST(DeviceObserve, CompositePeriodsAreTheShortestOfItsPaths) {
  Device d = make_device(config(0ms));
  const uint8_t changed = coap_code(CoapCode::kChanged);
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0/5702", {"pmin=2", "pmax=9"}), T0).code,
            changed);
  ASSERT_EQ(d.handle_request(write_attributes("/3/0/15", {"pmin=5"}), T0).code, changed);
  ASSERT_EQ(d.handle_request(write_attributes("/3/0", {"pmax=4"}), T0).code, changed);
  const std::vector<Path> paths{Path(3, 0, 15), Path(3313, 0, 5702)};
  ASSERT_TRUE(d.handle_request(fetch(paths, ContentFormat::kSenmlJson, 0u, "pp"), T0)
                  .observe()
                  .has_value());
  EXPECT_EQ(d.next_deadline(), T0 + 4s);  // pmax of /3/0/15, from /3/0

  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "Europe/Rome"), T0 + 1s).code,
            changed);
  EXPECT_EQ(d.next_deadline(), T0 + 2s);  // pmin of /3313/0/5702
  EXPECT_TRUE(d.collect_notifications(T0 + 1s).empty());
  EXPECT_EQ(d.collect_notifications(T0 + 2s).size(), 1u);
  // Unchanged: the same values again at pmax.
  EXPECT_EQ(d.next_deadline(), T0 + 6s);
  EXPECT_TRUE(d.collect_notifications(T0 + 5s).empty());
  EXPECT_EQ(d.collect_notifications(T0 + 6s).size(), 1u);
}

}  // namespace
}  // namespace fogm2m::emulated
