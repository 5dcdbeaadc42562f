#include "io/redis_asio.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::io {
namespace {

using namespace std::chrono_literals;
using test::run_until;

class RedisAsioTest : public test::RedisServerTest {
 protected:
  void SetUp() override {
    test::RedisServerTest::SetUp();
    // Create the io_context's reactor (epoll, eventfd, timerfd) now, so the
    // descriptor counts of the tests see only the connections' sockets.
    boost::asio::posix::stream_descriptor warm_up(io_);
  }

  // Connects `conn` and runs the io_context until the connect completes.
  void connect(RedisConnection& conn) {
    std::optional<Status> result;
    conn.connect(redis_host(), redis_port(), [&](Status st) { result = std::move(st); });
    ASSERT_TRUE(run_until(io_, [&] { return result.has_value(); }));
    ASSERT_TRUE(result->ok()) << result->error().message;
    ASSERT_TRUE(conn.connected());
  }

  // Sends one command and runs until its reply arrives.
  Result<RedisReply> call(RedisConnection& conn, std::initializer_list<std::string_view> argv) {
    std::optional<Result<RedisReply>> reply;
    conn.command(argv, [&](Result<RedisReply> r) { reply = std::move(r); });
    if (!run_until(io_, [&] { return reply.has_value(); })) {
      return make_error(ErrorKind::kTimeout, "no reply");
    }
    return std::move(*reply);
  }

  // Sends a command that cannot be queued: its callback runs once, later
  // (never inside command()), with the reason. Returns that error.
  Error refused(RedisConnection& conn, std::span<const std::string_view> argv) {
    std::optional<Result<RedisReply>> reply;
    int calls = 0;
    conn.command(argv, [&](Result<RedisReply> r) {
      ++calls;
      reply = std::move(r);
    });
    EXPECT_EQ(calls, 0) << "callback ran inside command()";
    if (!run_until(io_, [&] { return reply.has_value(); }))
      return make_error(ErrorKind::kTimeout, "no callback");
    EXPECT_EQ(calls, 1);
    if (reply->ok()) return make_error(ErrorKind::kInvalidArgument, "the command was accepted");
    return reply->error();
  }
  Error refused(RedisConnection& conn, std::initializer_list<std::string_view> argv) {
    return refused(conn, std::span<const std::string_view>(argv.begin(), argv.size()));
  }

  boost::asio::io_context io_;
};

TEST_F(RedisAsioTest, SetGetRoundTrip) {
  RedisConnection conn(io_);
  connect(conn);
  auto set = call(conn, {"SET", "roundtrip:key", "value-1"});
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_TRUE(set->is_status());
  EXPECT_EQ(set->str, "OK");
  auto get = call(conn, {"GET", "roundtrip:key"});
  ASSERT_TRUE(get.ok()) << get.error().message;
  ASSERT_TRUE(get->is_string());
  EXPECT_EQ(get->str, "value-1");
  auto missing = call(conn, {"GET", "roundtrip:missing"});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->is_nil());
}

TEST_F(RedisAsioTest, ArgumentsAndValuesAreBinarySafe) {
  RedisConnection conn(io_);
  connect(conn);
  std::string key("bin\0key", 7);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  value += std::string("\0\r\n$3\r\n\0", 9);
  ASSERT_TRUE(call(conn, {"SET", key, value}).ok());
  auto get = call(conn, {"GET", key});
  ASSERT_TRUE(get.ok()) << get.error().message;
  ASSERT_TRUE(get->is_string());
  EXPECT_EQ(get->str.size(), value.size());
  EXPECT_EQ(get->str, value);
  // The key with the NUL is distinct from its prefix.
  auto prefix = call(conn, {"GET", std::string_view("bin")});
  ASSERT_TRUE(prefix.ok());
  EXPECT_TRUE(prefix->is_nil());
  // Vector form too.
  std::optional<Result<RedisReply>> strlen_reply;
  conn.command(std::vector<std::string>{"STRLEN", key},
               [&](Result<RedisReply> r) { strlen_reply = std::move(r); });
  ASSERT_TRUE(run_until(io_, [&] { return strlen_reply.has_value(); }));
  ASSERT_TRUE(strlen_reply->ok());
  EXPECT_EQ((*strlen_reply)->integer, static_cast<long long>(value.size()));
}

