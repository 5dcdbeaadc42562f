// What a requester does about the requests a bus loss may have swallowed.
//
// Redis pub/sub keeps nothing. When Redis dies or restarts, a request
// published into it just before, or the reply a node published before the
// requester had subscribed again, is gone; so is a request published after
// the requester's links came back but before a node had subscribed again.
// The requester would wait in vain until its timeout. So around a loss the
// requester publishes its requests again until a node confirms each (an
// ack or a final reply), or the request ends (its final reply, its
// timeout).
//
// Repeating a request is safe for writes and executes too: a node serves a
// ticket once (server/services/served_requests.h). A repeat of a request it
// is still serving is acked again; one it has answered gets the same reply
// again; the device is asked once.
//
// Use:
//   - lost(in_flight) when a link of the requester goes down, with the
//     tickets it waits for: they become unconfirmed;
//   - recovered() when its links are up again (subscriptions made): the
//     unconfirmed tickets go to `resend` at once, then each again when
//     `interval` has passed since it last went out, until confirmed(ticket)
//     or forget(ticket). For `settle` after a recovery, requests published
//     anew (sent(ticket)) are tracked the same way: the nodes' links may
//     come back later than the requester's;
//   - sent(ticket) after publishing a request (a no-op outside a loss and
//     its settle time);
//   - confirmed(ticket) on its ack, forget(ticket) when it ends;
//   - retry(in_flight) when a node died or came back from a silence
//     (bus/node_watch.h): they go out
//     again at once (or at the next recovery while the bus is down), and
//     every interval until confirmed.
// Outside a loss and its settle time nothing is tracked: the normal path
// costs a flag test per request and an empty-map test per reply.
//
// Single-threaded: everything on the io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/lifetime.h"

namespace fogm2m::bus {

struct LossResenderOptions {
  std::chrono::milliseconds interval{250};  // between repeats of one request
  std::chrono::milliseconds settle{3000};   // after a recovery: new requests tracked too
};

class LossResender {
 public:
  using Clock = std::chrono::steady_clock;
  // Publishes the request of `ticket` again (the caller keeps its text).
  using Resend = std::function<void(const std::string& ticket)>;

  LossResender(boost::asio::io_context& io, Resend resend, LossResenderOptions options = {})
      : resend_(std::move(resend)), options_(options), timer_(io), settle_timer_(io) {}

  void lost(const std::vector<std::string>& in_flight);
  void recovered();
  void retry(const std::vector<std::string>& in_flight);
  void sent(const std::string& ticket) {
    if (watching_) unconfirmed_.emplace(ticket, Clock::now());
    arm();
  }
  void confirmed(const std::string& ticket) {
    if (!unconfirmed_.empty()) unconfirmed_.erase(ticket);
  }
  void forget(const std::string& ticket) { confirmed(ticket); }

  size_t unconfirmed() const { return unconfirmed_.size(); }
  // Between lost() and recovered().
  bool down() const { return down_; }
  // Publishes made again, in all.
  uint64_t resent() const { return resent_; }

 private:
  void resend_round();
  void arm();
  void track(const std::vector<std::string>& tickets);

  Resend resend_;
  LossResenderOptions options_;
  // Unconfirmed tickets, by when each last went out (the epoch: never
  // since the loss, so at once).
  std::unordered_map<std::string, Clock::time_point> unconfirmed_;
  bool down_ = false;
  bool watching_ = false;  // down, or within settle of the recovery
  bool armed_ = false;
  uint64_t settle_generation_ = 0;
  uint64_t resent_ = 0;
  boost::asio::steady_timer timer_, settle_timer_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
