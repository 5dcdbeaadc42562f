// One socket speaking for many loopback addresses (io/anyip_udp_socket.h):
// datagrams leave from the address asked for, and each received datagram
// says which local address it was sent to.
#include "io/anyip_udp_socket.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace fogm2m::io {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace std::chrono_literals;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Received {
  asio::ip::address local;
  udp::endpoint sender;
  std::string data;
};

TEST(AnyIpUdpSocket, SendsFromAndReceivesOnAnyLoopbackAddress) {
  asio::io_context io;
  udp::socket peer(io, udp::endpoint(asio::ip::address_v4::loopback(), 0));
  AnyIpUdpSocket socket(io);
  std::vector<Received> got;
  ASSERT_TRUE(
      socket
          .open(udp::v4(), 0, 1 << 20,
                [&](const AnyIpDatagram& d) {
                  got.push_back({d.local, d.sender, std::string(d.data.begin(), d.data.end())});
                })
          .ok());
  ASSERT_NE(socket.port(), 0);

  // 200 distinct source addresses on one socket, as the peer sees them.
  for (uint32_t i = 1; i <= 200; ++i) {
    const auto source = asio::ip::address_v4((127u << 24) | (64u << 16) | i);
    ASSERT_TRUE(
        socket.send_from(source, peer.local_endpoint(), bytes("hello " + std::to_string(i))));
  }
  for (uint32_t i = 1; i <= 200; ++i) {
    std::array<char, 64> buf{};
    udp::endpoint from;
    const size_t n = peer.receive_from(asio::buffer(buf), from);
    EXPECT_EQ(std::string(buf.data(), n), "hello " + std::to_string(i));
    EXPECT_EQ(from,
              udp::endpoint(asio::ip::address_v4((127u << 24) | (64u << 16) | i), socket.port()));
    // Answer to where it came from: the socket learns which address it was.
    peer.send_to(asio::buffer("re " + std::to_string(i)), from);
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (got.size() < 200 && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  ASSERT_EQ(got.size(), 200u);
  for (uint32_t i = 1; i <= 200; ++i) {
    const Received& r = got[i - 1];
    EXPECT_EQ(r.local, asio::ip::address_v4((127u << 24) | (64u << 16) | i));
    EXPECT_EQ(r.sender, peer.local_endpoint());
    EXPECT_EQ(r.data.substr(0, 3 + std::to_string(i).size()), "re " + std::to_string(i));
  }
  EXPECT_EQ(socket.stats().datagrams_out, 200u);
  EXPECT_EQ(socket.stats().datagrams_in, 200u);
}

TEST(AnyIpUdpSocket, ASourceThatIsNotLocalIsRefusedAndCounted) {
  asio::io_context io;
  udp::socket peer(io, udp::endpoint(asio::ip::address_v4::loopback(), 0));
  AnyIpUdpSocket socket(io);
  ASSERT_TRUE(socket.open(udp::v4(), 0, 0, [](const AnyIpDatagram&) {}).ok());
  EXPECT_FALSE(
      socket.send_from(asio::ip::make_address("192.0.2.7"), peer.local_endpoint(), bytes("x")));
  EXPECT_EQ(socket.stats().send_errors, 1u);
  EXPECT_EQ(peer.available(), 0u);
}

TEST(AnyIpUdpSocket, OpeningTwiceOrOnATakenPortFails) {
  asio::io_context io;
  AnyIpUdpSocket a(io), b(io);
  ASSERT_TRUE(a.open(udp::v4(), 0, 0, [](const AnyIpDatagram&) {}).ok());
  EXPECT_FALSE(a.open(udp::v4(), 0, 0, [](const AnyIpDatagram&) {}).ok());
  auto taken = b.open(udp::v4(), a.port(), 0, [](const AnyIpDatagram&) {});
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.error().message.find(std::to_string(a.port())), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::io