TEST_F(RedisAsioTest, TenThousandPipelinedIncrsComplete) {
  RedisConnection conn(io_);
  connect(conn);
  ASSERT_TRUE(call(conn, {"DEL", "pipeline:counter"}).ok());
  constexpr int kCount = 10000;
  int replies = 0;
  int out_of_order = 0;
  int errors = 0;
  for (int i = 0; i < kCount; ++i) {
    conn.command({"INCR", "pipeline:counter"}, [&, i](Result<RedisReply> r) {
      ++replies;
      if (!r.ok()) {
        ++errors;
      } else if (r->integer != i + 1) {
        ++out_of_order;
      }
    });
  }
  EXPECT_EQ(conn.pending(), static_cast<size_t>(kCount));
  ASSERT_TRUE(run_until(
      io_, [&] { return replies == kCount; }, 30s))
      << replies;
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(conn.pending(), 0u);
  auto get = call(conn, {"GET", "pipeline:counter"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, std::to_string(kCount));
}

TEST_F(RedisAsioTest, LargeValueCrossesManyReads) {
  RedisConnection conn(io_);
  connect(conn);
  std::string big(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  ASSERT_TRUE(call(conn, {"SET", "large:value", big}).ok());
  auto get = call(conn, {"GET", "large:value"});
  ASSERT_TRUE(get.ok()) << get.error().message;
  EXPECT_TRUE(get->str == big);
}

TEST_F(RedisAsioTest, SubscriberReceivesMessagesFromAnotherConnection) {
  RedisConnection publisher(io_);
  RedisConnection subscriber(io_);
  connect(publisher);
  connect(subscriber);

  std::vector<std::pair<std::string, std::string>> received;
  subscriber.set_message_handler([&](std::string_view channel, std::string_view message) {
    received.emplace_back(channel, message);
  });
  std::optional<Status> subscribed;
  subscriber.subscribe({"chan:a", "chan:b"}, [&](Status st) { subscribed = st; });
  ASSERT_TRUE(run_until(io_, [&] { return subscribed.has_value(); }));
  ASSERT_TRUE(subscribed->ok());

  // A subscriber connection refuses ordinary commands.
  EXPECT_EQ(refused(subscriber, {"GET", "x"}).kind, ErrorKind::kInvalidArgument);

  std::string binary_message("hello\0world", 11);
  auto n = call(publisher, {"PUBLISH", "chan:a", binary_message});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->integer, 1);  // one subscriber got it
  ASSERT_TRUE(call(publisher, {"PUBLISH", "chan:b", "second"}).ok());
  ASSERT_TRUE(call(publisher, {"PUBLISH", "chan:other", "not for us"}).ok());
  ASSERT_TRUE(run_until(io_, [&] { return received.size() >= 2; }));
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].first, "chan:a");
  EXPECT_EQ(received[0].second, binary_message);
  EXPECT_EQ(received[1].first, "chan:b");
  EXPECT_EQ(received[1].second, "second");

  // Pattern subscriptions deliver the concrete channel name.
  std::optional<Status> psubscribed;
  std::vector<std::string_view> patterns = {"ev:*"};
  subscriber.psubscribe(patterns, [&](Status st) { psubscribed = st; });
  ASSERT_TRUE(run_until(io_, [&] { return psubscribed.has_value(); }));
  ASSERT_TRUE(call(publisher, {"PUBLISH", "ev:reg", "payload"}).ok());
  ASSERT_TRUE(run_until(io_, [&] { return received.size() >= 3; }));
  EXPECT_EQ(received[2].first, "ev:reg");
  EXPECT_EQ(received[2].second, "payload");

  // After unsubscribing from chan:a only chan:b still arrives.
  std::vector<std::string_view> chan_a = {"chan:a"};
  ASSERT_TRUE(subscriber.unsubscribe(chan_a).ok());
  // A PING round trip on the subscriber's socket is not available; wait for
  // the server to count subscribers instead.
  ASSERT_TRUE(run_until(io_, [&] {
    auto r = call(publisher, {"PUBSUB", "NUMSUB", "chan:a"});
    return r.ok() && r->elements.size() == 2 && r->elements[1].integer == 0;
  }));
  ASSERT_TRUE(call(publisher, {"PUBLISH", "chan:a", "dropped"}).ok());
  ASSERT_TRUE(call(publisher, {"PUBLISH", "chan:b", "kept"}).ok());
  ASSERT_TRUE(run_until(io_, [&] { return received.size() >= 4; }));
  EXPECT_EQ(received[3].second, "kept");
  EXPECT_EQ(received.size(), 4u);
}

