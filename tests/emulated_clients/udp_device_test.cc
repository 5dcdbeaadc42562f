#include "emulated_clients/udp_device.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lwm2m/codec/codec.h"
#include "tests/emulated_clients/coap_peer.h"
#include "tests/support/child_process.h"

extern char** environ;

namespace fogm2m::emulated {
namespace {

using testing::Peer;
using testing::run_until;

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;
using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;
namespace opt = lwm2m::coap_option;

std::shared_ptr<DeviceConfig> udp_config(std::chrono::milliseconds sample_period = 50ms) {
  auto c = std::make_shared<DeviceConfig>();
  c->sample_period = sample_period;
  c->retry_base = 60000ms;  // no second Register within a test
  return c;
}

UdpDeviceOptions fast_options(bool register_on_start = true) {
  UdpDeviceOptions o;
  o.transmission.ack_timeout = 100ms;
  o.transmission.ack_random_factor = 1.0;
  o.bind_address = asio::ip::address_v4::loopback();
  o.register_on_start = register_on_start;
  o.seed = 99;
  return o;
}

CoapMessage ack(const CoapMessage& req, CoapCode c) {
  CoapMessage r;
  r.type = CoapType::kAck;
  r.code = coap_code(c);
  r.message_id = req.message_id;
  r.token = req.token;
  return r;
}

udp::endpoint loopback(uint16_t port) {
  return udp::endpoint(asio::ip::address_v4::loopback(), port);
}

// ---- Registration over UDP ----------------------------------------------------------

TEST(UdpDevice, RegistersThenDeregistersOnStop) {
  asio::io_context io;
  Peer server(io);
  std::vector<RegistrationState> states;
  UdpDeviceOptions o = fast_options();
  o.on_registration_state = [&](RegistrationState s) { states.push_back(s); };
  UdpDevice dev(io, server.endpoint(), Device(udp_config(), DeviceIdentity{"udp-1", 5, "", ""}), o);
  ASSERT_TRUE(dev.start().ok());
  EXPECT_NE(dev.local_endpoint().port(), 0);

  auto reg = server.next();
  ASSERT_TRUE(reg.has_value());
  EXPECT_EQ(reg->from.port(), dev.local_endpoint().port());
  EXPECT_EQ(reg->message.type, CoapType::kCon);
  EXPECT_EQ(reg->message.code, coap_code(CoapCode::kPost));
  EXPECT_EQ(reg->message.uri_path(), "/rd");
  EXPECT_EQ(reg->message.query_value("ep"), "udp-1");
  EXPECT_EQ(reg->message.query_value("lwm2m"), "1.1");
  CoapMessage created = ack(reg->message, CoapCode::kCreated);
  created.set_location_path("rd/abc");
  server.send(created, reg->from);
  ASSERT_TRUE(run_until(io, [&] { return dev.device().registered(); }));
  ASSERT_TRUE(run_until(
      io, [&] { return !states.empty() && states.back() == RegistrationState::kRegistered; }));
  EXPECT_EQ(dev.device().registration_location(), "/rd/abc");

  bool stopped = false;
  dev.stop([&] { stopped = true; });
  auto dereg = server.next();
  ASSERT_TRUE(dereg.has_value());
  EXPECT_EQ(dereg->message.code, coap_code(CoapCode::kDelete));
  EXPECT_EQ(dereg->message.uri_path(), "/rd/abc");
  EXPECT_FALSE(stopped);  // waits for the answer
  server.send(ack(dereg->message, CoapCode::kDeleted), dereg->from);
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  EXPECT_FALSE(dev.running());
  EXPECT_EQ(dev.device().counters().registrations, 1u);
  EXPECT_EQ(dev.device().counters().deregistrations, 1u);
  EXPECT_EQ(dev.device().registration_state(), RegistrationState::kStopped);
  run_until(
      io, [&] { return states.back() == RegistrationState::kStopped; }, 1s);
  EXPECT_EQ(states.back(), RegistrationState::kStopped);
  // Closed: nothing more is sent.
  EXPECT_TRUE(server.drain(200ms).empty());
}

TEST(UdpDevice, StopWhenNotRegisteredClosesAtOnce) {
  asio::io_context io;
  Peer server(io);
  UdpDevice dev(io, server.endpoint(), Device(udp_config(), DeviceIdentity{"udp-2", 5, "", ""}),
                fast_options(false));
  ASSERT_TRUE(dev.start().ok());
  EXPECT_FALSE(dev.start().ok());  // already running
  bool stopped = false;
  dev.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  EXPECT_FALSE(dev.running());
  EXPECT_TRUE(server.drain(100ms).empty());
}

TEST(UdpDevice, RetransmitsUntilAnswered) {
  asio::io_context io;
  Peer server(io);
  UdpDevice dev(io, server.endpoint(), Device(udp_config(), DeviceIdentity{"udp-3", 5, "", ""}),
                fast_options());
  ASSERT_TRUE(dev.start().ok());
  auto first = server.next();
  ASSERT_TRUE(first.has_value());
  auto second = server.next();  // ignored the first: it comes again
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->bytes, first->bytes);
  EXPECT_GE(second->at - first->at, 90ms);
  CoapMessage created = ack(second->message, CoapCode::kCreated);
  created.set_location_path("rd/r1");
  server.send(created, second->from);
  ASSERT_TRUE(run_until(io, [&] { return dev.device().registered(); }));
  EXPECT_GE(dev.stats().retransmissions, 1u);
  // The duplicate ACK of a finished exchange is harmless.
  server.send(created, second->from);
  for (const auto& d : server.drain(150ms)) EXPECT_EQ(d.bytes, first->bytes);  // late copies only
  EXPECT_TRUE(dev.device().registered());
}

TEST(UdpDevice, GivesUpAfterMaxRetransmit) {
  asio::io_context io;
  Peer server(io);
  UdpDeviceOptions o = fast_options();
  o.transmission.ack_timeout = 20ms;
  o.transmission.max_retransmit = 2;
  UdpDevice dev(io, server.endpoint(), Device(udp_config(), DeviceIdentity{"udp-4", 5, "", ""}), o);
  ASSERT_TRUE(dev.start().ok());
  ASSERT_TRUE(run_until(io, [&] { return dev.stats().timeouts == 1; }));
  EXPECT_EQ(dev.device().registration_state(), RegistrationState::kRegisterDue);
  EXPECT_EQ(dev.device().counters().errors, 1u);
  auto copies = server.drain(100ms);
  ASSERT_EQ(copies.size(), 3u);  // the first and two retransmissions
  EXPECT_EQ(copies[2].bytes, copies[0].bytes);
  // (No timing check here: the copies are timestamped when the test reads
  // them, which a loaded machine delays; the back-off count above is what
  // this test pins down.)
}

TEST(UdpDevice, SeparateResponse) {
  asio::io_context io;
  Peer server(io);
  UdpDevice dev(io, server.endpoint(), Device(udp_config(), DeviceIdentity{"udp-5", 5, "", ""}),
                fast_options());
  ASSERT_TRUE(dev.start().ok());
  auto reg = server.next();
  ASSERT_TRUE(reg.has_value());
  CoapMessage empty_ack;
  empty_ack.type = CoapType::kAck;
  empty_ack.message_id = reg->message.message_id;
  server.send(empty_ack, reg->from);
  // Acknowledged: no retransmission while the server works on it.
  EXPECT_TRUE(server.drain(250ms).empty());
  CoapMessage created;
  created.type = CoapType::kCon;
  created.code = coap_code(CoapCode::kCreated);
  created.message_id = 4242;
  created.token = reg->message.token;
  created.set_location_path("rd/sep");
  server.send(created, reg->from);
  auto ack_back = server.next();
  ASSERT_TRUE(ack_back.has_value());
  EXPECT_EQ(ack_back->message.type, CoapType::kAck);
  EXPECT_TRUE(ack_back->message.is_empty());
  EXPECT_EQ(ack_back->message.message_id, 4242);
  ASSERT_TRUE(run_until(io, [&] { return dev.device().registered(); }));
  EXPECT_EQ(dev.device().registration_location(), "/rd/sep");
}

// ---- Requests from the server (or any client) ----------------------------------------

CoapMessage get(std::string_view path, uint16_t mid,
                std::optional<ContentFormat> accept = std::nullopt,
                CoapType type = CoapType::kCon) {
  CoapMessage m;
  m.type = type;
  m.code = coap_code(CoapCode::kGet);
  m.message_id = mid;
  m.token = "t" + std::to_string(mid);
  m.set_uri_path(path);
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  return m;
}

TEST(UdpDevice, AnswersRequestsOnceAndDuplicatesFromCache) {
  asio::io_context io;
  Peer client(io);
  UdpDevice dev(io, loopback(9), Device(udp_config(), DeviceIdentity{"udp-6", 5, "", ""}),
                fast_options(false));
  ASSERT_TRUE(dev.start().ok());
  const udp::endpoint device = dev.local_endpoint();

  client.send(get("/3/0/0", 77, ContentFormat::kText), device);
  auto r1 = client.next();
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(r1->message.type, CoapType::kAck);
  EXPECT_EQ(r1->message.message_id, 77);
  EXPECT_EQ(r1->message.token, "t77");
  EXPECT_EQ(r1->message.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(r1->message.payload, "fogm2m");

  client.send(get("/3/0/0", 77, ContentFormat::kText), device);  // a retransmission
  auto r2 = client.next();
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->bytes, r1->bytes);
  EXPECT_EQ(dev.device().counters().requests_answered, 1u);
  EXPECT_EQ(dev.stats().duplicates, 1u);

  // NON request: NON response with the device's own message ID.
  client.send(get("/3313/0/5701", 78, ContentFormat::kText, CoapType::kNon), device);
  auto r3 = client.next();
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(r3->message.type, CoapType::kNon);
  EXPECT_EQ(r3->message.token, "t78");
  EXPECT_EQ(r3->message.payload, "m/s2");

  // CoAP ping, and garbage sent as CON: RST.
  CoapMessage ping;
  ping.type = CoapType::kCon;
  ping.message_id = 79;
  client.send(ping, device);
  auto pong = client.next();
  ASSERT_TRUE(pong.has_value());
  EXPECT_EQ(pong->message.type, CoapType::kRst);
  EXPECT_EQ(pong->message.message_id, 79);
  client.send_raw(std::string("\x40\x01\x00\x50\xFF", 5), device);  // payload marker, no payload
  auto rst = client.next();
  ASSERT_TRUE(rst.has_value());
  EXPECT_EQ(rst->message.type, CoapType::kRst);
  EXPECT_EQ(rst->message.message_id, 0x50);
  EXPECT_EQ(dev.stats().malformed, 1u);
  EXPECT_EQ(dev.device().counters().requests_answered, 2u);
}

TEST(UdpDevice, NotificationsToTheObserverUntilReset) {
  asio::io_context io;
  Peer client(io);
  Peer server(io);  // registration goes elsewhere: notifications must not
  auto c = udp_config(20ms);
  c->notify_con_every = 3;
  UdpDeviceOptions o = fast_options(false);
  o.transmission.ack_timeout = 3000ms;  // our ACKs may be slow on a loaded machine
  UdpDevice dev(io, server.endpoint(), Device(c, DeviceIdentity{"udp-7", 5, "", ""}), o);
  ASSERT_TRUE(dev.start().ok());
  const udp::endpoint device = dev.local_endpoint();

  CoapMessage obs = get("/3313/0/5702", 100, ContentFormat::kText);
  obs.add_uint_option(opt::kObserve, 0);
  client.send(obs, device);
  auto first = client.next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->message.observe().has_value());
  uint32_t last_seq = *first->message.observe();

