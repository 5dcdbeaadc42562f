// A raw CoAP peer on a loopback socket for the emulated devices' transport
// tests: it plays the LwM2M server or a client and records what arrives.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "emulated_clients/device_config.h"
#include "lwm2m/coap_message.h"
#include "tests/support/test_util.h"

namespace fogm2m::emulated::testing {

using namespace std::chrono_literals;

using fogm2m::test::run_until;

// A raw CoAP peer on a loopback socket: plays the LwM2M server or a client.
class Peer {
 public:
  explicit Peer(boost::asio::io_context& io)
      : io_(io),
        socket_(io, boost::asio::ip::udp::endpoint(boost::asio::ip::address_v4::loopback(), 0)) {
    receive();
  }
  boost::asio::ip::udp::endpoint endpoint() const { return socket_.local_endpoint(); }

  struct Datagram {
    lwm2m::CoapMessage message;
    std::string bytes;
    boost::asio::ip::udp::endpoint from;
    TimePoint at;
  };

  // The next datagram, waiting up to `timeout` for it.
  std::optional<Datagram> next(std::chrono::milliseconds timeout = 10s) {
    if (!run_until(
            io_, [&] { return !inbox_.empty(); }, timeout))
      return std::nullopt;
    Datagram d = std::move(inbox_.front());
    inbox_.pop_front();
    return d;
  }
  // Every datagram that arrives within `window`.
  std::vector<Datagram> drain(std::chrono::milliseconds window) {
    run_until(
        io_, [] { return false; }, window);
    std::vector<Datagram> out(std::make_move_iterator(inbox_.begin()),
                              std::make_move_iterator(inbox_.end()));
    inbox_.clear();
    return out;
  }
  void send(const lwm2m::CoapMessage& m, const boost::asio::ip::udp::endpoint& to) {
    auto bytes = lwm2m::encode_coap(m);
    ASSERT_TRUE(bytes.ok());
    socket_.send_to(boost::asio::buffer(*bytes), to);
  }
  void send_raw(const std::string& bytes, const boost::asio::ip::udp::endpoint& to) {
    socket_.send_to(boost::asio::buffer(bytes), to);
  }

 private:
  void receive() {
    socket_.async_receive_from(boost::asio::buffer(buf_), from_,
                               [this](const boost::system::error_code& ec, size_t n) {
                                 if (ec) return;
                                 std::string bytes(buf_.data(), n);
                                 auto m = lwm2m::decode_coap(bytes);
                                 EXPECT_TRUE(m.ok()) << "undecodable datagram from the device";
                                 if (m) inbox_.push_back(Datagram{*m, bytes, from_, Clock::now()});
                                 receive();
                               });
  }
  boost::asio::io_context& io_;
  boost::asio::ip::udp::socket socket_;
  std::array<char, 2048> buf_{};
  boost::asio::ip::udp::endpoint from_;
  std::deque<Datagram> inbox_;
};

}  // namespace fogm2m::emulated::testing
