// DtlsDevice on its own (the end-to-end tests with a real node are in
// tests/cluster/dtls_device_test.cc): input checks, what goes on the wire
// towards a peer that never answers (a real UDP socket), stop() in the middle
// of a handshake, the handshake timeout, and the memory a device costs.
#include "emulated_clients/dtls_device.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_util.h"

namespace fogm2m::emulated {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using test::run_until;

// A UDP socket on loopback that records the source ports and first bytes of
// what it receives and never answers: a DTLS server that is not there.
class SilentPeer {
 public:
  explicit SilentPeer(asio::io_context& io)
      : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  udp::endpoint endpoint() const { return socket_.local_endpoint(); }
  const std::vector<std::pair<uint16_t, std::string>>& datagrams() const { return datagrams_; }

 private:
  void receive() {
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_, [this](const boost::system::error_code& ec, size_t n) {
          if (ec) return;
          datagrams_.emplace_back(sender_.port(), std::string(buffer_.data(), n));
          receive();
        });
  }
  udp::socket socket_;
  udp::endpoint sender_;
  std::array<char, 2048> buffer_{};
  std::vector<std::pair<uint16_t, std::string>> datagrams_;
};

Device dtls_device_for(const std::string& ep, std::shared_ptr<const DeviceConfig> config,
                       bool psk = true) {
  return Device(std::move(config),
                DeviceIdentity{ep, 7, psk ? ep + "-id" : "", psk ? ep + "-key" : ""});
}

DtlsDeviceOptions loopback_options() {
  DtlsDeviceOptions o;
  o.bind_address = asio::ip::make_address("127.0.0.1");
  return o;
}

// A DTLS 1.2 (or 1.0 record version in a ClientHello) handshake record.
bool is_dtls_handshake(const std::string& datagram) {
  return datagram.size() > 13 && static_cast<uint8_t>(datagram[0]) == 22 &&
         static_cast<uint8_t>(datagram[1]) == 0xFE;
}

TEST(DtlsDevice, RefusesADeviceWithoutPsk) {
  asio::io_context io;
  auto ctx = DtlsClientContext::create(io);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SilentPeer peer(io);
  auto config = std::make_shared<DeviceConfig>();
  {
    DtlsDevice device(**ctx, peer.endpoint(), dtls_device_for("nosec", config, false),
                      loopback_options());
    Status st = device.start();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().kind, ErrorKind::kInvalidArgument);
    EXPECT_FALSE(device.running());
  }
  EXPECT_EQ((*ctx)->device_count(), 0u);
}

TEST(DtlsDevice, StopDuringTheHandshakeEndsAtOnce) {
  asio::io_context io;
  auto ctx = DtlsClientContext::create(io);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SilentPeer peer(io);
  auto config = std::make_shared<DeviceConfig>();
  DtlsDevice device(**ctx, peer.endpoint(), dtls_device_for("hs-stop", config), loopback_options());
  ASSERT_TRUE(device.start().ok());
  const uint16_t port = device.local_endpoint().port();
  EXPECT_NE(port, 0);
  // The ClientHello reaches the peer from the device's own port.
  ASSERT_TRUE(run_until(io, [&] { return !peer.datagrams().empty(); }));
  EXPECT_EQ(peer.datagrams()[0].first, port);
  EXPECT_TRUE(is_dtls_handshake(peer.datagrams()[0].second));
  EXPECT_EQ(device.device().registration_state(), RegistrationState::kRegistering);

  bool stopped = false;
  device.stop([&] { stopped = true; });
  EXPECT_FALSE(device.running());  // nothing to wait for: not registered
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
  EXPECT_EQ(device.device().registration_state(), RegistrationState::kStopped);
  EXPECT_EQ(device.local_endpoint().port(), 0);  // the session is gone
}

