// One UDP socket that speaks for a whole range of local addresses ("AnyIP"):
// bound to the unspecified address and one port, it learns the destination
// address of every datagram it receives (IP_PKTINFO / IPV6_RECVPKTINFO) and
// sends each datagram from whichever local address the caller names (the
// same control message on sendmsg). Many emulated devices thus share one
// file descriptor while the server and a load balancer still see each of
// them at its own address:port.
//
// The addresses must be local: 127.0.0.0/8 is, on every Linux host; another
// range becomes local with `ip route add local 10.77.0.0/16 dev lo` (inside
// the network namespace that owns the range, never on a shared host).
// open() checks nothing about the range; send_from() from an address that is
// not local fails with EINVAL (counted in send_errors()).
//
// Receiving: recvmmsg reads up to 32 datagrams per call into one shared
// buffer (4 KiB per slot: a longer datagram is cut and reported with
// `truncated`), at most 128 per wakeup before other handlers get a turn.
// Sending: sendmsg, one datagram per call, on a non-blocking socket; a full
// send buffer drops the datagram (UDP semantics; CoAP retransmits).
//
// Threading: one io_context thread; callbacks run on it. Closing the socket
// (close() or the destructor) stops the callbacks.
#pragma once

#include <sys/socket.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "io/lifetime.h"
#include "lwm2m/result.h"

namespace fogm2m::io {

struct AnyIpDatagram {
  boost::asio::ip::address local;         // where the sender sent it
  boost::asio::ip::udp::endpoint sender;  // who sent it
  std::span<const uint8_t> data;          // valid during the callback only
  bool truncated = false;                 // longer than a receive slot
};

struct AnyIpSocketStats {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t send_errors = 0;  // sendmsg failed (full buffer, non-local source, ...)
  uint64_t wakeups = 0;      // readable events handled
};

class AnyIpUdpSocket {
 public:
  using Handler = std::function<void(const AnyIpDatagram&)>;

  explicit AnyIpUdpSocket(boost::asio::io_context& io);
  ~AnyIpUdpSocket();
  AnyIpUdpSocket(const AnyIpUdpSocket&) = delete;
  AnyIpUdpSocket& operator=(const AnyIpUdpSocket&) = delete;

  // Opens a socket of `family` (udp::v4() or udp::v6(), v6-only) bound to the
  // unspecified address and `port` (0: an ephemeral one), asks for the
  // destination address of each datagram and, when `buffer_bytes` > 0, sets
  // both socket buffers to it (forced when privileged). Datagrams go to
  // `on_datagram` from then on. kIo with the reason when the socket cannot
  // be opened or bound; kInvalidArgument when already open.
  Status open(boost::asio::ip::udp family, uint16_t port, int buffer_bytes, Handler on_datagram);
  void close();
  bool is_open() const { return socket_.is_open(); }

  // The bound port (0 when closed).
  uint16_t port() const;

  // Sends `bytes` to `peer` from local address `source` (same family as the
  // socket). False when the kernel refused it.
  bool send_from(const boost::asio::ip::address& source, const boost::asio::ip::udp::endpoint& peer,
                 std::span<const uint8_t> bytes);

  const AnyIpSocketStats& stats() const { return stats_; }

 private:
  static constexpr int kBatch = 32;
  static constexpr int kMaxPerWakeup = 128;
  static constexpr size_t kSlotBytes = 4096;
  static constexpr size_t kControlBytes = 64;  // CMSG_SPACE(in6_pktinfo) and room to spare

  void wait_readable();
  void on_readable();

  boost::asio::ip::udp::socket socket_;
  bool v6_ = false;
  Handler on_datagram_;
  std::unique_ptr<uint8_t[]> slots_;
  std::array<sockaddr_storage, kBatch> senders_{};
  std::array<std::array<uint8_t, kControlBytes>, kBatch> controls_{};
  std::array<iovec, kBatch> iovecs_{};
  std::array<mmsghdr, kBatch> headers_{};
  AnyIpSocketStats stats_;
  Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::io