  int con = 0, non = 0;
  uint16_t last_non_mid = 0;
  while (con + non < 9) {
    auto n = client.next();
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->message.token, "t100");
    ASSERT_TRUE(n->message.observe().has_value());
    EXPECT_GT(*n->message.observe(), last_seq);
    last_seq = *n->message.observe();
    const double v = std::stod(n->message.payload);
    EXPECT_GE(v, -20.0);
    EXPECT_LE(v, 20.0);
    if (n->message.type == CoapType::kCon) {
      ++con;
      CoapMessage a;
      a.type = CoapType::kAck;
      a.message_id = n->message.message_id;
      client.send(a, n->from);
    } else {
      ++non;
      last_non_mid = n->message.message_id;
    }
  }
  EXPECT_EQ(con, 3);
  EXPECT_EQ(non, 6);
  EXPECT_TRUE(server.drain(10ms).empty());

  // RST to a NON notification cancels the observation.
  CoapMessage rst;
  rst.type = CoapType::kRst;
  rst.message_id = last_non_mid;
  client.send(rst, device);
  client.send(get("/3/0/0", 101, ContentFormat::kText), device);
  for (;;) {  // notifications already in flight may come first
    auto m = client.next();
    ASSERT_TRUE(m.has_value());
    if (m->message.token == "t101") break;
  }
  EXPECT_EQ(dev.device().observation_count(), 0u);
  for (const auto& d : client.drain(100ms)) EXPECT_NE(d.message.token, "t100");
  EXPECT_EQ(dev.stats().retransmissions, 0u);  // every CON was acknowledged
}

