// The bus requests this node served lately, by ticket, with their final
// replies: a requester repeats its requests after a bus loss
// (bus/loss_resender.h), and a repeat must neither reach the device a
// second time nor go unanswered.
//
// A ticket is kept from admit() for `keep_for` (longer than any requester
// waits for a reply), and at most `max_kept` tickets are kept: past that,
// the oldest go first, so under a very high request rate the window
// shrinks (at 20,000 requests/s and the default 100,000 tickets, to 5 s).
// A repeat arriving after its ticket went is served as a new request.
//
// Tickets are kept by a 64-bit hash (a collision between two tickets within
// the window would answer one with the other's reply: with 100,000 kept,
// about one chance in 10^9 per request). Memory: the reply text and about
// 80 bytes of bookkeeping per ticket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fogm2m::server {

class ServedRequests {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ServedRequests(std::chrono::milliseconds keep_for = std::chrono::seconds(10),
                          size_t max_kept = 100'000)
      : keep_for_(keep_for), max_kept_(max_kept) {}

  enum class Seen {
    kNew,         // first time: now remembered as being served
    kInProgress,  // a repeat of a request still being served
    kAnswered,    // a repeat of an answered request: *reply is its reply
  };
  // Looks `ticket` up, remembering it when new. `*reply` (for kAnswered)
  // stays valid until the next call.
  Seen admit(std::string_view ticket, const std::string** reply, Clock::time_point now);
  Seen admit(std::string_view ticket, const std::string** reply) {
    return admit(ticket, reply, Clock::now());
  }

  // The final reply to `ticket`, kept for its repeats (copied). A ticket
  // not admitted, or gone meanwhile, is not kept.
  void answered(std::string_view ticket, const std::string& reply) {
    answered(key_of(ticket), reply);
  }
  // The same by key_of(ticket), for callers that keep the key.
  void answered(uint64_t key, const std::string& reply);
  static uint64_t key_of(std::string_view ticket) { return std::hash<std::string_view>{}(ticket); }

  size_t kept() const { return by_ticket_.size(); }
  uint64_t repeats() const { return repeats_; }

 private:
  struct Entry {
    std::string reply;
    bool answered = false;
  };
  void expire(Clock::time_point now);

  std::chrono::milliseconds keep_for_;
  size_t max_kept_;
  std::unordered_map<uint64_t, Entry> by_ticket_;             // by key_of(ticket)
  std::deque<std::pair<Clock::time_point, uint64_t>> order_;  // admission order
  uint64_t repeats_ = 0;
};

}  // namespace fogm2m::server
