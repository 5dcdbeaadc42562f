// Message sizes come from the real encoders and the load balancer spreads
// devices evenly.
#include "sim/message_sizes.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim/load_balancer.h"

namespace fogm2m::sim {
namespace {

TEST(MessageSizes, PlausibleAndFormatDependent) {
  const MessageSizes tlv = compute_message_sizes("/3313/0", "TLV");
  const MessageSizes json = compute_message_sizes("/3313/0", "JSON");
  const MessageSizes one = compute_message_sizes("/3313/0/5702", "TLV");
  EXPECT_EQ(tlv.empty_ack, 4u);
  // Header 4 + token 8 + Observe 4 + Content-Format 3 + marker 1 + TLV of
  // five floats and "m/s2" (type byte, 16-bit id, 4-byte value: 7 each) = 62.
  EXPECT_EQ(tlv.notification, 62u);
  EXPECT_GT(json.notification, tlv.notification);  // LwM2M JSON is wordier
  EXPECT_LT(one.notification, tlv.notification);
  EXPECT_GT(tlv.register_request, 100u);
  EXPECT_GT(tlv.bus_request_publish, 100u);
  EXPECT_GT(tlv.bus_notification_publish, tlv.bus_rep_publish);
  // A write carries its value, an execute nothing; both are answered 2.04
  // (header 4 + token 8) and replied CHANGED, shorter than a read's rep.
  EXPECT_GT(tlv.write_request, tlv.execute_request);
  EXPECT_EQ(tlv.changed_response, 12u);
  EXPECT_GT(tlv.bus_write_request_publish, tlv.bus_execute_request_publish);
  EXPECT_LT(tlv.bus_changed_rep_publish, tlv.bus_rep_publish);
}

TEST(LoadBalancer, SpreadsDevicesEvenlyAndDeterministically) {
  constexpr uint32_t kNodes = 5, kDevices = 100000;
  std::vector<uint32_t> count(kNodes);
  for (uint32_t d = 0; d < kDevices; ++d) {
    const uint32_t n = pick_node(device_address(d, 3), kNodes);
    ASSERT_LT(n, kNodes);
    EXPECT_EQ(n, pick_node(device_address(d, 3), kNodes));
    ++count[n];
  }
  for (uint32_t c : count) EXPECT_NEAR(c, kDevices / kNodes, 600);  // ~4.5 sigma
}

TEST(LoadBalancer, AddressesAreDistinctPerDevice) {
  const DeviceAddress a = device_address(0, 1), b = device_address(1, 1),
                      c = device_address(50000, 1);
  EXPECT_NE(a.port, b.port);
  EXPECT_EQ(a.port, c.port);
  EXPECT_NE(a.ip, c.ip);
}

}  // namespace
}  // namespace fogm2m::sim
