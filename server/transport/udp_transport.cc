#include "server/transport/udp_transport.h"

#include <fmt/format.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "io/timer_wheel.h"
#include "lwm2m/coap_reliability.h"

namespace fogm2m::server {

namespace {

using boost::asio::ip::udp;
using Clock = std::chrono::steady_clock;
using lwm2m::CoapMessage;
using lwm2m::CoapType;

// Datagrams read per wakeup before yielding to other handlers, and per
// recvmmsg call. Each datagram of a call is received into its own slot of
// 64 KiB, as two pieces: the first kHeadBytes into a dense head area shared
// by all slots, the rest into the slot's own tail. Small datagrams (nearly
// all CoAP messages) thus touch only the head area's pages; the tails'
// pages stay untouched, hence not resident, until a large datagram comes.
constexpr int kMaxBatch = 64;
constexpr int kRecvBatch = 32;
constexpr size_t kSlotBytes = 65536;
constexpr size_t kHeadBytes = 2048;
constexpr size_t kTailBytes = kSlotBytes - kHeadBytes;

// ---------------------------------------------------------------------------
// Peer keys: the source address as 16 IPv6 bytes (IPv4 as ::ffff:a.b.c.d),
// the port and the IPv6 scope, read straight from the sockaddr.

struct PeerKey {
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
  uint32_t scope = 0;
  friend bool operator==(const PeerKey&, const PeerKey&) = default;
};

struct PeerKeyHash {
  size_t operator()(const PeerKey& k) const {
    uint64_t a, b;
    std::memcpy(&a, k.addr.data(), 8);
    std::memcpy(&b, k.addr.data() + 8, 8);
    uint64_t h = a * 0x9E3779B97F4A7C15ULL ^
                 (b + (uint64_t{k.port} << 32 | k.scope)) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return static_cast<size_t>(h);
  }
};

PeerKey key_of(const udp::endpoint& ep) {
  PeerKey k;
  const sockaddr* sa = ep.data();
  if (sa->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, sa, sizeof(in));
    k.addr[10] = k.addr[11] = 0xff;
    std::memcpy(k.addr.data() + 12, &in.sin_addr, 4);
    k.port = ntohs(in.sin_port);
  } else {
    sockaddr_in6 in6;
    std::memcpy(&in6, sa, sizeof(in6));
    std::memcpy(k.addr.data(), &in6.sin6_addr, 16);
    k.port = ntohs(in6.sin6_port);
    k.scope = in6.sin6_scope_id;
  }
  return k;
}

// The address as PeerInfo shows it: IPv4-mapped IPv6 as plain IPv4.
std::string address_string(const boost::asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()).to_string();
  }
  return a.to_string();
}

using lwm2m::empty_coap_message;

// A vector of T with a free list; ids carry a generation so a stale id
// (answered, expired) never reaches a reused slot. T needs `generation` and
// `live` members.
template <class T>
class Slab {
 public:
  uint64_t alloc() {
    uint32_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<uint32_t>(items_.size());
      items_.emplace_back();
    }
    items_[index].live = true;
    ++live_;
    return uint64_t{index} << 32 | items_[index].generation;
  }
  T* get(uint64_t id) {
    const auto index = static_cast<uint32_t>(id >> 32);
    if (index >= items_.size()) return nullptr;
    T& t = items_[index];
    return t.live && t.generation == static_cast<uint32_t>(id) ? &t : nullptr;
  }
  void release(uint64_t id) {
    const auto index = static_cast<uint32_t>(id >> 32);
    uint32_t generation = items_[index].generation + 1;
    items_[index] = T{};  // frees strings and callbacks now
    items_[index].generation = generation;
    free_.push_back(index);
    --live_;
  }
  template <class F>
  void for_each_live(F&& f) {
    for (uint32_t i = 0; i < items_.size(); ++i) {
      if (items_[i].live) f(uint64_t{i} << 32 | items_[i].generation, items_[i]);
    }
  }
  void clear() {
    // Keep generations so ids handed out before stay stale.
    for (uint32_t i = 0; i < items_.size(); ++i) {
      if (items_[i].live) release(uint64_t{i} << 32 | items_[i].generation);
    }
  }
  size_t live() const { return live_; }

 private:
  std::vector<T> items_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------
// State.

class UdpTransport::Impl : public std::enable_shared_from_this<UdpTransport::Impl> {
 public:
  Impl(boost::asio::io_context& io, UdpTransportOptions options);

  Status start();
  uint16_t local_port() const;
  int receive_buffer_bytes() const;
  // SO_RCVBUF/SO_SNDBUF, forced past the sysctl caps where the process may
  // (CAP_NET_ADMIN); a burst of notifications while the node is descheduled
  // must not overflow the default ~200 KB (a few hundred datagrams).
  void set_buffer_sizes(int bytes);
  void set_handlers(Handlers handlers) { handlers_ = std::move(handlers); }
  void send_request(const PeerInfo& peer, CoapMessage request, std::chrono::milliseconds timeout,
                    ResponseHandler done);
  void readdress(const PeerInfo& from, const PeerInfo& to);
  void stop();
  UdpTransportStats stats() const;

 private:
  // Invariant: a Peer stays in peers_ while any of fifo_refs, pending, pins
  // or outstanding is non-zero, so the Peer* held by FifoRef, PendingAnswer
  // and Outgoing never dangle (unordered_map nodes do not move). Code that
  // calls out to a handler re-checks stopped_ afterwards and touches nothing
  // once it is set.

  // What is kept of a received CON/NON message id: its sequence number in
  // the FIFO and the bytes we answered it with (empty: no answer yet, or none
  // due; duplicates are then dropped).
  struct DedupEntry {
    uint64_t seq = 0;
    std::string answer;
  };

