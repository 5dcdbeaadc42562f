// A party on the bus for tests and benches that play a node or a client:
// the product's RedisBus on two connections of its own to a redis-server,
// with the product's channel names (bus::Channels' defaults).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bus/channels.h"
#include "bus/redis_bus.h"
#include "io/redis_link.h"
#include "tests/support/test_util.h"

namespace fogm2m::test {

class BusPeer {
 public:
  explicit BusPeer(boost::asio::io_context& io) : io_(io) {}

  // Connects to the redis-server at host:port and subscribes `handler` to
  // `channels`, running the io_context until both are done; false when
  // either failed or took longer than ten seconds.
  bool start(const std::string& host, uint16_t port, std::vector<std::string> channels,
             bus::Bus::MessageHandler handler) {
    io::RedisLinkOptions options;
    options.host = host;
    options.port = port;
    commands_ = std::make_unique<io::RedisLink>(io_, options);
    subscriber_ = std::make_unique<io::RedisLink>(io_, options);
    bus_ = std::make_unique<bus::RedisBus>(*commands_, *subscriber_);
    int connected = 0;
    bool failed = false;
    auto on_connect = [&](Status s) {
      ++connected;
      failed = failed || !s.ok();
    };
    commands_->start(on_connect);
    subscriber_->start(on_connect);
    if (!run_until(io_, [&] { return connected == 2; }) || failed) return false;
    bool subscribed = false;
    bus_->subscribe(std::move(channels), std::move(handler), [&](Status s) {
      subscribed = true;
      failed = !s.ok();
    });
    return run_until(io_, [&] { return subscribed; }) && !failed;
  }

  void publish(std::string_view channel, std::string message) {
    bus_->publish(channel, std::move(message));
  }

  const bus::Channels& channels() const { return channels_; }
  // The connection publishes go out on, for other commands (INFO, ...).
  io::RedisLink& commands() { return *commands_; }
  // Up once every subscription is confirmed on its current connection.
  io::RedisLink& subscriber() { return *subscriber_; }

 private:
  boost::asio::io_context& io_;
  const bus::Channels channels_;
  std::unique_ptr<io::RedisLink> commands_, subscriber_;
  std::unique_ptr<bus::RedisBus> bus_;
};

}  // namespace fogm2m::test
