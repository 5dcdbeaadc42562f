// A Bus on Redis pub/sub: PUBLISH on the node's command connection,
// SUBSCRIBE on a connection of its own (Redis' protocol reserves a
// subscribed connection for pub/sub).
#pragma once

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

 private:
  io::RedisLink& commands_;
  io::RedisLink& subscriber_;
  bool dispatching_ = false;
  std::map<std::string, std::shared_ptr<MessageHandler>, std::less<>> handlers_;  // by channel
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
