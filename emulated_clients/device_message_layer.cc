#include "emulated_clients/device_message_layer.h"

#include <algorithm>
#include <string_view>

#include "emulated_clients/splitmix.h"

namespace fogm2m::emulated {

using boost::asio::ip::udp;
using lwm2m::CoapMessage;
using lwm2m::CoapType;

namespace {

std::span<const uint8_t> text_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

DeviceMessageLayer::DeviceMessageLayer(const DeviceMessageOptions& options, uint64_t seed)
    : options_(&options),
      rng_(seed),
      next_message_id_(static_cast<uint16_t>(splitmix64(rng_))),
      cache_(options.duplicate_cache_size) {}

void DeviceMessageLayer::drop_notification_exchanges() {
  std::erase_if(exchanges_, [](const Exchange& e) { return e.notification; });
}

void DeviceMessageLayer::reset() {
  exchanges_.clear();
  exchanges_.shrink_to_fit();
  cache_.clear();
  observers_.clear();
  observers_.shrink_to_fit();
}

// ---- Receiving --------------------------------------------------------------------

void DeviceMessageLayer::on_datagram(Device& device, std::span<const uint8_t> data,
                                     const udp::endpoint& sender, TimePoint now,
                                     DatagramSink& sink) {
  ++stats_.datagrams_in;
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  auto msg = lwm2m::decode_coap(text);
  if (!msg) {
    ++stats_.malformed;
    if (const auto mid = lwm2m::rejectable_con_id(data))
      send_empty(CoapType::kRst, *mid, sender, sink);
    return;
  }
  switch (msg->type) {
    case CoapType::kAck:
      on_ack(device, *msg, sender, now);
      break;
    case CoapType::kRst:
      on_reset(device, *msg, sender, now);
      break;
    case CoapType::kCon:
    case CoapType::kNon:
      if (msg->is_empty()) {
        if (msg->type == CoapType::kCon) send_empty(CoapType::kRst, msg->message_id, sender, sink);
      } else if (msg->is_request()) {
        on_request(device, *msg, sender, now, sink);
      } else if (msg->is_response()) {
        on_separate_response(device, *msg, sender, now, sink);
      }
      break;
  }
}

void DeviceMessageLayer::on_request(Device& device, const CoapMessage& msg,
                                    const udp::endpoint& sender, TimePoint now,
                                    DatagramSink& sink) {
  if (device.asleep(now)) {  // queue mode: the radio is off
    device.count_dropped();
    return;
  }
  if (const CachedResponse* c = cache_.find(
          msg.message_id, now, [&](const CachedResponse& r) { return r.peer == sender; })) {
    ++stats_.duplicates;
    send_bytes(text_bytes(c->bytes), sender, sink);
    return;
  }
  CoapMessage resp = device.handle_request(msg, now);
  if (resp.type == CoapType::kNon) resp.message_id = next_message_id_++;
  auto bytes = lwm2m::encode_coap(resp);
  if (!bytes) return;  // cannot happen: the token came in at most 8 bytes long
  send_bytes(text_bytes(*bytes), sender, sink);
  if (options_->duplicate_cache_size > 0)
    cache_.remember(msg.message_id, now + options_->transmission.exchange_lifetime) =
        CachedResponse{sender, std::move(*bytes)};
  if (resp.code == lwm2m::coap_code(lwm2m::CoapCode::kContent) &&
      resp.has_option(lwm2m::coap_option::kObserve)) {
    auto it = std::find_if(observers_.begin(), observers_.end(),
                           [&](const Observer& o) { return o.token == msg.token; });
    if (it != observers_.end())
      it->peer = sender;
    else
      observers_.push_back(Observer{msg.token, sender});
  }
}

void DeviceMessageLayer::on_ack(Device& device, const CoapMessage& msg, const udp::endpoint& sender,
                                TimePoint now) {
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return e.message_id == msg.message_id && e.peer == sender;
  });
  if (it == exchanges_.end()) return;  // a duplicate or late ACK
  if (msg.is_empty()) {
    if (it->notification) {
      exchanges_.erase(it);
    } else {
      it->acked = true;
      it->next = now + options_->separate_response_timeout;
    }
    return;
  }
  if (msg.token != it->token) return;  // not an answer to this exchange
  exchanges_.erase(it);
  device.handle_response(msg, now);
}

