// The object tree (device_objects.h): the sensors' random walk and sampling.
#include "emulated_clients/device_objects.h"

#include <gtest/gtest.h>

#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

TEST(DeviceSensor, RandomWalkIsReproducibleAndInRange) {
  const auto a = walk(7, 2000), b = walk(7, 2000), c = walk(8, 2000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int changes = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_GE(a[i], -20.0);
    EXPECT_LE(a[i], 20.0);
    EXPECT_EQ(a[i] * 256, std::round(a[i] * 256)) << a[i];  // quantised
    EXPECT_EQ(a[i], static_cast<double>(static_cast<float>(a[i])));
    if (i >= 3 && a[i] != a[i - 3]) ++changes;
  }
  EXPECT_GT(changes, static_cast<int>(a.size()) * 9 / 10);
}

TEST(DeviceSensor, StaysInRangeUnderLargeSteps) {
  auto c = config();
  c->accel_step = 15.0;  // the walk hits the limits all the time
  Device d = make_device(c, 3);
  bool hit_max = false, hit_min = false;
  for (int i = 0; i < 20000; ++i) {
    d.sample();
    for (const char* p : {"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"}) {
      const double v = local_value(d, p).as<double>();
      ASSERT_GE(v, -20.0);
      ASSERT_LE(v, 20.0);
      hit_max |= v == 20.0;
      hit_min |= v == -20.0;
    }
  }
  EXPECT_TRUE(hit_max);
  EXPECT_TRUE(hit_min);
}

TEST(DeviceSensor, TickSamplesOncePerPeriodAndCatchesUp) {
  Device d = make_device(config(50ms), 9);
  Device ref = make_device(config(50ms), 9);
  d.start(T0, false);
  tick(d, T0 + 49ms);
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
  tick(d, T0 + 500ms);  // ten samples due
  for (int i = 0; i < 10; ++i) ref.sample();
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
  tick(d, T0 + 1h);  // far behind: at most 200, then skip ahead
  for (int i = 0; i < 200; ++i) ref.sample();
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
}

// Unobserved, a device wakes for nothing: its samples are taken when a
// request comes. Observed, it wakes every sample period.
TEST(DeviceSensor, SamplesOnTimeOnlyWhileObserved) {
  Device d = make_device(config(50ms), 9);
  Device ref = make_device(config(50ms), 9);
  d.start(T0, false);
  EXPECT_EQ(d.next_deadline(), TimePoint::max());
  const CoapMessage read = d.handle_request(request(CoapCode::kGet, "/3313/0/5702"), T0 + 120ms);
  ref.sample();
  ref.sample();  // the samples of T0 + 50 ms and T0 + 100 ms
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
  EXPECT_EQ(read.code, coap_code(CoapCode::kContent));
  const CoapMessage observed = d.handle_request(observe("/3313/0/5702", "ob"), T0 + 130ms);
  ASSERT_EQ(observed.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(d.next_deadline(), T0 + 150ms);
}

TEST(DeviceObjectsTree, WritesThatAnUpdateMustCarryAreCollected) {
  DeviceObjects objects(config(), DeviceIdentity{"dev-1", 1, "", ""});
  EXPECT_EQ(objects.write_resource(1, 0, Resource::single(1, int64_t{600}), T0, /*apply=*/false),
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(objects.lifetime_s(), 300u);  // checked, not applied
  const uint32_t version = objects.data_version();
  EXPECT_EQ(objects.write_resource(1, 0, Resource::single(1, int64_t{600}), T0, /*apply=*/true),
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(objects.lifetime_s(), 600u);
  EXPECT_GT(objects.data_version(), version);
  DeviceObjects::Changes changes = objects.take_changes();
  EXPECT_TRUE(changes.lifetime && changes.update);
  EXPECT_FALSE(changes.binding || changes.objects);
  EXPECT_FALSE(objects.take_changes().update);  // taken once

  EXPECT_EQ(objects.create(3313, ObjectInstance{objects.free_instance_id(3313), {}}),
            coap_code(CoapCode::kCreated));
  changes = objects.take_changes();
  EXPECT_TRUE(changes.objects && changes.update);
  EXPECT_EQ(objects.create(3313, ObjectInstance{1, {}}),
            coap_code(CoapCode::kBadRequest));  // taken id
  EXPECT_EQ(objects.creatable(3), coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(objects.remove(Path(3313, 1)), coap_code(CoapCode::kDeleted));
  EXPECT_EQ(objects.remove(Path(3, 0)), coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(objects.execute(Path(1, 0, 8)),
            coap_code(CoapCode::kChanged));  // Registration Update Trigger
  changes = objects.take_changes();
  EXPECT_TRUE(changes.update && changes.objects);  // the delete, then the trigger
  EXPECT_NE(objects.registration_links().find("</3313/0>"), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::emulated