TEST_F(RedisAsioTest, ErrorRepliesArriveAsErrorValues) {
  RedisConnection conn(io_);
  connect(conn);
  ASSERT_TRUE(call(conn, {"DEL", "errors:list"}).ok());
  ASSERT_TRUE(call(conn, {"LPUSH", "errors:list", "a"}).ok());
  auto wrong_type = call(conn, {"GET", "errors:list"});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().kind, ErrorKind::kTypeMismatch);
  EXPECT_NE(wrong_type.error().message.find("WRONGTYPE"), std::string::npos);

  auto unknown = call(conn, {"NOSUCHCOMMAND", "x"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kInvalidArgument);

  auto noscript = call(conn, {"EVALSHA", "0123456789012345678901234567890123456789", "0"});
  ASSERT_FALSE(noscript.ok());
  EXPECT_EQ(noscript.error().kind, ErrorKind::kNotFound);

  // The connection stays usable after error replies; nested errors in an
  // array stay inside the reply.
  ASSERT_TRUE(call(conn, {"MULTI"}).ok());
  ASSERT_TRUE(call(conn, {"SET", "errors:str", "1"}).ok());
  ASSERT_TRUE(call(conn, {"LPUSH", "errors:str", "x"}).ok());  // QUEUED
  auto exec = call(conn, {"EXEC"});
  ASSERT_TRUE(exec.ok()) << exec.error().message;
  ASSERT_EQ(exec->elements.size(), 2u);
  EXPECT_TRUE(exec->elements[0].is_status());
  EXPECT_TRUE(exec->elements[1].is_error());

  EXPECT_EQ(refused(conn, std::span<const std::string_view>{}).kind, ErrorKind::kInvalidArgument);
}

TEST_F(RedisAsioTest, ConnectingToAClosedPortReportsAnError) {
  uint16_t closed_port = test::free_loopback_port(SOCK_STREAM);
  ASSERT_NE(closed_port, 0);
  RedisConnection conn(io_);
  std::optional<Status> result;
  bool called_inline = true;
  conn.connect("127.0.0.1", closed_port, [&](Status st) { result = std::move(st); });
  called_inline = result.has_value();
  // A command queued while connecting fails with the connection.
  std::optional<Result<RedisReply>> reply;
  conn.command({"PING"}, [&](Result<RedisReply> r) { reply = std::move(r); });
  ASSERT_TRUE(run_until(io_, [&] { return result.has_value(); }));
  EXPECT_FALSE(called_inline);
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().kind, ErrorKind::kIo);
  EXPECT_NE(result->error().message.find("refused"), std::string::npos) << result->error().message;
  ASSERT_TRUE(run_until(io_, [&] { return reply.has_value(); }));
  EXPECT_FALSE(reply->ok());
  EXPECT_FALSE(conn.connected());
  EXPECT_FALSE(conn.open());
  EXPECT_EQ(refused(conn, {"PING"}).kind, ErrorKind::kIo);

  // A second connect() on the same object is refused.
  std::optional<Status> again;
  conn.connect("127.0.0.1", redis_port(), [&](Status st) { again = std::move(st); });
  ASSERT_TRUE(run_until(io_, [&] { return again.has_value(); }));
  EXPECT_FALSE(again->ok());
}