void DeviceMessageLayer::on_reset(Device& device, const CoapMessage& msg,
                                  const udp::endpoint& sender, TimePoint now) {
  ++stats_.resets_in;
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return e.message_id == msg.message_id && e.peer == sender;
  });
  if (it != exchanges_.end()) {
    const std::string token = std::move(it->token);
    exchanges_.erase(it);
    device.on_reset(token, now);
    return;
  }
  for (RecentNon& r : recent_non_) {
    if (r.message_id == msg.message_id && r.token_size > 0) {
      const std::string token(r.token_view());
      r.token_size = 0;
      device.on_reset(token, now);
      return;
    }
  }
}

void DeviceMessageLayer::on_separate_response(Device& device, const CoapMessage& msg,
                                              const udp::endpoint& sender, TimePoint now,
                                              DatagramSink& sink) {
  auto it = std::find_if(exchanges_.begin(), exchanges_.end(), [&](const Exchange& e) {
    return !e.notification && e.token == msg.token;
  });
  if (it == exchanges_.end()) {
    if (msg.type == CoapType::kCon) send_empty(CoapType::kRst, msg.message_id, sender, sink);
    return;
  }
  if (msg.type == CoapType::kCon) send_empty(CoapType::kAck, msg.message_id, sender, sink);
  exchanges_.erase(it);
  device.handle_response(msg, now);
}

// ---- Sending and time ---------------------------------------------------------------

lwm2m::ConRetransmission DeviceMessageLayer::new_retransmission() {
  return lwm2m::ConRetransmission(options_->transmission, uniform01(rng_));
}

void DeviceMessageLayer::send_bytes(std::span<const uint8_t> bytes, const udp::endpoint& peer,
                                    DatagramSink& sink) {
  if (sink.send(bytes, peer)) ++stats_.datagrams_out;
}

void DeviceMessageLayer::send_empty(CoapType type, uint16_t message_id, const udp::endpoint& peer,
                                    DatagramSink& sink) {
  const auto bytes = lwm2m::empty_coap_message(type, message_id);
  send_bytes(bytes, peer, sink);
}

void DeviceMessageLayer::send_all(std::vector<CoapMessage>& messages, TimePoint now,
                                  DatagramSink& sink) {
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
    } else if (notification && m.token.size() <= 8) {
      RecentNon& r = recent_non_[recent_non_next_++ % recent_non_.size()];
      r.message_id = m.message_id;
      r.token_size = static_cast<uint8_t>(m.token.size());
      std::copy(m.token.begin(), m.token.end(), r.token.begin());
    }
    send_bytes(text_bytes(*bytes), peer, sink);
  }
  messages.clear();
}

void DeviceMessageLayer::retransmit_due(Device& device, TimePoint now, DatagramSink& sink) {
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
      send_bytes(text_bytes(e.bytes), e.peer, sink);
      ++i;
      continue;
    }
    ++stats_.timeouts;
    given_up.push_back(std::move(e.token));
    exchanges_.erase(exchanges_.begin() + static_cast<ptrdiff_t>(i));
  }
  for (const std::string& token : given_up) device.on_timeout(token, now);
}

void DeviceMessageLayer::service(Device& device, bool stopping, TimePoint now, DatagramSink& sink) {
  retransmit_due(device, now, sink);
  if (!stopping && device.next_deadline() <= now) {
    thread_local std::vector<CoapMessage> outgoing;  // reused: no allocation per tick
    outgoing.clear();
    device.tick(now, outgoing);
    send_all(outgoing, now, sink);
  }
  std::erase_if(observers_, [&](const Observer& o) { return !device.has_observation(o.token); });
}

TimePoint DeviceMessageLayer::next_due(const Device& device, bool stopping) const {
  TimePoint due = stopping ? TimePoint::max() : device.next_deadline();
  for (const Exchange& e : exchanges_) due = std::min(due, e.next);
  return due;
}

}  // namespace fogm2m::emulated
