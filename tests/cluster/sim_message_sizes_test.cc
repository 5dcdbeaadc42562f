// The simulator's bus message sizes (sim/message_sizes.h) are the sizes of
// what a real node publishes: a started emulated device ("dev-000001",
// values not yet sampled) is read and observed through an in-memory node,
// with tickets as long as the simulator's, and every message the bus
// carries is measured against the simulator's figure for its kind.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <string>

#include "bus/reply.h"
#include "bus/request.h"
#include "emulated_clients/udp_device.h"
#include "sim/message_sizes.h"
#include "store/registration.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

constexpr const char* kEndpoint = "dev-000001";  // as long as the simulator's
// Tickets as long as the simulator's (a uuid4's 36 characters).
const std::string kReadTicket = "00000000-0000-4000-8000-00000000read";
const std::string kObserveTicket = "00000000-0000-4000-8000-0000observe0";
const std::string kAttributesTicket = "00000000-0000-4000-8000-0000000attrs";

// The first message on `channel` whose text contains `needle`.
std::string first_with(ClusterHarness& h, const std::string& channel, const std::string& needle) {
  std::string found;
  h.wait_for(
      channel,
      [&](const std::vector<std::string>& messages) {
        for (const auto& m : messages)
          if (m.find(needle) != std::string::npos) {
            found = m;
            return true;
          }
        return false;
      },
      std::chrono::seconds(10));
  return found;
}

TEST(SimMessageSizes, AreWhatARealNodePublishes) {
  HarnessOptions options;
  options.redis = false;
  ClusterHarness h(options);
  ASSERT_TRUE(h.start()) << h.error();

  auto config = std::make_shared<emulated::DeviceConfig>();
  config->sample_period =
      std::chrono::milliseconds(0);  // the values of a started device, as the simulator's
  emulated::UdpDeviceOptions device_options;
  device_options.bind_address = boost::asio::ip::make_address("127.0.0.1");
  std::unique_ptr<emulated::UdpDevice> device;
  h.on_io([&] {
    const boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                                h.coap_port(0));
    device = std::make_unique<emulated::UdpDevice>(
        h.io(), server, emulated::Device(config, emulated::DeviceIdentity{kEndpoint, 1, "", ""}),
        device_options);
    ASSERT_TRUE(device->start().ok());
  });
  const std::string registration = first_with(h, "LESHAN_REG_NEW", kEndpoint);
  ASSERT_FALSE(registration.empty());

  const sim::MessageSizes sizes = sim::compute_message_sizes("/3313/0", "TLV");
  auto request = [&](bus::RequestKind kind, const std::string& ticket, const lwm2m::Path& path) {
    bus::Request r;
    r.endpoint = kEndpoint;
    r.ticket = ticket;
    r.kind = kind;
    r.path = path;
    r.content_format = lwm2m::ContentFormat::kTlv;
    r.timeout_ms = 5000;  // the load generator says how long it waits
    return r;
  };

  // A read as the load generator sends it, and the owner's ack and rep.
  const bus::Request read =
      request(bus::RequestKind::kRead, kReadTicket, lwm2m::Path(3313, 0, 5702));
  const std::string read_message = bus::format_request(read);
  EXPECT_EQ(sim::resp_publish_size("LWM2M_REQ", read_message.size()), sizes.bus_request_publish);
  h.publish("LWM2M_REQ", read_message);
  const std::string ack =
      first_with(h, "LWM2M_RESP", "{\"ticket\":\"" + kReadTicket + "\",\"ack\"");
  const std::string rep =
      first_with(h, "LWM2M_RESP", "{\"ticket\":\"" + kReadTicket + "\",\"rep\"");
  ASSERT_FALSE(rep.empty());
  EXPECT_EQ(sim::resp_publish_size("LWM2M_RESP", ack.size()), sizes.bus_ack_publish) << ack;
  EXPECT_EQ(sim::resp_publish_size("LWM2M_RESP", rep.size()), sizes.bus_rep_publish) << rep;
  EXPECT_EQ(sizes.bus_rep_message, sizes.bus_rep_publish);

  // A notification of the observed instance (pmax makes an unchanged value notify).
  bus::Request attributes =
      request(bus::RequestKind::kWriteAttributes, kAttributesTicket, lwm2m::Path(3313, 0));
  attributes.content_format.reset();
  attributes.attributes.pmax = 1;
  h.publish("LWM2M_REQ", bus::format_request(attributes));
  ASSERT_FALSE(
      first_with(h, "LWM2M_RESP", "{\"ticket\":\"" + kAttributesTicket + "\",\"rep\"").empty());
  h.publish("LWM2M_REQ", bus::format_request(request(bus::RequestKind::kObserve, kObserveTicket,
                                                     lwm2m::Path(3313, 0))));
  const std::string notification = first_with(h, "LWM2M_RESP", "\"notification\":true");
  ASSERT_FALSE(notification.empty()) << "no notification within 10 s";
  EXPECT_EQ(sim::resp_publish_size("LWM2M_RESP", notification.size()),
            sizes.bus_notification_publish)
      << notification;

  // The registration event: the simulator's record has the same fields,
  // with an address of another length.
  auto recorded = store::registration_from_json_string(registration);
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  const std::string sim_address = "10.88.1.17";  // sim/message_sizes.cc's representative device
  const long address_difference =
      2 * (static_cast<long>(recorded->peer.address.size()) -
           static_cast<long>(sim_address.size()));  // identity and regAddr
  EXPECT_EQ(static_cast<long>(sim::resp_publish_size("LESHAN_REG_NEW", registration.size())) -
                address_difference,
            static_cast<long>(sizes.bus_registration_publish))
      << registration;

  h.on_io([&] { device.reset(); });
}

}  // namespace
}  // namespace fogm2m::test