  struct Peer {
    PeerKey key;
    udp::endpoint endpoint;
    PeerInfo info;
    uint16_t next_mid = 0;
    uint32_t fifo_refs = 0;  // entries of fifo_ naming this peer
    uint32_t pending = 0;    // requests of this peer awaiting their Responder
    uint32_t pins = 0;       // held by a running dispatch
    // Received message ids, ascending seq, up to the per-peer cap.
    lwm2m::RecentMessageIds<DedupEntry> recent;
    std::vector<uint64_t> outstanding;  // ids in outgoing_
  };

  // One remembered message id, in expiry order. seq 0: one of our own ids
  // (kept from reuse), else the DedupEntry with that seq.
  struct FifoRef {
    Peer* peer;
    uint64_t seq;
    Clock::time_point expires;
  };

  // A received request awaiting its Responder.
  struct PendingAnswer {
    uint32_t generation = 0;
    bool live = false;
    bool con = false;
    bool empty_ack_sent = false;
    uint16_t mid = 0;
    Peer* peer = nullptr;
    uint64_t dedup_seq = 0;
    Clock::time_point received;
    std::string token;
    io::TimerWheel::TimerId timer;
  };

  // A CON we sent: a request (done != null) or a separate response.
  struct Outgoing {
    uint32_t generation = 0;
    bool live = false;
    bool is_request = false;
    bool acked = false;  // an empty ACK came: no more retransmissions
    uint16_t mid = 0;
    Peer* peer = nullptr;
    std::string token;
    std::string bytes;
    ResponseHandler done;
    Clock::time_point started;
    Clock::time_point deadline;
    Clock::time_point next_retransmit;
    lwm2m::ConRetransmission retransmission;
    io::TimerWheel::TimerId timer;
  };

  // Counts nested entries from the event loop; state dropped by a stop()
  // inside a handler is released when the outermost entry returns.
  class Dispatch {
   public:
    explicit Dispatch(Impl& impl) : impl_(impl) { ++impl_.depth_; }
    ~Dispatch() {
      if (--impl_.depth_ == 0 && impl_.stopped_) impl_.release_state();
    }
    Dispatch(const Dispatch&) = delete;
    Dispatch& operator=(const Dispatch&) = delete;

   private:
    Impl& impl_;
  };

  // Receiving.
  void wait_readable();
  void on_readable(const boost::system::error_code& ec);
  void handle_datagram(std::span<const uint8_t> data);
  void handle_malformed(std::span<const uint8_t> data, const Error& error);
  void handle_ack_or_rst(Peer& p, const CoapMessage& msg);
  void handle_request(Peer& p, const CoapMessage& msg, uint64_t seq);
  void handle_response(Peer& p, CoapMessage& msg, uint64_t seq);

  // Answering.
  void respond(uint64_t id, CoapMessage response);
  void on_pending_timer(uint64_t id);
  void release_pending(uint64_t id);

  // Our CONs.
  void on_outgoing_timer(uint64_t id);
  void schedule_outgoing(uint64_t id, Outgoing& o);
  void complete(uint64_t id, Result<CoapMessage> result);
  void drop_outgoing(uint64_t id);
  uint64_t find_outgoing_by_mid(Peer& p, uint16_t mid);
  void resend_with_fresh_mid(uint64_t id, Outgoing& o, Peer& p);
  lwm2m::ConRetransmission new_retransmission();
  Result<udp::endpoint> endpoint_for(const lwm2m::PeerAddress& peer) const;

  // Peers and remembered message ids.
  Peer& peer_for(const PeerKey& key, const udp::endpoint& ep);
  DedupEntry* find_dedup_seq(Peer& p, uint64_t seq);
  uint64_t add_dedup(Peer& p, uint16_t mid);
  void remember(Peer& p, uint64_t seq);
  void pop_fifo();
  void expire_fifo();
  void maybe_forget(Peer& p);
  void unpin(Peer& p) {
    --p.pins;
    maybe_forget(p);
  }

  // Sending and timers.
  bool send_bytes(const udp::endpoint& to, const void* data, size_t size);
  bool send_string(const udp::endpoint& to, const std::string& bytes) {
    return send_bytes(to, bytes.data(), bytes.size());
  }
  void arm_timer();
  void on_timer(const boost::system::error_code& ec, uint64_t generation);
  void release_state();
  bool should_log();
  void log(const char* what, const std::string& detail);

  boost::asio::io_context& io_;
  UdpTransportOptions options_;
  Handlers handlers_;
  udp::socket socket_;
  bool v6_socket_ = false;
  bool started_ = false;
  bool stopped_ = false;
  int depth_ = 0;

  boost::asio::steady_timer timer_;
  io::TimerWheel wheel_;
  bool timer_armed_ = false;
  Clock::time_point armed_at_;
  uint64_t timer_generation_ = 0;
  Clock::time_point now_;

  std::mt19937_64 rng_;
  std::unordered_map<PeerKey, Peer, PeerKeyHash> peers_;
  std::deque<FifoRef> fifo_;
  io::TimerWheel::TimerId fifo_timer_;
  uint64_t seq_ = 0;
  size_t dedup_live_ = 0;
  Slab<PendingAnswer> pending_;
  Slab<Outgoing> outgoing_;

  UdpTransportStats stats_;
  Clock::time_point next_log_;
  uint64_t suppressed_logs_ = 0;