TEST_F(RedisAsioTest, CommandBeforeConnectIsRefusedThroughItsCallback) {
  RedisConnection conn(io_);
  EXPECT_EQ(refused(conn, {"PING"}).kind, ErrorKind::kIo);
}

// A refused command whose connection is destroyed before the refusal is
// delivered is dropped like any other pending callback.
TEST_F(RedisAsioTest, RefusalIsDroppedWhenTheConnectionIsDestroyedFirst) {
  int called = 0;
  {
    RedisConnection conn(io_);
    conn.command({"PING"}, [&](Result<RedisReply>) { ++called; });
  }
  io_.restart();
  io_.run_for(50ms);
  EXPECT_EQ(called, 0);
}

TEST_F(RedisAsioTest, DisconnectDeliversPendingRepliesAndReleasesTheSocket) {
  int fds_before = test::open_fd_count();
  {
    RedisConnection conn(io_);
    connect(conn);
    EXPECT_EQ(test::open_fd_count(), fds_before + 1);
    std::optional<Status> disconnected;
    conn.set_disconnect_handler([&](Status st) { disconnected = std::move(st); });
    std::optional<Result<RedisReply>> reply;
    conn.command({"SET", "disc:key", "v"}, [&](Result<RedisReply> r) { reply = std::move(r); });
    conn.disconnect();
    conn.disconnect();  // idempotent
    std::optional<Result<RedisReply>> late;
    conn.command({"GET", "disc:key"}, [&](Result<RedisReply> r) { late = std::move(r); });
    EXPECT_FALSE(disconnected.has_value());  // never from inside the call
    EXPECT_FALSE(late.has_value());
    ASSERT_TRUE(run_until(io_, [&] { return disconnected.has_value() && late.has_value(); }));
    ASSERT_TRUE(reply.has_value());
    EXPECT_TRUE(reply->ok());
    EXPECT_FALSE(late->ok());  // refused: the connection was disconnecting
    EXPECT_TRUE(disconnected->ok());
    EXPECT_FALSE(conn.connected());
    EXPECT_FALSE(conn.open());
    EXPECT_EQ(test::open_fd_count(), fds_before);
  }
  // Handlers queued in the io_context finish without touching freed memory.
  io_.restart();
  io_.poll();
  EXPECT_EQ(test::open_fd_count(), fds_before);
}

TEST_F(RedisAsioTest, DestroyingWithPendingCommandsDropsTheirCallbacks) {
  int fds_before = test::open_fd_count();
  int called = 0;
  {
    RedisConnection conn(io_);
    connect(conn);
    conn.set_disconnect_handler([&](Status) { ++called; });
    for (int i = 0; i < 100; ++i) {
      conn.command({"INCR", "destroy:counter"}, [&](Result<RedisReply>) { ++called; });
    }
  }
  io_.restart();
  io_.run_for(100ms);
  EXPECT_EQ(called, 0);
  EXPECT_EQ(test::open_fd_count(), fds_before);
}

TEST_F(RedisAsioTest, ConnectionCanBeDestroyedFromItsOwnCallback) {
  auto conn = std::make_unique<RedisConnection>(io_);
  connect(*conn);
  int later_calls = 0;
  bool first = false;
  conn->command({"PING"}, [&](Result<RedisReply> r) {
    first = r.ok();
    conn.reset();
  });
  conn->command({"PING"}, [&](Result<RedisReply>) { ++later_calls; });
  ASSERT_TRUE(run_until(io_, [&] { return conn == nullptr; }));
  io_.restart();
  io_.run_for(100ms);
  EXPECT_TRUE(first);
  EXPECT_EQ(later_calls, 0);
}