TEST(UdpDevice, UnacknowledgedConNotificationEndsTheObservation) {
  asio::io_context io;
  Peer client(io);
  auto c = udp_config(1000ms);  // the CON gives up (60 ms) long before the next sample
  c->notify_con_every = 1;
  UdpDeviceOptions o = fast_options(false);
  o.transmission.ack_timeout = 20ms;
  o.transmission.max_retransmit = 1;
  UdpDevice dev(io, loopback(9), Device(c, DeviceIdentity{"udp-8", 5, "", ""}), o);
  ASSERT_TRUE(dev.start().ok());
  CoapMessage obs = get("/3313/0/5702", 200, ContentFormat::kTlv);
  obs.add_uint_option(opt::kObserve, 0);
  client.send(obs, dev.local_endpoint());
  ASSERT_TRUE(client.next().has_value());
  auto n1 = client.next();
  ASSERT_TRUE(n1.has_value());
  EXPECT_EQ(n1->message.type, CoapType::kCon);
  auto again = client.next();  // not acknowledged: retransmitted
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->bytes, n1->bytes);
  ASSERT_TRUE(run_until(io, [&] { return dev.device().observation_count() == 0; }));
  EXPECT_EQ(dev.stats().timeouts, 1u);
}

// ---- Interoperability with libcoap's coap-client ---------------------------------------