  boost::system::error_code last_send_error_;
  udp::endpoint sender_;  // of the datagram being handled
  // recvmmsg batch: the slots' heads and tails, their senders and headers,
  // and where a large datagram is put back together.
  std::unique_ptr<uint8_t[]> heads_;
  std::unique_ptr<uint8_t[]> tails_;
  std::unique_ptr<uint8_t[]> whole_;
  std::array<udp::endpoint, kRecvBatch> senders_;
  std::array<std::array<iovec, 2>, kRecvBatch> iovecs_{};
  std::array<mmsghdr, kRecvBatch> headers_{};
  std::array<uint8_t, 1> peek_{};  // wait_readable's peek
};

UdpTransport::Impl::Impl(boost::asio::io_context& io, UdpTransportOptions options)
    : io_(io),
      options_(std::move(options)),
      socket_(io),
      timer_(io),
      wheel_(Clock::now()),
      now_(Clock::now()),
      rng_(options_.seed != 0 ? options_.seed
                              : (uint64_t{std::random_device{}()} << 32 | std::random_device{}())),
      // Left uninitialised, so pages stay untouched until used.
      heads_(new uint8_t[kRecvBatch * kHeadBytes]),
      tails_(new uint8_t[kRecvBatch * kTailBytes]),
      whole_(new uint8_t[kSlotBytes]) {
  options_.max_dedup_entries = std::max<size_t>(options_.max_dedup_entries, 1);
  options_.max_dedup_entries_per_peer = std::max<size_t>(options_.max_dedup_entries_per_peer, 1);
  options_.transmission.ack_random_factor = std::max(options_.transmission.ack_random_factor, 1.0);
  // The recvmmsg slots point at the same buffers for the transport's life;
  // a call only rewrites the sender lengths and datagram sizes.
  for (int i = 0; i < kRecvBatch; ++i) {
    iovecs_[i][0].iov_base = heads_.get() + static_cast<size_t>(i) * kHeadBytes;
    iovecs_[i][0].iov_len = kHeadBytes;
    iovecs_[i][1].iov_base = tails_.get() + static_cast<size_t>(i) * kTailBytes;
    iovecs_[i][1].iov_len = kTailBytes;
    headers_[i].msg_hdr.msg_name = senders_[i].data();
    headers_[i].msg_hdr.msg_iov = iovecs_[i].data();
    headers_[i].msg_hdr.msg_iovlen = 2;
  }
}

// ---------------------------------------------------------------------------
// Start, stop, stats.

Status UdpTransport::Impl::start() {
  if (started_ || stopped_) return make_error(ErrorKind::kIo, "UDP transport: already started");
  boost::system::error_code ec;
  std::string host = options_.bind_address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    return make_error(ErrorKind::kInvalidArgument,
                      "UDP transport: bad bind address '" + options_.bind_address + "'");
  }
  const udp::endpoint local(address, options_.port);
  if (socket_.open(local.protocol(), ec)) {
    return make_error(ErrorKind::kIo, "UDP transport: socket: " + ec.message());
  }
  v6_socket_ = address.is_v6();
  if (v6_socket_ && address.is_unspecified())
    socket_.set_option(boost::asio::ip::v6_only(false), ec);
  if (options_.socket_buffer_bytes > 0) set_buffer_sizes(options_.socket_buffer_bytes);
  if (socket_.bind(local, ec)) {
    socket_.close();
    return make_error(ErrorKind::kIo, "UDP transport: bind " + local.address().to_string() +
                                          " port " + std::to_string(options_.port) + ": " +
                                          ec.message());
  }
  socket_.non_blocking(true, ec);
  started_ = true;
  wait_readable();
  return {};
}

void UdpTransport::Impl::set_buffer_sizes(int bytes) {
  const int fd = socket_.native_handle();
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  const int got = receive_buffer_bytes();
  if (got < bytes)
    spdlog::warn(
        "UDP receive buffer is {} bytes, {} asked: raise net.core.rmem_max or grant CAP_NET_ADMIN",
        got, bytes);
}

int UdpTransport::Impl::receive_buffer_bytes() const {
  if (!socket_.is_open()) return 0;
  udp::socket::receive_buffer_size size;
  boost::system::error_code ec;
  socket_.get_option(size, ec);
  return ec ? 0 : size.value();
}

uint16_t UdpTransport::Impl::local_port() const {
  if (!socket_.is_open()) return 0;
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void UdpTransport::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  timer_.cancel();
  ++timer_generation_;
  std::vector<ResponseHandler> dones;
  outgoing_.for_each_live([&](uint64_t, Outgoing& o) {
    if (o.is_request && o.done) dones.push_back(std::move(o.done));
  });
  if (depth_ == 0) release_state();
  for (auto& done : dones) done(make_error(ErrorKind::kIo, "UDP transport stopped"));
}

void UdpTransport::Impl::release_state() {
  wheel_.clear();
  fifo_timer_ = {};
  fifo_.clear();
  pending_.clear();
  outgoing_.clear();
  peers_.clear();
  dedup_live_ = 0;
}

UdpTransportStats UdpTransport::Impl::stats() const {
  UdpTransportStats s = stats_;
  s.peers = peers_.size();
  s.dedup_entries = dedup_live_;
  s.outstanding = outgoing_.live();
  s.pending_answers = pending_.live();
  s.timers = wheel_.size();
  return s;
}

// At most one debug line per second for what peers can trigger at will
// (malformed input, send errors); the rest are counted. True when the caller
// should build and log its line now.
bool UdpTransport::Impl::should_log() {
  if (!spdlog::should_log(spdlog::level::debug)) return false;
  if (now_ < next_log_) {
    ++suppressed_logs_;
    return false;
  }
  next_log_ = now_ + std::chrono::seconds(1);
  return true;
}

