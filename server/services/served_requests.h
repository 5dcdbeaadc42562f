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
// Memory: a ticket, its reply text and about 100 bytes of bookkeeping each.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
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
  Seen admit(const std::string& ticket, const std::string** reply, Clock::time_point now);
  Seen admit(const std::string& ticket, const std::string** reply) {
    return admit(ticket, reply, Clock::now());
  }

  // The final reply to `ticket`, kept for its repeats (copied). A ticket
  // not admitted, or gone meanwhile, is not kept.
  void answered(const std::string& ticket, const std::string& reply);

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
  std::unordered_map<std::string, Entry> by_ticket_;
  // Admission order; each names its map entry's key (stable: an
  // unordered_map never moves its elements).
  std::deque<std::pair<Clock::time_point, const std::string*>> order_;
  uint64_t repeats_ = 0;
};

}  // namespace fogm2m::server