TEST(DtlsDevice, HandshakeTimeoutFailsRegisterAndRetriesOnAFreshSession) {
  asio::io_context io;
  auto ctx = DtlsClientContext::create(io);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SilentPeer peer(io);
  auto config = std::make_shared<DeviceConfig>();
  config->retry_base = std::chrono::milliseconds(50);
  config->retry_max = std::chrono::milliseconds(100);
  DtlsDeviceOptions options = loopback_options();
  options.handshake_timeout = std::chrono::milliseconds(200);
  DtlsDevice device(**ctx, peer.endpoint(), dtls_device_for("hs-timeout", config), options);
  ASSERT_TRUE(device.start().ok());
  ASSERT_TRUE(run_until(io, [&] { return device.stats().handshake_failures >= 2; }));
  EXPECT_EQ(device.stats().handshakes, 0u);
  EXPECT_GE(device.stats().timeouts, 1u);  // the Register the first session held
  EXPECT_EQ(device.device().counters().registrations, 0u);
  // Each attempt is a new session from a new ephemeral port.
  std::set<uint16_t> ports;
  for (const auto& [port, bytes] : peer.datagrams())
    if (is_dtls_handshake(bytes)) ports.insert(port);
  EXPECT_GE(ports.size(), 2u);
  bool stopped = false;
  device.stop([&] { stopped = true; });
  ASSERT_TRUE(run_until(io, [&] { return stopped; }));
}

// Memory of 1000 devices, each with its session's handshake under way (the
// peer is silent): heap bytes from mallinfo2 per device, printed for the
// notes. The bound only catches a gross regression (a big per-device buffer).
TEST(DtlsDevice, ThousandDevicesEachHaveTheirOwnPortAndModestMemory) {
  constexpr size_t kDevices = 1000;
  asio::io_context io;
  auto ctx = DtlsClientContext::create(io);
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  SilentPeer peer(io);
  auto config = std::make_shared<DeviceConfig>();
  config->sample_period = std::chrono::milliseconds(0);  // memory, not sampling
  DtlsDeviceOptions options = loopback_options();
  options.handshake_timeout = std::chrono::minutes(10);

  malloc_trim(0);
  const size_t before = mallinfo2().uordblks;
  std::vector<std::unique_ptr<DtlsDevice>> devices;
  devices.reserve(kDevices);
  for (size_t i = 0; i < kDevices; ++i)
    devices.push_back(std::make_unique<DtlsDevice>(
        **ctx, peer.endpoint(), dtls_device_for("mem-" + std::to_string(i), config), options));
  const size_t constructed = mallinfo2().uordblks;
  for (size_t i = 0; i < kDevices; ++i) ASSERT_TRUE(devices[i]->start().ok()) << i;
  ASSERT_TRUE(run_until(
      io, [&] { return peer.datagrams().size() >= kDevices; }, std::chrono::seconds(60)));
  const size_t after = mallinfo2().uordblks;
  const double per_device = static_cast<double>(after - before) / kDevices;
  const double objects = static_cast<double>(constructed - before) / kDevices;
  std::printf(
      "[ MEMORY   ] %zu DtlsDevices in handshake: %.0f heap bytes per device "
      "(%.0f for Device + DtlsDevice, %.0f for the libcoap session and OpenSSL)\n",
      kDevices, per_device, objects, per_device - objects);
  RecordProperty("heap_bytes_per_device", static_cast<int>(per_device));
  EXPECT_LT(per_device, 256.0 * 1024);

  std::set<uint16_t> ports;
  for (auto& d : devices) ports.insert(d->local_endpoint().port());
  EXPECT_EQ(ports.size(), kDevices);

  size_t stopped = 0;
  for (auto& d : devices) d->stop([&] { ++stopped; });
  ASSERT_TRUE(run_until(io, [&] { return stopped == kDevices; }));
  devices.clear();
  EXPECT_EQ((*ctx)->device_count(), 0u);
}

}  // namespace
}  // namespace fogm2m::emulated
