// A Bus on Redis pub/sub: PUBLISH on the node's command connection,
// SUBSCRIBE on a connection of its own (Redis' protocol reserves a
// subscribed connection for pub/sub).
#pragma once

#include <map>
#include <memory>

#include "bus/bus.h"
#include "io/lifetime.h"
#include "io/redis_asio.h"

namespace fogm2m::bus {

class RedisBus final : public Bus {
 public:
  // Both connections must be connected (or connecting) and outlive the bus.
  RedisBus(io::RedisConnection& commands, io::RedisConnection& subscriber)
      : commands_(commands), subscriber_(subscriber) {}

  void publish(std::string_view channel, std::string message) override;
  void subscribe(std::vector<std::string> channels, MessageHandler handler,
                 std::function<void(Status)> ready) override;

  // Publishes that failed (connection lost or refused).
  size_t failed_publishes() const { return failed_; }

 private:
  io::RedisConnection& commands_;
  io::RedisConnection& subscriber_;
  size_t failed_ = 0;
  bool dispatching_ = false;
  std::map<std::string, std::shared_ptr<MessageHandler>, std::less<>> handlers_;  // by channel
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