using test::ChildResult;

constexpr const char* kCoapClient = "/usr/bin/coap-client-notls";

class CoapClientInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kCoapClient, X_OK) != 0)
      GTEST_SKIP() << kCoapClient << " not installed (libcoap3-bin)";
    dev_ = std::make_unique<UdpDevice>(
        io_, loopback(9), Device(udp_config(), DeviceIdentity{"interop-1", 11, "", ""}),
        fast_options(false));
    ASSERT_TRUE(dev_->start().ok());
    base_ = "coap://127.0.0.1:" + std::to_string(dev_->local_endpoint().port());
  }
  ChildResult coap_client(std::vector<std::string> args) {
    args.insert(args.begin(), {kCoapClient, "-B", "10"});
    return test::run_child(io_, args);
  }
  asio::io_context io_;
  std::unique_ptr<UdpDevice> dev_;
  std::string base_;
};

TEST_F(CoapClientInterop, ReadsAFloatAsText) {
  auto r = coap_client({"-A", "0", base_ + "/3313/0/5702"});
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(r.out.empty()) << r.err;
  size_t used = 0;
  const double x = std::stod(r.out, &used);
  EXPECT_GE(x, -20.0);
  EXPECT_LE(x, 20.0);
  EXPECT_EQ(r.out.substr(used).find_first_not_of("\r\n"), std::string::npos) << r.out;
  EXPECT_EQ(dev_->device().counters().requests_answered, 1u);
}

