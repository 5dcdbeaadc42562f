// The CoAP message layer's rules (RFC 7252 section 4), shared by every CoAP
// endpoint of fogm2m: the node's UDP and DTLS transports and the emulated
// devices' UDP and DTLS endpoints. No sockets and no clock: callers pass the
// time and the randomness, so the rules are tested on their own.
//
//   CoapTransmission    the transmission parameters (4.8) and the first,
//                       jittered timeout of a confirmable message
//   ConRetransmission   the retransmission schedule of one CON (4.2): the
//                       timeout doubles with each retransmission, and after
//                       MAX_RETRANSMIT of them the sender gives up
//   RecentMessageIds    duplicate detection (4.5): the message ids a peer
//                       sent recently, with what was answered to each
//   empty_coap_message, rejectable_con_id
//                       the 4-byte empty ACK/RST, and which malformed
//                       datagrams are rejected with an RST (4.2, 4.3)
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "lwm2m/coap_message.h"

namespace fogm2m::lwm2m {

using CoapClock = std::chrono::steady_clock;

// RFC 7252 4.8 transmission parameters (the defaults are the RFC's).
struct CoapTransmission {
  std::chrono::milliseconds ack_timeout{2000};
  double ack_random_factor = 1.5;  // >= 1
  unsigned max_retransmit = 4;
  // How long a received message id is remembered for duplicate detection,
  // and one we used is kept from reuse (EXCHANGE_LIFETIME, 4.8.2).
  std::chrono::milliseconds exchange_lifetime{247000};

  // The first ACK timeout of a CON: ack_timeout * (1 + unit *
  // (ack_random_factor - 1)), `unit` uniform in [0, 1).
  CoapClock::duration initial_timeout(double unit) const;
};

// The retransmission schedule of one confirmable message. The first timeout
// is drawn once (CoapTransmission::initial_timeout); each retransmission
// doubles it (4.2). 16 bytes.
class ConRetransmission {
 public:
  ConRetransmission() = default;
  ConRetransmission(const CoapTransmission& params, double unit)
      : timeout_(params.initial_timeout(unit)),
        max_retransmit_(static_cast<uint8_t>(std::min(params.max_retransmit, 255u))) {}

  // How long to wait for the ACK of the latest transmission.
  CoapClock::duration timeout() const { return timeout_; }
  unsigned retransmits() const { return retransmits_; }

  // The latest transmission went unacknowledged for timeout(): true when the
  // message is to be sent again now (the timeout doubles), false when the
  // sender gives up (MAX_RETRANSMIT retransmissions were made).
  bool next() {
    if (retransmits_ >= max_retransmit_) return false;
    ++retransmits_;
    timeout_ *= 2;
    return true;
  }

 private:
  CoapClock::duration timeout_{};
  uint8_t retransmits_ = 0;
  uint8_t max_retransmit_ = 0;
};

// The message ids one peer sent recently (CON and NON), oldest first, each
// with an Answer (what was sent in reply, or anything else the endpoint
// keeps per exchange) and an expiry. At most `capacity` are kept: a new one
// evicts the oldest. Memory grows with use, up to the capacity; ids are
// searched in a dense array of their own, so the per-datagram lookup stays
// within a cache line or two.
template <class Answer>
class RecentMessageIds {
 public:
  explicit RecentMessageIds(size_t capacity = 8)
      : capacity_(static_cast<uint32_t>(std::max<size_t>(capacity, 1))) {}

  // The answer kept for `mid` if it is remembered and not expired at `now`,
  // and `match` accepts it (for endpoints that share one set among peers);
  // null otherwise.
  template <class Match>
  Answer* find(uint16_t mid, CoapClock::time_point now, Match match) {
    for (size_t i = 0; i < count_; ++i) {
      const size_t s = slot(i);
      if (mids_[s] == mid && now < entries_[s].expires && match(entries_[s].answer))
        return &entries_[s].answer;
    }
    return nullptr;
  }
  Answer* find(uint16_t mid, CoapClock::time_point now) {
    return find(mid, now, [](const Answer&) { return true; });
  }
  // The newest answer `match` accepts, whatever its id; null if none.
  template <class Match>
  Answer* find_if(Match match) {
    for (size_t i = count_; i-- > 0;)
      if (match(entries_[slot(i)].answer)) return &entries_[slot(i)].answer;
    return nullptr;
  }

  // Remembers `mid` until `expires`, with a default Answer to fill in.
  // Evicts the oldest entry when full, and says so in `*evicted`.
  Answer& remember(uint16_t mid, CoapClock::time_point expires, bool* evicted = nullptr) {
    if (evicted != nullptr) *evicted = count_ >= capacity_;
    if (count_ >= capacity_) pop_oldest();
    if (count_ < entries_.size()) {
      const size_t s = slot(count_);
      entries_[s] = Entry{expires, Answer{}};
      mids_[s] = mid;
      ++count_;
      return entries_[s].answer;
    }
    // Full below the capacity: grow, oldest first again.
    std::rotate(entries_.begin(), entries_.begin() + head_, entries_.end());
    std::rotate(mids_.begin(), mids_.begin() + head_, mids_.end());
    head_ = 0;
    entries_.push_back(Entry{expires, Answer{}});
    mids_.push_back(mid);
    ++count_;
    return entries_.back().answer;
  }

  // Forgets the entries expired at `now` (oldest first, so this stops at the
  // first live one when expiries ascend, as they do with a fixed lifetime).
  void forget_expired(CoapClock::time_point now) {
    while (count_ > 0 && entries_[head_].expires <= now) pop_oldest();
  }

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  Answer& oldest() { return entries_[head_].answer; }
  // Drops the oldest entry (it frees a long answer at once); the storage
  // goes when the last one does.
  void pop_oldest() {
    entries_[head_] = Entry{};
    head_ = static_cast<uint32_t>((head_ + 1) % entries_.size());
    if (--count_ == 0) clear();
  }
  void clear() {
    entries_.clear();
    mids_.clear();
    head_ = 0;
    count_ = 0;
  }

 private:
  struct Entry {
    CoapClock::time_point expires{};
    Answer answer{};
  };
  size_t slot(size_t i) const { return (head_ + i) % entries_.size(); }

  std::vector<Entry> entries_;  // a ring of count_ entries from head_
  std::vector<uint16_t> mids_;  // the entries' ids, in the same slots
  uint32_t head_ = 0;
  uint32_t count_ = 0;
  uint32_t capacity_;
};

// The 4-byte empty ACK or RST with message id `mid` (no token).
std::array<uint8_t, 4> empty_coap_message(CoapType type, uint16_t mid);

// A CON that cannot be processed is rejected with an RST (4.2): the message
// id of a datagram whose 4-byte header reads as a version-1 CON; nullopt for
// anything else, which is dropped silently (4.3).
std::optional<uint16_t> rejectable_con_id(std::span<const uint8_t> datagram);

}  // namespace fogm2m::lwm2m
