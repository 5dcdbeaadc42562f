// A Bus on Redis pub/sub through io::RedisClient: on one server, PUBLISH on
// the node's command connection and SUBSCRIBE on a connection of its own
// (Redis' protocol reserves a subscribed connection for pub/sub); on a Redis
// Cluster, sharded pub/sub (SPUBLISH to the channel's master, SSUBSCRIBE
// there), so a message stays within one shard instead of being broadcast to
// every node of the cluster.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>

#include "bus/bus.h"
#include "io/lifetime.h"
#include "io/redis_client.h"

namespace fogm2m::bus {

class RedisBus final : public Bus {
 public:
  // `redis` must outlive the bus; subscriptions survive its reconnections.
  explicit RedisBus(io::RedisClient& redis) : redis_(redis) {}
  // One server through two links (both must outlive the bus).
  RedisBus(io::RedisLink& commands, io::RedisLink& subscriber)
      : owned_(std::make_unique<io::SingleRedis>(commands, &subscriber)), redis_(*owned_) {}

  void publish(std::string_view channel, std::string message) override;
  void subscribe(std::vector<std::string> channels, MessageHandler handler,
                 std::function<void(Status)> ready) override;

  // While the command link is down (single server), messages are held (at most kHeld, for
  // at most kHeldFor: a reply is of no use after its requester gave up) and
  // published, in order, once it is back: by the next publish, or by this
  // call (the node makes it when Redis returns). Returns how many went out.
  size_t publish_held();
  size_t held() const { return held_.size(); }
  uint64_t dropped() const { return dropped_; }  // held too long or too many

  static constexpr size_t kHeld = 20'000;
  static constexpr std::chrono::seconds kHeldFor{5};

 private:
  struct Held {
    std::chrono::steady_clock::time_point at;
    std::string channel, message;
  };
  void send(std::string_view channel, std::string_view message);

  std::unique_ptr<io::RedisClient> owned_;  // when built from two links
  io::RedisClient& redis_;
  bool dispatching_ = false;
  std::deque<Held> held_;
  uint64_t dropped_ = 0;
  std::map<std::string, std::shared_ptr<MessageHandler>, std::less<>> handlers_;  // by channel
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
