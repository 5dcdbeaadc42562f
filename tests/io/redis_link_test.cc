// RedisLink against a real redis-server that is killed, restarted and
// paused under it: the link reports each loss, refuses commands at once
// while down, comes back by itself and makes its subscriptions again.
#include "io/redis_link.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace fogm2m::io {
namespace {

using namespace std::chrono_literals;

class RedisLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = test::RedisServer::start();
    ASSERT_TRUE(started) << started.error().message;
    server = std::move(*started);
    options.host = server->host();
    options.port = server->port();
    options.initial_backoff = 20ms;
    options.max_backoff = 200ms;
    options.command_timeout = 300ms;
  }

  void start(RedisLink& link) {
    std::optional<Status> ready;
    link.start([&](Status s) { ready = s; });
    ASSERT_TRUE(test::run_until(io, [&] { return ready.has_value(); }));
    ASSERT_TRUE(ready->ok()) << ready->error().message;
  }

  Result<RedisReply> command(RedisLink& link, std::vector<std::string> argv) {
    std::optional<Result<RedisReply>> reply;
    link.command(argv, [&](Result<RedisReply> r) { reply = std::move(r); });
    EXPECT_FALSE(reply.has_value());  // never inside the call
    if (!test::run_until(io, [&] { return reply.has_value(); }))
      return make_error(ErrorKind::kTimeout, "no reply");
    return std::move(*reply);
  }

  boost::asio::io_context io;
  std::unique_ptr<test::RedisServer> server;
  RedisLinkOptions options;
};

TEST_F(RedisLinkTest, ComesBackAfterTheServerIsKilledAndRestarted) {
  RedisLink commands(io, options), subscriber(io, options);
  std::vector<bool> transitions;
  commands.set_state_handler([&](bool up, const Status&) { transitions.push_back(up); });
  std::vector<std::string> messages;
  subscriber.set_message_handler(
      [&](std::string_view, std::string_view m) { messages.emplace_back(m); });
  start(commands);
  start(subscriber);
  std::optional<Status> subscribed;
  subscriber.subscribe({"ch"}, [&](Status s) { subscribed = s; });
  ASSERT_TRUE(test::run_until(io, [&] { return subscribed.has_value(); }));
  ASSERT_TRUE(subscribed->ok());

  server->kill();
  ASSERT_TRUE(test::run_until(io, [&] { return !commands.up() && !subscriber.up(); }));
  EXPECT_EQ(transitions, std::vector<bool>{false});
  auto refused = command(commands, {"PING"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kIo);
  EXPECT_NE(refused.error().message.find("unavailable"), std::string::npos);

  ASSERT_TRUE(server->restart());
  ASSERT_TRUE(test::run_until(
      io, [&] { return commands.up() && subscriber.up(); }, 5s));
  EXPECT_EQ(transitions, (std::vector<bool>{false, true}));
  EXPECT_EQ(commands.reconnects(), 1u);
  // The subscription was made again on the new server.
  auto receivers = command(commands, {"PUBLISH", "ch", "after restart"});
  ASSERT_TRUE(receivers);
  EXPECT_EQ(receivers->integer, 1);
  ASSERT_TRUE(test::run_until(io, [&] { return !messages.empty(); }));
  EXPECT_EQ(messages.back(), "after restart");
}

// A paused server keeps its TCP connections open and answers nothing: the
// link gives up on it after command_timeout, fails what was waiting, and is
// up again once the server answers.
TEST_F(RedisLinkTest, APausedServerIsDeclaredLostAndFoundAgain) {
  RedisLink link(io, options);
  start(link);
  server->pause();
  const auto paused_at = std::chrono::steady_clock::now();
  auto stuck = command(link, {"PING"});
  ASSERT_FALSE(stuck);
  EXPECT_EQ(stuck.error().kind, ErrorKind::kIo);
  EXPECT_NE(stuck.error().message.find("no answer within 300 ms"), std::string::npos)
      << stuck.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - paused_at, 2s);
  EXPECT_FALSE(link.up());
  // Still paused: new connections are accepted by the kernel but never
  // answered, so the link stays down.
  test::run_until(
      io, [] { return false; }, 1s);
  EXPECT_FALSE(link.up());

  server->resume();
  ASSERT_TRUE(test::run_until(
      io, [&] { return link.up(); }, 5s));
  auto pong = command(link, {"PING"});
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->str, "PONG");
}

TEST_F(RedisLinkTest, AServerUnreachableAtStartIsAnErrorNotARetry) {
  server->kill();
  RedisLink link(io, options);
  std::optional<Status> ready;
  link.start([&](Status s) { ready = s; });
  ASSERT_TRUE(test::run_until(io, [&] { return ready.has_value(); }));
  ASSERT_FALSE(ready->ok());
  EXPECT_EQ(ready->error().kind, ErrorKind::kIo);
  EXPECT_FALSE(link.up());
}

// Waits grow from initial_backoff to max_backoff (with +-20% jitter), so a
// long outage costs a connection attempt per max_backoff, not a storm.
TEST_F(RedisLinkTest, RetriesBackOffUpToTheCap) {
  RedisLink link(io, options);
  start(link);
  server->kill();
  ASSERT_TRUE(test::run_until(io, [&] { return !link.up(); }));
  // 20, 40, 80, 160, 200, 200, ... ms: about 10 attempts in 2 s, where a
  // fixed 20 ms would make 100. Each attempt is a refused connection.
  const uint64_t before = link.connection_attempts();
  test::run_until(
      io, [] { return false; }, 2s);
  const uint64_t attempts = link.connection_attempts() - before;
  EXPECT_GE(attempts, 6u);
  EXPECT_LE(attempts, 16u);
  ASSERT_TRUE(server->restart());
  ASSERT_TRUE(test::run_until(
      io, [&] { return link.up(); }, 2s));
  EXPECT_EQ(link.reconnects(), 1u);
}

}  // namespace
}  // namespace fogm2m::io