void UdpTransport::Impl::log(const char* what, const std::string& detail) {
  spdlog::debug("udp transport: {}: {} ({} similar lines suppressed)", what, detail,
                suppressed_logs_);
  suppressed_logs_ = 0;
}

// ---------------------------------------------------------------------------
// Receiving.
//
// We wait for readability and then read with non-blocking recvmmsg, up to
// kRecvBatch datagrams per call, until the socket is drained (or kMaxBatch
// datagrams, then we yield and go on in a posted handler). Waiting again only
// once drained is what makes the wait (a peek, below) safe on Asio's
// edge-triggered epoll:
// a datagram arriving after the drain raises a new edge, and with one thread
// running the io_context nobody else can consume that edge before our wait
// is queued. A call returning fewer datagrams than asked means its last
// receive hit EAGAIN, i.e. drained: recvmmsg stops early only on EAGAIN or
// on an error, and this unconnected socket without IP_RECVERR gets no
// asynchronous (ICMP) errors. Per wakeup: one epoll_wait and one recvmmsg
// per kRecvBatch datagrams (plus one returning EAGAIN when the last call was
// full).

void UdpTransport::Impl::wait_readable() {
  // A one-byte MSG_PEEK receive rather than async_wait: Asio tries a receive
  // at once and, the socket being drained, queues it without a syscall more,
  // where an async_wait re-arms epoll (epoll_ctl) on every wakeup. The
  // datagram stays queued for recvmmsg.
  socket_.async_receive(boost::asio::buffer(peek_, 1), udp::socket::message_peek,
                        [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                          // An error (a pending ICMP error) is the socket's to report:
                          // recvmmsg reads it. Only cancellation ends the loop.
                          self->on_readable(ec == boost::asio::error::operation_aborted
                                                ? ec
                                                : boost::system::error_code());
                        });
}

void UdpTransport::Impl::on_readable(const boost::system::error_code& ec) {
  if (ec || stopped_) return;
  Dispatch dispatch(*this);
  ++stats_.wakeups;
  now_ = Clock::now();
  const int fd = socket_.native_handle();
  int received = 0;
  while (received < kMaxBatch) {
    const int want = std::min(kRecvBatch, kMaxBatch - received);
    for (int i = 0; i < want; ++i) {
      headers_[i].msg_hdr.msg_namelen = static_cast<socklen_t>(senders_[i].capacity());
      headers_[i].msg_len = 0;
    }
    const int n =
        ::recvmmsg(fd, headers_.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      // A pending socket error (e.g. ECONNREFUSED): nothing to read. It is
      // reported once; read on.
      if (should_log()) log("receive", std::strerror(errno));
      ++received;  // bounds the loop should errors repeat
      continue;
    }
    for (int i = 0; i < n; ++i) {
      senders_[i].resize(headers_[i].msg_hdr.msg_namelen);
      sender_ = senders_[i];
      const size_t size = headers_[i].msg_len;
      const auto* head = static_cast<const uint8_t*>(iovecs_[i][0].iov_base);
      if (size <= kHeadBytes) {
        handle_datagram(std::span<const uint8_t>(head, size));
      } else {
        // A large datagram: its two pieces made contiguous again.
        std::memcpy(whole_.get(), head, kHeadBytes);
        std::memcpy(whole_.get() + kHeadBytes, iovecs_[i][1].iov_base, size - kHeadBytes);
        handle_datagram(std::span<const uint8_t>(whole_.get(), size));
      }
      if (stopped_) return;
    }
    received += n;
    if (n < want) break;  // drained
  }
  if (received >= kMaxBatch) {
    boost::asio::post(io_, [self = shared_from_this()] { self->on_readable({}); });
  } else {
    wait_readable();
  }
  arm_timer();
}

void UdpTransport::Impl::handle_datagram(std::span<const uint8_t> data) {
  ++stats_.datagrams_in;
  stats_.bytes_in += data.size();
  auto decoded = lwm2m::decode_coap(data);
  if (!decoded) {
    handle_malformed(data, decoded.error());
    return;
  }
  CoapMessage& msg = *decoded;
  const PeerKey key = key_of(sender_);

  if (msg.type == CoapType::kAck || msg.type == CoapType::kRst) {
    auto it = peers_.find(key);
    if (it != peers_.end()) handle_ack_or_rst(it->second, msg);
    return;  // nothing of ours to match: ignore
  }
  const bool con = msg.type == CoapType::kCon;
  if (msg.is_empty()) {
    // CoAP ping (empty CON): answer RST. An empty NON is meaningless: ignore.
    if (con) {
      const auto rst = empty_coap_message(CoapType::kRst, msg.message_id);
      send_bytes(sender_, rst.data(), rst.size());
    }
    return;
  }
  const int cls = lwm2m::code_class(msg.code);
  const bool request = cls == 0;
  if (!request && cls != 2 && cls != 4 && cls != 5) {
    // Reserved code class: a message format error.
    ++stats_.malformed;
    if (should_log()) log("reserved code", lwm2m::to_debug_string(msg));
    if (con) {
      const auto rst = empty_coap_message(CoapType::kRst, msg.message_id);
      send_bytes(sender_, rst.data(), rst.size());
    }
    return;
  }

  Peer& p = peer_for(key, sender_);
  if (DedupEntry* d = p.recent.find(msg.message_id, now_)) {
    ++stats_.duplicates;
    if (!d->answer.empty()) send_string(p.endpoint, d->answer);
    return;
  }
  const uint64_t seq = add_dedup(p, msg.message_id);
  ++p.pins;
  if (request) {
    handle_request(p, msg, seq);
  } else {
    handle_response(p, msg, seq);
  }
  if (stopped_) return;
  unpin(p);
}

