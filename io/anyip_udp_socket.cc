#include "io/anyip_udp_socket.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace fogm2m::io {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

asio::ip::address address_of(const in_addr& a) {
  asio::ip::address_v4::bytes_type bytes;
  std::memcpy(bytes.data(), &a, 4);
  return asio::ip::address_v4(bytes);
}

asio::ip::address address_of(const in6_addr& a) {
  asio::ip::address_v6::bytes_type bytes;
  std::memcpy(bytes.data(), &a, 16);
  return asio::ip::address_v6(bytes);
}

udp::endpoint endpoint_of(const sockaddr_storage& s) {
  if (s.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(s);
    return udp::endpoint(address_of(in.sin_addr), ntohs(in.sin_port));
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(s);
  return udp::endpoint(address_of(in6.sin6_addr), ntohs(in6.sin6_port));
}

}  // namespace

AnyIpUdpSocket::AnyIpUdpSocket(asio::io_context& io) : socket_(io) {}

AnyIpUdpSocket::~AnyIpUdpSocket() {
  close();
}

void AnyIpUdpSocket::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

uint16_t AnyIpUdpSocket::port() const {
  boost::system::error_code ec;
  const auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

Status AnyIpUdpSocket::open(udp family, uint16_t port, int buffer_bytes, Handler on_datagram) {
  if (socket_.is_open())
    return make_error(ErrorKind::kInvalidArgument, "AnyIP socket already open");
  v6_ = family == udp::v6();
  boost::system::error_code ec;
  socket_.open(family, ec);
  const int fd = socket_.native_handle();
  const int one = 1;
  if (!ec && v6_) {
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  } else if (!ec) {
    if (::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0)
      ec.assign(errno, boost::system::system_category());
  }
  if (!ec && buffer_bytes > 0) {
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buffer_bytes, sizeof buffer_bytes) != 0)
      (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes);
  }
  if (!ec) {
    const asio::ip::address any = v6_ ? asio::ip::address(asio::ip::address_v6::any())
                                      : asio::ip::address(asio::ip::address_v4::any());
    socket_.bind(udp::endpoint(any, port), ec);
  }
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    close();
    return make_error(ErrorKind::kIo,
                      "AnyIP socket on port " + std::to_string(port) + ": " + ec.message());
  }
  on_datagram_ = std::move(on_datagram);
  if (!slots_) slots_ = std::make_unique<uint8_t[]>(kSlotBytes * kBatch);
  for (int i = 0; i < kBatch; ++i) {
    iovecs_[i].iov_base = slots_.get() + static_cast<size_t>(i) * kSlotBytes;
    iovecs_[i].iov_len = kSlotBytes;
  }
  wait_readable();
  return {};
}

void AnyIpUdpSocket::wait_readable() {
  socket_.async_wait(udp::socket::wait_read,
                     lifetime_.guard([this](const boost::system::error_code& ec) {
                       if (ec || !socket_.is_open()) return;
                       on_readable();
                     }));
}

void AnyIpUdpSocket::on_readable() {
  ++stats_.wakeups;
  const int fd = socket_.native_handle();
  int handled = 0;
  while (handled < kMaxPerWakeup && socket_.is_open()) {
    for (int i = 0; i < kBatch; ++i) {
      msghdr& h = headers_[i].msg_hdr;
      h.msg_name = &senders_[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &iovecs_[i];
      h.msg_iovlen = 1;
      h.msg_control = controls_[i].data();
      h.msg_controllen = kControlBytes;
      h.msg_flags = 0;
    }
    const int n = ::recvmmsg(fd, headers_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n <= 0) break;
    for (int i = 0; i < n && socket_.is_open(); ++i) {
      const msghdr& h = headers_[i].msg_hdr;
      AnyIpDatagram d;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
           c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          in_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          d.local = address_of(info.ipi_addr);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          in6_pktinfo info;
          std::memcpy(&info, CMSG_DATA(c), sizeof info);
          d.local = address_of(info.ipi6_addr);
        }
      }
      d.sender = endpoint_of(senders_[i]);
      d.truncated = (h.msg_flags & MSG_TRUNC) != 0;
      d.data = std::span<const uint8_t>(static_cast<const uint8_t*>(iovecs_[i].iov_base),
                                        std::min<size_t>(headers_[i].msg_len, kSlotBytes));
      ++stats_.datagrams_in;
      on_datagram_(d);
    }
    handled += n;
    if (n < kBatch) break;
  }
  if (!socket_.is_open()) return;
  if (handled >= kMaxPerWakeup) {
    // More may be queued: yield to other handlers, then read on.
    asio::post(socket_.get_executor(), lifetime_.guard([this] {
      if (socket_.is_open()) on_readable();
    }));
    return;
  }
  wait_readable();
}

bool AnyIpUdpSocket::send_from(const asio::ip::address& source, const udp::endpoint& peer,
                               std::span<const uint8_t> bytes) {
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) uint8_t control[kControlBytes] = {};
  msghdr h{};
  h.msg_name = const_cast<sockaddr*>(peer.data());
  h.msg_namelen = static_cast<socklen_t>(peer.size());
  h.msg_iov = &iov;
  h.msg_iovlen = 1;
  h.msg_control = control;
  cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
  if (v6_) {
    in6_pktinfo info{};
    const auto b = source.to_v6().to_bytes();
    std::memcpy(&info.ipi6_addr, b.data(), 16);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    h.msg_controllen = CMSG_SPACE(sizeof info);
  } else {
    in_pktinfo info{};
    const auto b = source.to_v4().to_bytes();
    std::memcpy(&info.ipi_spec_dst, b.data(), 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof info);
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    h.msg_controllen = CMSG_SPACE(sizeof info);
  }
  if (::sendmsg(socket_.native_handle(), &h, MSG_DONTWAIT) < 0) {
    ++stats_.send_errors;
    return false;
  }
  ++stats_.datagrams_out;
  return true;
}

}  // namespace fogm2m::io