TEST_F(RedisAsioTest, LostConnectionFailsPendingCommandsAndReportsIt) {
  RedisConnection victim(io_);
  RedisConnection killer(io_);
  connect(victim);
  connect(killer);
  auto id = call(victim, {"CLIENT", "ID"});
  ASSERT_TRUE(id.ok());
  std::optional<Status> lost;
  victim.set_disconnect_handler([&](Status st) { lost = std::move(st); });
  // BLPOP with timeout 0 blocks until the server drops the connection.
  std::optional<Result<RedisReply>> blocked;
  victim.command({"BLPOP", "lost:never", "0"},
                 [&](Result<RedisReply> r) { blocked = std::move(r); });
  auto killed = call(killer, {"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  ASSERT_TRUE(run_until(io_, [&] { return lost.has_value(); }));
  ASSERT_FALSE(lost->ok());
  EXPECT_EQ(lost->error().kind, ErrorKind::kIo);
  ASSERT_TRUE(blocked.has_value());
  ASSERT_FALSE(blocked->ok());
  EXPECT_EQ(blocked->error().kind, ErrorKind::kIo);
  EXPECT_FALSE(victim.connected());
  EXPECT_EQ(refused(victim, {"PING"}).kind, ErrorKind::kIo);
}

// command_unawaited: replies are read late, but every callback still runs
// once, in order with the awaited commands around them, also past the
// backlog that forces a read.
TEST_F(RedisAsioTest, UnawaitedRepliesAllArriveInOrderWithAwaitedOnes) {
  RedisConnection conn(io_);
  connect(conn);
  ASSERT_TRUE(call(conn, {"DEL", "unawaited:counter"}).ok());
  constexpr int kCount = 3000;  // several times the backlog
  std::vector<long long> seen;
  int errors = 0;
  for (int i = 0; i < kCount; ++i) {
    auto record = [&](Result<RedisReply> r) {
      if (!r.ok()) {
        ++errors;
      } else {
        seen.push_back(r->integer);
      }
    };
    const std::string_view argv[] = {"INCR", "unawaited:counter"};
    // Every 100th awaited, the rest unawaited.
    if (i % 100 == 99) {
      conn.command(argv, record);
    } else {
      conn.command_unawaited(argv, record);
    }
  }
  EXPECT_EQ(conn.pending(), static_cast<size_t>(kCount));
  ASSERT_TRUE(run_until(
      io_, [&] { return seen.size() + errors == kCount; }, 30s))
      << seen.size();
  EXPECT_EQ(errors, 0);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i + 1);
  EXPECT_EQ(conn.pending(), 0u);
}

// A lone unawaited command, with nothing else going on, still gets its reply.
TEST_F(RedisAsioTest, LoneUnawaitedReplyArrives) {
  RedisConnection conn(io_);
  connect(conn);
  for (int round = 0; round < 3; ++round) {
    std::optional<Result<RedisReply>> reply;
    const std::string_view argv[] = {"PUBLISH", "unawaited:nobody", "hello"};
    conn.command_unawaited(argv, [&](Result<RedisReply> r) { reply = std::move(r); });
    ASSERT_TRUE(run_until(io_, [&] { return reply.has_value(); }));
    ASSERT_TRUE(reply->ok()) << reply->error().message;
    EXPECT_EQ((*reply)->integer, 0);
  }
  // And awaited commands work as before afterwards.
  EXPECT_TRUE(call(conn, {"PING"}).ok());
}

// With only unawaited replies outstanding, a dropped connection is still
// noticed, its callbacks fail with kIo and the disconnect handler runs.
TEST_F(RedisAsioTest, LostConnectionWithOnlyUnawaitedRepliesIsReported) {
  RedisConnection victim(io_);
  RedisConnection killer(io_);
  connect(victim);
  connect(killer);
  auto id = call(victim, {"CLIENT", "ID"});
  ASSERT_TRUE(id.ok());
  std::optional<Status> lost;
  victim.set_disconnect_handler([&](Status st) { lost = std::move(st); });
  // A first unawaited reply, read: from here on the victim's reads are
  // deferred rather than waited for.
  std::optional<Result<RedisReply>> first;
  const std::string_view publish[] = {"PUBLISH", "unawaited:nobody", "x"};
  victim.command_unawaited(publish, [&](Result<RedisReply> r) { first = std::move(r); });
  ASSERT_TRUE(run_until(io_, [&] { return first.has_value(); }));
  std::optional<Result<RedisReply>> blocked;
  const std::string_view argv[] = {"BLPOP", "unawaited:never", "0"};
  victim.command_unawaited(argv, [&](Result<RedisReply> r) { blocked = std::move(r); });
  auto killed = call(killer, {"CLIENT", "KILL", "ID", std::to_string(id->integer)});
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  ASSERT_TRUE(run_until(io_, [&] { return lost.has_value(); }));
  ASSERT_FALSE(lost->ok());
  EXPECT_EQ(lost->error().kind, ErrorKind::kIo);
  ASSERT_TRUE(blocked.has_value());
  ASSERT_FALSE(blocked->ok());
  EXPECT_EQ(blocked->error().kind, ErrorKind::kIo);
}

// After a stream of unawaited commands, the connection settles back to
// waiting on its socket: idle, it uses no CPU.
TEST_F(RedisAsioTest, IdleAfterUnawaitedCommandsUsesNoCpu) {
  RedisConnection conn(io_);
  connect(conn);
  int replies = 0;
  for (int i = 0; i < 50; ++i) {
    const std::string_view argv[] = {"PUBLISH", "unawaited:nobody", "x"};
    conn.command_unawaited(argv, [&](Result<RedisReply>) { ++replies; });
  }
  ASSERT_TRUE(run_until(io_, [&] { return replies == 50; }));
  io_.restart();
  io_.run_for(300ms);  // lets the deferral end
  auto cpu_before = test::thread_cpu_time();
  io_.restart();
  io_.run_for(500ms);
  auto cpu = test::thread_cpu_time() - cpu_before;
  EXPECT_LT(cpu, 50ms) << cpu.count() << " us of CPU while idle";
  EXPECT_TRUE(call(conn, {"PING"}).ok());
}

TEST_F(RedisAsioTest, IdleConnectionUsesNoCpu) {
  RedisConnection conn(io_);
  connect(conn);
  auto cpu_before = test::thread_cpu_time();
  io_.restart();
  io_.run_for(500ms);
  auto cpu = test::thread_cpu_time() - cpu_before;
  EXPECT_LT(cpu, 50ms) << cpu.count() << " us of CPU while idle";
  EXPECT_TRUE(call(conn, {"PING"}).ok());
}

// The fixture itself: a second server starts on its own port and stop()
// leaves neither a process nor a directory behind.
TEST(RedisServerFixture, StartsAndStopsCleanly) {
  auto server = test::RedisServer::start();
  ASSERT_TRUE(server.ok()) << server.error().message;
  pid_t pid = (*server)->pid();
  std::string dir = (*server)->dir();
  EXPECT_TRUE((*server)->running());
  EXPECT_NE((*server)->port(), 0);
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_TRUE(std::filesystem::exists(dir));
  Status stopped = (*server)->stop();
  EXPECT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_FALSE((*server)->running());
  EXPECT_NE(::kill(pid, 0), 0);  // reaped, gone
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE((*server)->stop().ok());  // idempotent
}

TEST(RedisServerFixture, MissingBinaryIsNotFound) {
  test::RedisServerOptions options;
  options.binary = "/nonexistent/redis-server";
  auto server = test::RedisServer::start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace fogm2m::io
