#include "emulated_clients/udp_device.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <string_view>

#include "emulated_clients/callback_chain.h"
#include "emulated_clients/splitmix.h"

namespace fogm2m::emulated {

namespace asio = boost::asio;
using asio::ip::udp;
using lwm2m::CoapMessage;
using lwm2m::CoapType;

UdpDevice::UdpDevice(asio::io_context& io, udp::endpoint server, Device device,
                     UdpDeviceOptions options)
    : io_(io),
      server_(server),
      device_(std::move(device)),
      options_(std::move(options)),
      socket_(io),
      timer_(io,
             [this](TimePoint now) {
               if (running_) service(now);
             }),
      watch_(io, options_.on_registration_state),
      rng_(options_.seed != 0 ? options_.seed : device_.seed() ^ 0xC0A9C0A9C0A9ull),
      next_message_id_(static_cast<uint16_t>(splitmix64(rng_))),
      cache_(options_.duplicate_cache_size) {}

UdpDevice::~UdpDevice() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

udp::endpoint UdpDevice::local_endpoint() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? udp::endpoint() : ep;
}

Status UdpDevice::start() {
  if (running_) return make_error(ErrorKind::kInvalidArgument, "UdpDevice already running");
  const udp protocol = server_.protocol();
  asio::ip::address bind = options_.bind_address.value_or(
      protocol == udp::v6() ? asio::ip::address(asio::ip::address_v6::any())
                            : asio::ip::address(asio::ip::address_v4::any()));
  boost::system::error_code ec;
  socket_.open(protocol, ec);
  if (!ec) socket_.bind(udp::endpoint(bind, options_.bind_port), ec);
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return make_error(ErrorKind::kIo, "UdpDevice " + device_.endpoint() + ": " + ec.message());
  }
  running_ = true;
  stopping_ = false;
  const TimePoint now = Clock::now();
  device_.start(now, options_.register_on_start);
  do_receive();
  service(now);
  return {};
}

void UdpDevice::stop(std::function<void()> on_stopped) {
  if (!running_) {
    if (on_stopped) asio::post(io_, std::move(on_stopped));
    return;
  }
  append_callback(on_stopped_, std::move(on_stopped));  // stop() again while stopping: call both
  if (stopping_) return;
  stopping_ = true;
  const TimePoint now = Clock::now();
  // The observations end with the registration; so do their retransmissions.
  std::erase_if(exchanges_, [](const Exchange& e) { return e.notification; });
  outgoing_.clear();
  if (auto dereg = device_.deregister(now)) {
    outgoing_.push_back(std::move(*dereg));
    send_all(outgoing_, now);
    report_state();
    arm_timer();
  } else {
    finish_stop();
  }
}

void UdpDevice::report_state() {
  watch_.report(device_.registration_state());
}

void UdpDevice::finish_stop() {
  report_state();
  running_ = false;
  stopping_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  exchanges_.clear();
  cache_.clear();
  observers_.clear();
  if (on_stopped_) asio::post(io_, std::exchange(on_stopped_, nullptr));
}

// ---- Receiving --------------------------------------------------------------------

void UdpDevice::do_receive() {
  socket_.async_receive_from(
      asio::buffer(rx_), sender_,
      lifetime_.guard([this](const boost::system::error_code& ec, size_t size) {
        if (!running_ || !socket_.is_open()) return;
        if (ec == asio::error::operation_aborted) return;
        if (!ec) on_datagram(size, Clock::now());
        if (running_) do_receive();
      }));
}

void UdpDevice::on_datagram(size_t size, TimePoint now) {
  ++stats_.datagrams_in;
  const std::string_view data(rx_.data(), size);
  auto msg = lwm2m::decode_coap(data);
  if (!msg) {
    ++stats_.malformed;
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(rx_.data()), size);
    if (const auto mid = lwm2m::rejectable_con_id(bytes)) send_empty(CoapType::kRst, *mid, sender_);
    return;
  }
  switch (msg->type) {
    case CoapType::kAck:
      on_ack(*msg, now);
      break;
    case CoapType::kRst:
      on_reset(*msg, now);
      break;
    case CoapType::kCon:
    case CoapType::kNon:
      if (msg->is_empty()) {
        if (msg->type == CoapType::kCon) send_empty(CoapType::kRst, msg->message_id, sender_);
      } else if (msg->is_request()) {
        on_request(*msg, now);
      } else if (msg->is_response()) {
        on_separate_response(*msg, now);
      }
      break;
  }
  if (running_) service(now);
}

void UdpDevice::on_request(const CoapMessage& msg, TimePoint now) {
  if (const CachedResponse* c = cache_.find(
          msg.message_id, now, [&](const CachedResponse& r) { return r.peer == sender_; })) {
    ++stats_.duplicates;
    send_bytes(c->bytes, sender_);
    return;
  }
  CoapMessage resp = device_.handle_request(msg, now);
  if (resp.type == CoapType::kNon) resp.message_id = next_message_id_++;
  auto bytes = lwm2m::encode_coap(resp);
  if (!bytes) return;  // cannot happen: the token came in at most 8 bytes long
  send_bytes(*bytes, sender_);
  if (options_.duplicate_cache_size > 0)
    cache_.remember(msg.message_id, now + options_.transmission.exchange_lifetime) =
        CachedResponse{sender_, std::move(*bytes)};
  if (resp.code == lwm2m::coap_code(lwm2m::CoapCode::kContent) &&
      resp.has_option(lwm2m::coap_option::kObserve)) {
    auto it = std::find_if(observers_.begin(), observers_.end(),
                           [&](const Observer& o) { return o.token == msg.token; });
    if (it != observers_.end())
      it->peer = sender_;
    else
      observers_.push_back(Observer{msg.token, sender_});
  }
}