void UdpTransport::Impl::handle_malformed(std::span<const uint8_t> data, const Error& error) {
  ++stats_.malformed;
  const udp::endpoint from = sender_;
  if (should_log()) {
    log("malformed datagram",
        address_string(from.address()) + ":" + std::to_string(from.port()) + ": " + error.message);
  }
  // A readable header of a CON: reject it (RFC 7252 4.2). Anything else is
  // silently dropped.
  if (const auto mid = lwm2m::rejectable_con_id(data)) {
    const auto rst = empty_coap_message(CoapType::kRst, *mid);
    send_bytes(from, rst.data(), rst.size());
  }
}

void UdpTransport::Impl::handle_ack_or_rst(Peer& p, const CoapMessage& msg) {
  const uint64_t id = find_outgoing_by_mid(p, msg.message_id);
  Outgoing* o = outgoing_.get(id);
  if (o == nullptr) return;  // late or unknown: ignore
  if (msg.type == CoapType::kRst) {
    ++stats_.resets_in;
    if (o->is_request) {
      complete(id, make_error(ErrorKind::kIo, "reset by peer " + p.info.address.to_string()));
    } else {
      drop_outgoing(id);  // the device rejected our separate response
    }
    return;
  }
  if (!o->is_request) {
    drop_outgoing(id);  // separate response delivered
    return;
  }
  if (!msg.is_empty() && msg.is_response() && msg.token == o->token) {
    ++stats_.responses_in;
    complete(id, msg);  // piggy-backed response
    return;
  }
  if (!msg.is_empty() && msg.is_response() && !o->acked) {
    // A response for another token under our message id: the peer answered
    // from its duplicate cache, for an older exchange that used this id
    // (another node behind the same virtual address, or this one before a
    // restart). Our request never reached its handler: send it again under
    // a fresh id.
    ++stats_.mid_collisions;
    return resend_with_fresh_mid(id, *o, p);
  }
  // Empty ACK (or one whose token does not match): stop retransmitting, keep
  // waiting for the separate response until the deadline.
  o->acked = true;
  schedule_outgoing(id, *o);
}

void UdpTransport::Impl::resend_with_fresh_mid(uint64_t id, Outgoing& o, Peer& p) {
  o.mid = p.next_mid++;
  o.bytes[2] = static_cast<char>(o.mid >> 8);  // the header's message id, big-endian
  o.bytes[3] = static_cast<char>(o.mid & 0xff);
  o.retransmission = new_retransmission();
  o.next_retransmit = now_ + o.retransmission.timeout();
  send_string(p.endpoint, o.bytes);
  schedule_outgoing(id, o);
}

void UdpTransport::Impl::handle_request(Peer& p, const CoapMessage& msg, uint64_t seq) {
  ++stats_.requests_in;
  const uint64_t id = pending_.alloc();
  PendingAnswer& a = *pending_.get(id);
  a.con = msg.type == CoapType::kCon;
  a.mid = msg.message_id;
  a.peer = &p;
  a.dedup_seq = seq;
  a.received = now_;
  a.token = msg.token;
  ++p.pending;

  Responder respond = [weak = weak_from_this(), id](CoapMessage response) {
    if (auto self = weak.lock()) self->respond(id, std::move(response));
  };
  if (handlers_.on_request) {
    handlers_.on_request(p.info, msg, std::move(respond));
  } else {
    CoapMessage r;
    r.code = lwm2m::coap_code(lwm2m::CoapCode::kNotImplemented);
    respond(std::move(r));
  }
  if (stopped_) return;
  if (PendingAnswer* still = pending_.get(id)) {
    // Not answered yet: a CON gets its empty ACK at separate_response_after,
    // anything else is given up after the exchange lifetime.
    const auto when = still->con ? still->received + options_.separate_response_after
                                 : still->received + options_.transmission.exchange_lifetime;
    still->timer = wheel_.schedule(when, [this, id] { on_pending_timer(id); });
  }
}

void UdpTransport::Impl::handle_response(Peer& p, CoapMessage& msg, uint64_t seq) {
  const bool con = msg.type == CoapType::kCon;
  for (uint64_t id : p.outstanding) {
    Outgoing* o = outgoing_.get(id);
    if (o == nullptr || !o->is_request || o->token != msg.token) continue;
    // A separate response (CON or NON) to our request.
    ++stats_.responses_in;
    if (con) {
      const auto ack = empty_coap_message(CoapType::kAck, msg.message_id);
      send_bytes(p.endpoint, ack.data(), ack.size());
      if (DedupEntry* d = find_dedup_seq(p, seq)) d->answer.assign(ack.begin(), ack.end());
    }
    complete(id, std::move(msg));
    return;
  }
  ++stats_.notifications_in;
  const bool keep = handlers_.on_notification && handlers_.on_notification(p.info, msg);
  if (stopped_) return;
  if (!keep || con) {
    const auto answer = empty_coap_message(keep ? CoapType::kAck : CoapType::kRst, msg.message_id);
    send_bytes(p.endpoint, answer.data(), answer.size());
    if (DedupEntry* d = find_dedup_seq(p, seq)) d->answer.assign(answer.begin(), answer.end());
  }
}

// ---------------------------------------------------------------------------
// Answering requests.

