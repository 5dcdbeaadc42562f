// Many devices behind one socket (anyip_device_group.h): each registers,
// answers and de-registers from its own loopback address at the group's
// one port, against a raw CoAP peer playing the server.
#include "emulated_clients/anyip_device_group.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/emulated_clients/coap_peer.h"

namespace fogm2m::emulated {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using testing::Peer;
using testing::run_until;
using namespace std::chrono_literals;

const asio::ip::address kFirst = asio::ip::make_address("127.64.0.1");

std::shared_ptr<DeviceConfig> group_config() {
  auto c = std::make_shared<DeviceConfig>();
  c->sample_period = 50ms;
  c->retry_base = 60000ms;  // no second Register within a test
  return c;
}

AnyIpDeviceGroupOptions options() {
  AnyIpDeviceGroupOptions o;
  o.transmission.ack_timeout = 200ms;
  o.transmission.ack_random_factor = 1.0;
  o.first_address = kFirst;
  return o;
}

void fill(AnyIpDeviceGroup& group, int devices) {
  auto c = group_config();
  for (int i = 0; i < devices; ++i)
    group.add(Device(c, DeviceIdentity{"grp-" + std::to_string(i), uint64_t(i + 1), "", ""}),
              uint64_t(1000 + i));
}

CoapMessage created(const CoapMessage& request, const std::string& location) {
  CoapMessage m;
  m.type = CoapType::kAck;
  m.code = coap_code(CoapCode::kCreated);
  m.message_id = request.message_id;
  m.token = request.token;
  m.set_location_path(location);
  return m;
}

std::string endpoint_of(const CoapMessage& reg) {
  return std::string(reg.query_value("ep").value_or(""));
}

// Registers every device of `group` through `server`, answering each
// Register; returns the source endpoint each endpoint name used.
std::map<std::string, udp::endpoint> register_all(asio::io_context& io, Peer& server,
                                                  AnyIpDeviceGroup& group) {
  std::map<std::string, udp::endpoint> from;
  for (size_t k = 0; k < group.size(); ++k) group.start(k);
  while (from.size() < group.size()) {
    auto d = server.next(5s);
    if (!d) break;
    if (d->message.code != coap_code(CoapCode::kPost)) continue;
    const std::string ep = endpoint_of(d->message);
    from[ep] = d->from;
    server.send(created(d->message, "/rd/" + ep), d->from);
  }
  run_until(io, [&] {
    for (size_t k = 0; k < group.size(); ++k)
      if (!group.device(k).registered()) return false;
    return true;
  });
  return from;
}

TEST(AnyIpDeviceGroup, EachDeviceRegistersFromItsOwnAddressOnOneSharedPort) {
  asio::io_context io;
  Peer server(io);
  AnyIpDeviceGroup group(io, server.endpoint(), options());
  fill(group, 5);
  ASSERT_TRUE(group.open().ok());
  const auto from = register_all(io, server, group);
  ASSERT_EQ(from.size(), 5u);
  std::set<asio::ip::address> addresses;
  for (size_t k = 0; k < group.size(); ++k) {
    ASSERT_TRUE(group.device(k).registered()) << k;
    const udp::endpoint& e = from.at("grp-" + std::to_string(k));
    EXPECT_EQ(e.address(), group.address(k));
    EXPECT_EQ(e.port(), group.port());
    addresses.insert(e.address());
  }
  EXPECT_EQ(addresses.size(), 5u);
  EXPECT_EQ(group.address(4), asio::ip::make_address("127.64.0.5"));
}

TEST(AnyIpDeviceGroup, RequestsReachTheDeviceTheyWereSentToAndAnswersComeFromIt) {
  asio::io_context io;
  Peer server(io);
  AnyIpDeviceGroup group(io, server.endpoint(), options());
  fill(group, 3);
  ASSERT_TRUE(group.open().ok());
  ASSERT_EQ(register_all(io, server, group).size(), 3u);

  CoapMessage read;
  read.type = CoapType::kCon;
  read.code = coap_code(CoapCode::kGet);
  read.message_id = 0x4242;
  read.token = "rd";
  read.set_uri_path("/3/0/2");  // serial number: differs per device
  std::set<std::string> serials;
  for (size_t k = 0; k < 3; ++k) {
    const udp::endpoint device(group.address(k), group.port());
    server.send(read, device);
    auto answer = server.next(2s);
    ASSERT_TRUE(answer) << k;
    EXPECT_EQ(answer->from, device);
    EXPECT_EQ(answer->message.code, coap_code(CoapCode::kContent));
    EXPECT_EQ(answer->message.message_id, 0x4242);
    serials.insert(answer->message.payload);
    // The same message id again is a duplicate: answered with the same bytes.
    server.send(read, device);
    auto again = server.next(2s);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->bytes, answer->bytes);
    EXPECT_EQ(group.stats(k).duplicates, 1u);
  }
  EXPECT_EQ(serials.size(), 3u);

