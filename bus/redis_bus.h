// A Bus on Redis pub/sub: PUBLISH on the node's command connection,
// SUBSCRIBE on a connection of its own (Redis' protocol reserves a
// subscribed connection for pub/sub).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>

#include "bus/bus.h"
#include "io/lifetime.h"
#include "io/redis_link.h"

namespace fogm2m::bus {

class RedisBus final : public Bus {
 public:
  // Both links must outlive the bus; subscriptions survive their reconnections.
  RedisBus(io::RedisLink& commands, io::RedisLink& subscriber)
      : commands_(commands), subscriber_(subscriber) {}

  void publish(std::string_view channel, std::string message) override;
  void subscribe(std::vector<std::string> channels, MessageHandler handler,
                 std::function<void(Status)> ready) override;

  // While the command link is down, messages are held (at most kHeld, for
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

  io::RedisLink& commands_;
  io::RedisLink& subscriber_;
  bool dispatching_ = false;
  std::deque<Held> held_;
  uint64_t dropped_ = 0;
  std::map<std::string, std::shared_ptr<MessageHandler>, std::less<>> handlers_;  // by channel
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