void UdpTransport::Impl::respond(uint64_t id, CoapMessage response) {
  if (stopped_) return;
  PendingAnswer* a = pending_.get(id);
  if (a == nullptr) return;  // answered before, or given up
  Dispatch dispatch(*this);
  if (depth_ == 1) now_ = Clock::now();  // else fresh from the running handler
  Peer& p = *a->peer;
  response.token = a->token;
  const bool separate = a->con && a->empty_ack_sent;
  if (a->con && !separate) {
    response.type = CoapType::kAck;
    response.message_id = a->mid;
  } else {
    response.type = separate ? CoapType::kCon : CoapType::kNon;
    response.message_id = p.next_mid++;
  }
  auto bytes = lwm2m::encode_coap(response);
  if (!bytes) {
    spdlog::warn("udp transport: cannot encode the answer to {}: {}; sending 5.00",
                 p.info.address.to_string(), bytes.error().message);
    CoapMessage fallback;
    fallback.type = response.type;
    fallback.code = lwm2m::coap_code(lwm2m::CoapCode::kInternalServerError);
    fallback.message_id = response.message_id;
    fallback.token = response.token;
    bytes = lwm2m::encode_coap(fallback);
  }
  const uint64_t seq = a->dedup_seq;
  ++p.pins;
  release_pending(id);  // `a` is gone from here on
  send_string(p.endpoint, *bytes);
  if (separate) {
    // Retransmitted until ACKed; the dedup entry keeps the empty ACK.
    ++stats_.separate_responses;
    const uint64_t oid = outgoing_.alloc();
    Outgoing& o = *outgoing_.get(oid);
    o.is_request = false;
    o.mid = response.message_id;
    o.peer = &p;
    o.token = response.token;
    o.bytes = std::move(*bytes);
    o.started = now_;
    o.deadline = Clock::time_point::max();
    o.retransmission = new_retransmission();
    o.next_retransmit = now_ + o.retransmission.timeout();
    p.outstanding.push_back(oid);
    schedule_outgoing(oid, o);
    remember(p, 0);
  } else {
    if (response.type == CoapType::kNon) remember(p, 0);  // it used one of our ids
    if (DedupEntry* d = find_dedup_seq(p, seq)) d->answer = std::move(*bytes);
  }
  unpin(p);
  arm_timer();
}

void UdpTransport::Impl::on_pending_timer(uint64_t id) {
  if (stopped_) return;
  PendingAnswer* a = pending_.get(id);
  if (a == nullptr) return;
  if (a->con && !a->empty_ack_sent) {
    // The answer is late: ACK now so the device stops retransmitting; the
    // answer will go as a separate response.
    a->empty_ack_sent = true;
    Peer& p = *a->peer;
    const auto ack = empty_coap_message(CoapType::kAck, a->mid);
    send_bytes(p.endpoint, ack.data(), ack.size());
    if (DedupEntry* d = find_dedup_seq(p, a->dedup_seq)) d->answer.assign(ack.begin(), ack.end());
    a->timer = wheel_.schedule(a->received + options_.transmission.exchange_lifetime,
                               [this, id] { on_pending_timer(id); });
    return;
  }
  release_pending(id);  // nobody answered within the exchange lifetime
}

void UdpTransport::Impl::release_pending(uint64_t id) {
  PendingAnswer* a = pending_.get(id);
  Peer& p = *a->peer;
  wheel_.cancel(a->timer);
  pending_.release(id);
  --p.pending;
  maybe_forget(p);
}

// ---------------------------------------------------------------------------
// Our requests and separate responses.

void UdpTransport::Impl::send_request(const PeerInfo& peer, CoapMessage request,
                                      std::chrono::milliseconds timeout, ResponseHandler done) {
  // Errors are posted: `done` never runs inside send_request.
  auto fail = [this](ResponseHandler handler, ErrorKind kind, std::string message) {
    boost::asio::post(
        io_, [handler = std::move(handler), e = make_error(kind, std::move(message))]() mutable {
          if (handler) handler(std::move(e));
        });
  };
  if (!started_ || stopped_)
    return fail(std::move(done), ErrorKind::kIo, "UDP transport not running");
  auto endpoint = endpoint_for(peer.address);
  if (!endpoint) return fail(std::move(done), endpoint.error().kind, endpoint.error().message);
  const udp::endpoint ep = *endpoint;

  Dispatch dispatch(*this);
  if (depth_ == 1) now_ = Clock::now();  // else fresh from the running handler
  Peer& p = peer_for(key_of(ep), ep);
  request.type = CoapType::kCon;
  request.message_id = p.next_mid;
  auto bytes = lwm2m::encode_coap(request);
  if (!bytes) {
    maybe_forget(p);
    return fail(std::move(done), bytes.error().kind, bytes.error().message);
  }
  ++p.next_mid;
  const uint64_t id = outgoing_.alloc();
  Outgoing& o = *outgoing_.get(id);
  o.is_request = true;
  o.mid = request.message_id;
  o.peer = &p;
  o.token = std::move(request.token);
  o.bytes = std::move(*bytes);
  o.done = std::move(done);
  o.started = now_;
  // Clamped so the deadline arithmetic cannot overflow.
  o.deadline = now_ + std::clamp(timeout, std::chrono::milliseconds(0),
                                 std::chrono::milliseconds(std::chrono::hours(24 * 365)));
  o.retransmission = new_retransmission();
  o.next_retransmit = now_ + o.retransmission.timeout();
  p.outstanding.push_back(id);
  remember(p, 0);
  if (!send_string(ep, o.bytes) && last_send_error_ != boost::asio::error::would_block &&
      last_send_error_ != boost::asio::error::try_again) {
    // Unsendable (unreachable, wrong family...): fail now. A full socket
    // buffer is left to the retransmissions.
    ResponseHandler handler = std::move(o.done);
    drop_outgoing(id);
    return fail(std::move(handler), ErrorKind::kIo,
                "cannot send to " + peer.address.to_string() + ": " + last_send_error_.message());
  }
  schedule_outgoing(id, o);
  arm_timer();
}

