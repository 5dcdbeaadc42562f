// Which nodes of the cluster died or fell silent, as a requester sees it.
// Requests in flight at such a node would wait for its answer until their
// timeout: a node that dies never answers, and one cut off from Redis for a
// while (a partition, a pause) loses what was published to it meanwhile
// (pub/sub keeps nothing). A requester that hears of either publishes its
// requests in flight again (bus/loss_resender.h), and the nodes answer
// them: the owner if it is back, the node that took the device over, or
// the fallback node with an error for a dead owner's device
// (server/services/request_router.h). Never silence.
//
// The live view is the nodes' own rule: a node is alive while its last
// heartbeat in store::keys::kNodes is younger than `liveness`. It is read
// every `period`, with the heartbeats:
//   - died:     a node in the previous view and not in this one (or gone
//               by a drain: its requests are answered elsewhere the same);
//   - returned: a node alive in both whose heartbeat moved on by more than
//               `gap` since the previous read: it beat again after a
//               silence its links may not have survived.
// A failed read leaves the view as it was.
//
// Single-threaded: every call and callback on the link's io_context thread.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "io/lifetime.h"
#include "io/redis_client.h"
#include "io/unix_clock.h"

namespace fogm2m::bus {

struct NodeWatchOptions {
  std::chrono::milliseconds period{1000};
  std::chrono::milliseconds liveness{3500};  // server::RedisMembership's default
  std::chrono::milliseconds gap{2500};       // a heartbeat silence that counts
  io::UnixClock clock = io::system_unix_ms;  // the heartbeats' clock
};

class NodeWatch {
 public:
  enum class Event { kDied, kReturned };
  using OnEvent = std::function<void(const std::string& node_id, Event event)>;

  // `redis` (a command link) must outlive the watch.
  NodeWatch(io::RedisClient& redis, OnEvent on_event, NodeWatchOptions options = {});

  // Reads the view now, then every period, until the watch is destroyed.
  void start();

  // Live nodes and their last heartbeats (Unix ms), as last read.
  const std::map<std::string, int64_t, std::less<>>& alive() const { return alive_; }
  uint64_t deaths() const { return deaths_; }
  uint64_t returns() const { return returns_; }

 private:
  void read_view();
  void arm();

  io::RedisClient& redis_;
  OnEvent on_event_;
  NodeWatchOptions options_;
  std::map<std::string, int64_t, std::less<>> alive_;
  bool reading_ = false;
  uint64_t deaths_ = 0, returns_ = 0;
  boost::asio::steady_timer timer_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