void UdpDevice::on_ack(const CoapMessage& msg, TimePoint now) {
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return e.message_id == msg.message_id && e.peer == sender_;
  });
  if (it == exchanges_.end()) return;  // a duplicate or late ACK
  if (msg.is_empty()) {
    if (it->notification) {
      exchanges_.erase(it);
    } else {
      it->acked = true;
      it->next = now + options_.separate_response_timeout;
    }
    return;
  }
  if (msg.token != it->token) return;  // not an answer to this exchange
  exchanges_.erase(it);
  device_.handle_response(msg, now);
}

void UdpDevice::on_reset(const CoapMessage& msg, TimePoint now) {
  ++stats_.resets_in;
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return e.message_id == msg.message_id && e.peer == sender_;
  });
  if (it != exchanges_.end()) {
    const std::string token = std::move(it->token);
    exchanges_.erase(it);
    device_.on_reset(token, now);
    return;
  }
  for (RecentNon& r : recent_non_) {
    if (r.message_id == msg.message_id && !r.token.empty()) {
      const std::string token = std::exchange(r.token, std::string());
      device_.on_reset(token, now);
      return;
    }
  }
}

void UdpDevice::on_separate_response(const CoapMessage& msg, TimePoint now) {
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return !e.notification && e.token == msg.token;
  });
  if (it == exchanges_.end()) {
    if (msg.type == CoapType::kCon) send_empty(CoapType::kRst, msg.message_id, sender_);
    return;
  }
  if (msg.type == CoapType::kCon) send_empty(CoapType::kAck, msg.message_id, sender_);
  exchanges_.erase(it);
  device_.handle_response(msg, now);
}

// ---- Sending and time ---------------------------------------------------------------

lwm2m::ConRetransmission UdpDevice::new_retransmission() {
  return lwm2m::ConRetransmission(options_.transmission, uniform01(rng_));
}

void UdpDevice::send_bytes(const std::string& bytes, const udp::endpoint& peer) {
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(bytes), peer, 0, ec);
  if (!ec) ++stats_.datagrams_out;
}

void UdpDevice::send_empty(CoapType type, uint16_t message_id, const udp::endpoint& peer) {
  const auto bytes = lwm2m::empty_coap_message(type, message_id);
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(bytes), peer, 0, ec);
  if (!ec) ++stats_.datagrams_out;
}

void UdpDevice::send_all(std::vector<CoapMessage>& messages, TimePoint now) {
  for (CoapMessage& m : messages) {
    m.message_id = next_message_id_++;
    const bool notification = m.is_response();
    udp::endpoint peer = server_;
    if (notification) {
      auto it = std::find_if(observers_.begin(), observers_.end(),
                             [&](const Observer& o) { return o.token == m.token; });
      if (it != observers_.end()) peer = it->peer;
    }
    auto bytes = lwm2m::encode_coap(m);
    if (!bytes) continue;
    if (m.type == CoapType::kCon) {
      if (notification)
        std::erase_if(exchanges_,
                      [&](const Exchange& e) { return e.notification && e.token == m.token; });
      Exchange e;
      e.message_id = m.message_id;
      e.notification = notification;
      e.token = m.token;
      e.bytes = *bytes;
      e.peer = peer;
      e.retransmission = new_retransmission();
      e.next = now + e.retransmission.timeout();
      exchanges_.push_back(std::move(e));
    } else if (notification) {
      recent_non_[recent_non_next_++ % recent_non_.size()] = RecentNon{m.message_id, m.token};
    }
    send_bytes(*bytes, peer);
  }
  messages.clear();
}

void UdpDevice::retransmit_due(TimePoint now) {
  std::vector<std::string> given_up;
  for (size_t i = 0; i < exchanges_.size();) {
    Exchange& e = exchanges_[i];
    if (e.next > now) {
      ++i;
      continue;
    }
    if (!e.acked && e.retransmission.next()) {
      ++stats_.retransmissions;
      e.next = now + e.retransmission.timeout();
      send_bytes(e.bytes, e.peer);
      ++i;
      continue;
    }
    ++stats_.timeouts;
    given_up.push_back(std::move(e.token));
    exchanges_.erase(exchanges_.begin() + static_cast<ptrdiff_t>(i));
  }
  for (const std::string& token : given_up) device_.on_timeout(token, now);
}

// Everything time-driven: retransmissions, the device's tick, the end of a
// stop, then the timer for whatever comes next.
void UdpDevice::service(TimePoint now) {
  retransmit_due(now);
  if (!stopping_ && device_.next_deadline() <= now) {
    device_.tick(now, outgoing_);
    send_all(outgoing_, now);
  }
  std::erase_if(observers_, [&](const Observer& o) { return !device_.has_observation(o.token); });
  report_state();
  if (stopping_ && device_.registration_state() != RegistrationState::kDeregistering) {
    finish_stop();
    return;
  }
  arm_timer();
}

void UdpDevice::arm_timer() {
  TimePoint due = stopping_ ? TimePoint::max() : device_.next_deadline();
  for (const Exchange& e : exchanges_) due = std::min(due, e.next);
  timer_.arm(due);
}

}  // namespace fogm2m::emulated