// The socket's endpoint for a peer address: kInvalidArgument when it does
// not parse, kIo when it is of the other family than the socket.
Result<udp::endpoint> UdpTransport::Impl::endpoint_for(const lwm2m::PeerAddress& peer) const {
  std::string host = peer.address;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return make_error(ErrorKind::kInvalidArgument, "bad peer address '" + peer.address + "'");
  if (address.is_v4() && v6_socket_) {
    address = boost::asio::ip::make_address_v6(boost::asio::ip::v4_mapped, address.to_v4());
  } else if (address.is_v6() && !v6_socket_) {
    if (!address.to_v6().is_v4_mapped())
      return make_error(ErrorKind::kIo, "IPv6 peer " + peer.to_string() + " on an IPv4 socket");
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  return udp::endpoint(address, peer.port);
}

void UdpTransport::Impl::readdress(const PeerInfo& from, const PeerInfo& to) {
  if (!started_ || stopped_) return;
  auto old_endpoint = endpoint_for(from.address);
  auto new_endpoint = endpoint_for(to.address);
  if (!old_endpoint || !new_endpoint || *old_endpoint == *new_endpoint) return;
  auto it = peers_.find(key_of(*old_endpoint));
  if (it == peers_.end()) return;
  Dispatch dispatch(*this);
  if (depth_ == 1) now_ = Clock::now();
  Peer& old_peer = it->second;
  ++old_peer.pins;
  Peer& new_peer = peer_for(key_of(*new_endpoint), *new_endpoint);
  std::erase_if(old_peer.outstanding, [&](uint64_t id) {
    Outgoing* o = outgoing_.get(id);
    if (o == nullptr || !o->is_request) return false;  // separate responses stay
    o->peer = &new_peer;
    new_peer.outstanding.push_back(id);
    ++stats_.readdressed;
    send_string(new_peer.endpoint, o->bytes);
    return true;
  });
  unpin(old_peer);
  maybe_forget(new_peer);
}

lwm2m::ConRetransmission UdpTransport::Impl::new_retransmission() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return lwm2m::ConRetransmission(options_.transmission, unit(rng_));
}

void UdpTransport::Impl::schedule_outgoing(uint64_t id, Outgoing& o) {
  wheel_.cancel(o.timer);
  const auto when = o.acked ? o.deadline : std::min(o.next_retransmit, o.deadline);
  o.timer = wheel_.schedule(when, [this, id] { on_outgoing_timer(id); });
}

void UdpTransport::Impl::on_outgoing_timer(uint64_t id) {
  if (stopped_) return;
  Outgoing* o = outgoing_.get(id);
  if (o == nullptr) return;
  if (now_ >= o->deadline) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(o->deadline - o->started).count();
    ++stats_.timeouts;
    complete(id,
             make_error(ErrorKind::kTimeout, "no response within " + std::to_string(ms) + " ms"));
    return;
  }
  if (!o->acked && now_ >= o->next_retransmit) {
    if (!o->retransmission.next()) {
      // RFC 7252 4.2: the last retransmission's timeout passed unacknowledged.
      if (o->is_request) {
        const auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now_ - o->started).count();
        ++stats_.timeouts;
        complete(id, make_error(ErrorKind::kTimeout,
                                "no response within " + std::to_string(ms) + " ms (" +
                                    std::to_string(o->retransmission.retransmits()) +
                                    " retransmissions)"));
      } else {
        drop_outgoing(id);
      }
      return;
    }
    ++stats_.retransmissions;
    send_string(o->peer->endpoint, o->bytes);
    o->next_retransmit = now_ + o->retransmission.timeout();
  }
  schedule_outgoing(id, *o);
}

uint64_t UdpTransport::Impl::find_outgoing_by_mid(Peer& p, uint16_t mid) {
  for (uint64_t id : p.outstanding) {
    Outgoing* o = outgoing_.get(id);
    if (o != nullptr && o->mid == mid) return id;
  }
  return ~uint64_t{0};
}

void UdpTransport::Impl::drop_outgoing(uint64_t id) {
  Outgoing* o = outgoing_.get(id);
  Peer& p = *o->peer;
  wheel_.cancel(o->timer);
  outgoing_.release(id);
  auto it = std::find(p.outstanding.begin(), p.outstanding.end(), id);
  if (it != p.outstanding.end()) {
    *it = p.outstanding.back();
    p.outstanding.pop_back();
  }
  maybe_forget(p);
}

// Ends an outgoing request: state first, then its handler (which may do
// anything, including stop()).
void UdpTransport::Impl::complete(uint64_t id, Result<CoapMessage> result) {
  ResponseHandler done = std::move(outgoing_.get(id)->done);
  drop_outgoing(id);
  if (done) done(std::move(result));
}

// ---------------------------------------------------------------------------
// Peers and remembered message ids.

UdpTransport::Impl::Peer& UdpTransport::Impl::peer_for(const PeerKey& key,
                                                       const udp::endpoint& ep) {
  auto [it, inserted] = peers_.try_emplace(key);
  Peer& p = it->second;
  if (inserted) {
    p.key = key;
    p.endpoint = ep;
    p.info.address.address = address_string(ep.address());
    p.info.address.port = ep.port();
    p.next_mid = static_cast<uint16_t>(rng_());
    p.recent = lwm2m::RecentMessageIds<DedupEntry>(options_.max_dedup_entries_per_peer);
  }
  return p;
}

