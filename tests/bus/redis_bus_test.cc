// RedisBus over a real redis-server that is killed and restarted: what the
// node publishes while Redis is away (replies, notifications) is held and
// goes out, in order, once the link is back.
#include "bus/redis_bus.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "io/redis_link.h"
#include "tests/support/bus_peer.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace fogm2m::bus {
namespace {

using namespace std::chrono_literals;

TEST(RedisBus, WhatIsPublishedWhileRedisIsAwayGoesOutWhenItIsBack) {
  auto started = test::RedisServer::start();
  ASSERT_TRUE(started) << started.error().message;
  test::RedisServer& server = **started;
  boost::asio::io_context io;
  auto options = io::RedisLinkOptions::at(server.host(), server.port());
  options.initial_backoff = 20ms;
  options.max_backoff = 100ms;
  io::RedisLink commands(io, options), subscriber(io, options);
  int up = 0;
  commands.start([&](Status s) { up += s.ok(); });
  subscriber.start([&](Status s) { up += s.ok(); });
  ASSERT_TRUE(test::run_until(io, [&] { return up == 2; }));
  RedisBus bus(commands, subscriber);

  std::vector<std::string> heard;
  test::BusPeer listener(io);
  ASSERT_TRUE(listener.start(server.host(), server.port(), {"ch"},
                             [&](std::string_view, std::string_view m) { heard.emplace_back(m); }));
  bus.publish("ch", "before");
  ASSERT_TRUE(test::run_until(io, [&] { return heard.size() == 1; }));

  server.kill();
  ASSERT_TRUE(test::run_until(io, [&] { return !commands.up(); }));
  for (const char* m : {"held-1", "held-2", "held-3"}) bus.publish("ch", m);
  EXPECT_EQ(bus.held(), 3u);

  ASSERT_TRUE(server.restart());
  // The listener's subscription is made again on the new server too (its
  // link counts as up once the subscription is confirmed; it may be in its
  // reconnection back-off for up to 2 s).
  ASSERT_TRUE(test::run_until(
      io, [&] { return commands.up() && listener.subscriber().up(); }, 5s));
  EXPECT_EQ(bus.publish_held(), 3u);
  EXPECT_EQ(bus.held(), 0u);
  bus.publish("ch", "after");
  ASSERT_TRUE(test::run_until(io, [&] { return heard.size() == 5; }));
  EXPECT_EQ(heard, (std::vector<std::string>{"before", "held-1", "held-2", "held-3", "after"}));
  EXPECT_EQ(bus.dropped(), 0u);
}

}  // namespace
}  // namespace fogm2m::bus