TEST_F(CoapClientInterop, ReadsTheDeviceObjectAsTlv) {
  // -o: the exact payload bytes (on stdout coap-client appends a newline).
  const std::string file =
      ::testing::TempDir() + "/interop_3_0_" + std::to_string(getpid()) + ".tlv";
  auto r = coap_client({"-A", "11542", "-o", file, base_ + "/3/0"});
  ASSERT_TRUE(r.exited) << r.err;
  EXPECT_EQ(r.status, 0) << r.err;
  std::string payload;
  {
    const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << file;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) payload.append(buf, static_cast<size_t>(n));
    close(fd);
    unlink(file.c_str());
  }
  auto node = lwm2m::decode(ContentFormat::kTlv, lwm2m::Path(3, 0),
                            {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()},
                            Device::models());
  ASSERT_TRUE(node.ok()) << node.error().message;
  const auto& oi = std::get<lwm2m::ObjectInstance>(*node);
  EXPECT_EQ(oi.find(0)->value, lwm2m::Value("fogm2m"));
  EXPECT_EQ(oi.find(2)->value, lwm2m::Value("interop-1"));
  EXPECT_EQ(oi.find(7)->instances.size(), 2u);
}

TEST_F(CoapClientInterop, WritesExecutesAndGetsErrors) {
  auto w = coap_client({"-m", "put", "-t", "0", "-e", "Europe/Paris", base_ + "/3/0/15"});
  ASSERT_TRUE(w.exited) << w.err;
  EXPECT_EQ(w.status, 0) << w.err;
  auto r = coap_client({"-A", "0", base_ + "/3/0/15"});
  EXPECT_EQ(r.out.substr(0, 12), "Europe/Paris");
  auto e = coap_client({"-m", "post", base_ + "/3/0/4"});  // Reboot
  ASSERT_TRUE(e.exited) << e.err;
  EXPECT_EQ(e.status, 0) << e.err;
  r = coap_client({"-A", "0", base_ + "/3/0/15"});
  EXPECT_EQ(r.out.substr(0, 7), "Etc/UTC");
  // Error codes: coap-client prints them on stderr (and still exits 0).
  auto ro = coap_client({"-m", "put", "-t", "0", "-e", "x", base_ + "/3/0/0"});
  EXPECT_NE(ro.err.find("4.05"), std::string::npos) << ro.out << ro.err;
  auto nf = coap_client({"-A", "0", base_ + "/3313/9/5702"});
  EXPECT_NE(nf.err.find("4.04"), std::string::npos) << nf.out << nf.err;
  auto bad = coap_client({"-m", "put", "-t", "0", "-e", "soon", base_ + "/3/0/13"});
  EXPECT_NE(bad.err.find("4.00"), std::string::npos) << bad.out << bad.err;
  EXPECT_EQ(dev_->device().counters().requests_answered, 7u);
}

TEST_F(CoapClientInterop, DiscoversAndObserves) {
  auto d = coap_client({"-A", "40", base_ + "/3313/0"});
  ASSERT_TRUE(d.exited) << d.err;
  EXPECT_EQ(d.out.substr(0, 43), "</3313/0>,</3313/0/5603>,</3313/0/5604>,</3");
  // Observe for one second: the initial value and about 20 notifications.
  auto o = coap_client({"-s", "1", "-w", "-A", "0", base_ + "/3313/0/5702"});
  ASSERT_TRUE(o.exited) << o.err;
  EXPECT_EQ(o.status, 0) << o.err;
  int lines = 0;
  size_t pos = 0;
  while (pos < o.out.size()) {
    const size_t nl = o.out.find('\n', pos);
    const std::string line = o.out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? o.out.size() : nl + 1;
    if (line.empty()) continue;
    const double v = std::stod(line);
    EXPECT_GE(v, -20.0);
    EXPECT_LE(v, 20.0);
    ++lines;
  }
  EXPECT_GE(lines, 5) << o.out;
  // coap-client deregisters its interest on exit (or we drop it on RST).
  EXPECT_LE(dev_->device().observation_count(), 1u);
}

}  // namespace
}  // namespace fogm2m::emulated