UdpTransport::Impl::DedupEntry* UdpTransport::Impl::find_dedup_seq(Peer& p, uint64_t seq) {
  return p.recent.find_if([seq](const DedupEntry& d) { return d.seq == seq; });
}

uint64_t UdpTransport::Impl::add_dedup(Peer& p, uint16_t mid) {
  bool evicted = false;
  DedupEntry& d = p.recent.remember(mid, now_ + options_.transmission.exchange_lifetime, &evicted);
  if (evicted) {  // its FifoRef goes stale
    ++stats_.dedup_evictions;
    --dedup_live_;
  }
  d.seq = ++seq_;
  ++dedup_live_;
  remember(p, d.seq);
  return d.seq;
}

// Keeps `p` (and with seq != 0 its dedup entry) for the exchange lifetime.
void UdpTransport::Impl::remember(Peer& p, uint64_t seq) {
  fifo_.push_back(FifoRef{&p, seq, now_ + options_.transmission.exchange_lifetime});
  ++p.fifo_refs;
  while (fifo_.size() > options_.max_dedup_entries) {
    if (fifo_.front().seq != 0) ++stats_.dedup_evictions;
    pop_fifo();
  }
  if (!wheel_.pending(fifo_timer_)) {
    fifo_timer_ = wheel_.schedule(fifo_.front().expires, [this] { expire_fifo(); });
  }
}

void UdpTransport::Impl::pop_fifo() {
  const FifoRef ref = fifo_.front();
  fifo_.pop_front();
  Peer& p = *ref.peer;
  --p.fifo_refs;
  if (ref.seq != 0 && !p.recent.empty() && p.recent.oldest().seq == ref.seq) {
    p.recent.pop_oldest();
    --dedup_live_;
  }
  maybe_forget(p);
}

void UdpTransport::Impl::expire_fifo() {
  if (stopped_) return;
  while (!fifo_.empty() && fifo_.front().expires <= now_) pop_fifo();
  if (!fifo_.empty())
    fifo_timer_ = wheel_.schedule(fifo_.front().expires, [this] { expire_fifo(); });
}

void UdpTransport::Impl::maybe_forget(Peer& p) {
  if (p.fifo_refs == 0 && p.pending == 0 && p.pins == 0 && p.outstanding.empty())
    peers_.erase(p.key);
}

// ---------------------------------------------------------------------------
// Sending and the timer.

bool UdpTransport::Impl::send_bytes(const udp::endpoint& to, const void* data, size_t size) {
  boost::system::error_code ec;
  socket_.send_to(boost::asio::buffer(data, size), to, 0, ec);
  if (ec) {
    last_send_error_ = ec;
    ++stats_.send_errors;
    if (should_log()) {
      log("send", to.address().to_string() + ":" + std::to_string(to.port()) + ": " + ec.message());
    }
    return false;
  }
  ++stats_.datagrams_out;
  stats_.bytes_out += size;
  return true;
}

// Keeps the asio timer armed for the wheel's next wake-up. Re-arming only
// when the wake-up moves earlier keeps this free of cancellations in the
// common case (new deadlines are later than the armed one).
void UdpTransport::Impl::arm_timer() {
  if (stopped_) return;
  const auto next = wheel_.next_wakeup();
  if (!next || (timer_armed_ && *next >= armed_at_)) return;
  timer_armed_ = true;
  armed_at_ = *next;
  timer_.expires_at(*next);
  timer_.async_wait([self = shared_from_this(), generation = ++timer_generation_](
                        const boost::system::error_code& ec) { self->on_timer(ec, generation); });
}

void UdpTransport::Impl::on_timer(const boost::system::error_code& ec, uint64_t generation) {
  if (ec || stopped_ || generation != timer_generation_) return;  // superseded or stopped
  Dispatch dispatch(*this);
  timer_armed_ = false;
  now_ = Clock::now();
  wheel_.run_until(now_);
  arm_timer();
}

// ---------------------------------------------------------------------------
// Public face.

UdpTransport::UdpTransport(boost::asio::io_context& io, UdpTransportOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

UdpTransport::~UdpTransport() {
  impl_->stop();
}

Status UdpTransport::start() {
  return impl_->start();
}
uint16_t UdpTransport::local_port() const {
  return impl_->local_port();
}
int UdpTransport::receive_buffer_bytes() const {
  return impl_->receive_buffer_bytes();
}
void UdpTransport::set_handlers(Handlers handlers) {
  impl_->set_handlers(std::move(handlers));
}
void UdpTransport::send_request(const PeerInfo& peer, CoapMessage request,
                                std::chrono::milliseconds timeout, ResponseHandler done) {
  impl_->send_request(peer, std::move(request), timeout, std::move(done));
}
void UdpTransport::readdress(const PeerInfo& from, const PeerInfo& to) {
  impl_->readdress(from, to);
}
void UdpTransport::stop() {
  impl_->stop();
}
UdpTransportStats UdpTransport::stats() const {
  return impl_->stats();
}

std::string UdpTransportStats::to_string() const {
  return fmt::format(
      "in={}/{}B out={}/{}B wakeups={} malformed={} dup={} retx={} timeouts={} send_errors={} "
      "requests={} "
      "responses={} notifications={} resets={} separate={} evictions={} mid_collisions={} "
      "peers={} dedup={} outstanding={} pending={} timers={}",
      datagrams_in, bytes_in, datagrams_out, bytes_out, wakeups, malformed, duplicates,
      retransmissions, timeouts, send_errors, requests_in, responses_in, notifications_in,
      resets_in, separate_responses, dedup_evictions, mid_collisions, peers, dedup_entries,
      outstanding, pending_answers, timers);
}

}  // namespace fogm2m::server