  // An address of no device: dropped and counted, nobody answers.
  server.send(read, udp::endpoint(asio::ip::make_address("127.64.0.200"), group.port()));
  EXPECT_TRUE(server.drain(300ms).empty());
  EXPECT_EQ(group.stray_datagrams(), 1u);
}

TEST(AnyIpDeviceGroup, UnansweredRegisterIsRetransmittedFromTheSameAddress) {
  asio::io_context io;
  Peer server(io);
  AnyIpDeviceGroup group(io, server.endpoint(), options());
  fill(group, 2);
  ASSERT_TRUE(group.open().ok());
  group.start(1);
  auto first = server.next(2s);
  ASSERT_TRUE(first);
  auto second = server.next(2s);  // ~200 ms later, same message
  ASSERT_TRUE(second);
  EXPECT_EQ(second->message.message_id, first->message.message_id);
  EXPECT_EQ(second->from, first->from);
  EXPECT_EQ(second->from.address(), group.address(1));
  EXPECT_GE(second->at - first->at, 150ms);
  EXPECT_EQ(group.stats(1).retransmissions, 1u);
  EXPECT_FALSE(group.running(0));
}

TEST(AnyIpDeviceGroup, StopDeregistersEveryDeviceThenClosesTheSocket) {
  asio::io_context io;
  Peer server(io);
  AnyIpDeviceGroup group(io, server.endpoint(), options());
  fill(group, 4);
  ASSERT_TRUE(group.open().ok());
  ASSERT_EQ(register_all(io, server, group).size(), 4u);
  bool stopped = false;
  group.stop([&] { stopped = true; });
  std::set<asio::ip::address> deregistered;
  while (deregistered.size() < 4) {
    auto d = server.next(2s);
    ASSERT_TRUE(d);
    ASSERT_EQ(d->message.code, coap_code(CoapCode::kDelete));
    deregistered.insert(d->from.address());
    CoapMessage deleted;
    deleted.type = CoapType::kAck;
    deleted.code = coap_code(CoapCode::kDeleted);
    deleted.message_id = d->message.message_id;
    deleted.token = d->message.token;
    EXPECT_FALSE(stopped) << "stopped before every device was answered";
    server.send(deleted, d->from);
  }
  ASSERT_TRUE(run_until(
      io, [&] { return stopped; }, 2s));
  for (size_t k = 0; k < group.size(); ++k) EXPECT_FALSE(group.running(k));
  EXPECT_EQ(group.port(), 0) << "socket closed";
}

TEST(AnyIpDeviceGroup, AddressesThatAreNotLocalAreRefusedAtOpen) {
  asio::io_context io;
  Peer server(io);
  AnyIpDeviceGroupOptions o = options();
  o.first_address = asio::ip::make_address("192.0.2.1");  // TEST-NET-1: never local here
  AnyIpDeviceGroup group(io, server.endpoint(), o);
  fill(group, 2);
  auto opened = group.open();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("not local"), std::string::npos) << opened.error().message;
}

}  // namespace
}  // namespace fogm2m::emulated
