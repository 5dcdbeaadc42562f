// The Redis connection fogm2m's services hold: it comes back after a loss.
//
// A RedisLink owns one io::RedisConnection at a time and replaces it when it
// ends: a Redis restart, a killed server, a cut link, or a server that
// stopped answering (SIGSTOP, a partition: TCP alone would notice only
// minutes later, so a connection whose oldest command has waited longer than
// `command_timeout` is aborted and counts as lost).
//
// - Reconnects with capped exponential back-off: initial_backoff, doubling
//   up to max_backoff, each wait jittered by up to +-20% so the nodes of a
//   cluster do not reconnect in lockstep.
// - A new connection counts as up only once the server answered on it (a
//   PING, or, on a subscriber link, the confirmation of every subscription):
//   a paused server still accepts TCP connections from its listen backlog.
// - While down, commands fail at once with kIo ("redis: unavailable"), they
//   are never queued: callers answer their own clients with "try later" and
//   keep what must be written (see RegistrationService's write-through).
// - Subscriptions are remembered and made again on every new connection.
//   Messages published while the link was down are lost: Redis pub/sub keeps
//   no history.
// - The state handler hears of every change, from the io_context thread.
//
// The callback contract is io::RedisConnection's (exactly once, later, on
// the io_context's thread, never after the link is destroyed).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/lifetime.h"
#include "io/redis_asio.h"

namespace fogm2m::io {

struct RedisLinkOptions {
  // The defaults, for the server at host:port.
  static RedisLinkOptions at(std::string host, uint16_t port) {
    RedisLinkOptions o;
    o.host = std::move(host);
    o.port = port;
    return o;
  }

  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{2000};
  // A connection that leaves a command (or its opening PING) unanswered
  // this long is aborted as lost.
  std::chrono::milliseconds command_timeout{2000};
  // Runs each connection attempt (the socket is made inside it). The
  // testbed makes its bus sockets inside a cluster's control namespace, and
  // a reconnection must land there too. A wrapper that does not call
  // `connect` fails the attempt (retried after the back-off). Empty:
  // attempts run as they are.
  std::function<void(const std::function<void()>& connect)> around_connect;
};

class RedisLink {
 public:
  using ReplyHandler = RedisConnection::ReplyHandler;
  using MessageHandler = RedisConnection::MessageHandler;
  // `up` after every (re)connection, !up after every loss; `why` says why
  // (ok when up).
  using StateHandler = std::function<void(bool up, const Status& why)>;

  RedisLink(boost::asio::io_context& io, RedisLinkOptions options);
  ~RedisLink();
  RedisLink(const RedisLink&) = delete;
  RedisLink& operator=(const RedisLink&) = delete;

  // Connects for the first time; `ready` runs once: ok when up, the error
  // when this first attempt fails (the link then stays closed: a server
  // that cannot be reached at start is a configuration error, not a fault
  // to ride out). From then on, losses are repaired without end.
  void start(std::function<void(Status)> ready);

  void set_state_handler(StateHandler handler) { on_state_ = std::move(handler); }

  // As RedisConnection's; while down they fail with kIo at once (later).
  void command(std::span<const std::string_view> argv, ReplyHandler on_reply);
  void command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply);
  void command(const std::vector<std::string>& argv, ReplyHandler on_reply);
  // An empty handler is allowed: the command is fire-and-forget.
  void command_unawaited(std::span<const std::string_view> argv, ReplyHandler on_reply);

  // Messages of every connection this link makes go to `handler`.
  void set_message_handler(MessageHandler handler);
  // Remembered for every future connection too. `on_subscribed` runs once,
  // with the outcome on the current connection (kIo while down: the
  // subscription is then made as soon as the link is up again).
  void subscribe(std::span<const std::string_view> channels,
                 std::function<void(Status)> on_subscribed = {});
  void subscribe(std::initializer_list<std::string_view> channels,
                 std::function<void(Status)> on_subscribed = {});
  void psubscribe(std::span<const std::string_view> patterns,
                  std::function<void(Status)> on_subscribed = {});

  // Drops the current connection as lost and reconnects (after the
  // back-off): for a subscriber link whose sibling command link found the
  // server gone, as a subscriber has no commands of its own to time out.
  void reconnect(std::string_view why);

  // Ends the link for good: commands sent get their replies, then the
  // connection closes; no reconnection follows.
  void disconnect();

  bool up() const { return state_ == State::kUp; }
  // Commands sent on the current connection whose replies are outstanding.
  size_t pending() const;
  // Connections made after a loss (not counting the first).
  uint64_t reconnects() const { return reconnects_; }
  // Connections opened, successful or not (the first included).
  uint64_t connection_attempts() const { return attempt_; }
  const RedisLinkOptions& options() const { return options_; }
  boost::asio::io_context& io() { return io_; }

 private:
  enum class State { kIdle, kConnecting, kUp, kDown, kClosed };

  void open_connection();
  void on_connected(Status s);
  void handshake_done(Status s);
  void on_lost(const Status& why);
  void schedule_retry();
  void watch();
  Error unavailable() const;
  void fail_later(ReplyHandler handler);
  void refuse_later(std::function<void(Status)> done);
  std::chrono::milliseconds next_backoff();

  boost::asio::io_context& io_;
  RedisLinkOptions options_;
  std::unique_ptr<RedisConnection> connection_;
  State state_ = State::kIdle;
  std::function<void(Status)> ready_;  // the first connection's outcome
  StateHandler on_state_;
  std::shared_ptr<MessageHandler> on_message_;
  std::set<std::string, std::less<>> channels_, patterns_;
  std::chrono::milliseconds backoff_;
  std::chrono::steady_clock::time_point attempt_started_;
  Status last_loss_;
  uint64_t reconnects_ = 0;
  uint64_t attempt_ = 0;  // which connection a callback belongs to
  uint64_t lost_attempt_ = 0;
  uint32_t jitter_state_;
  // The watchdog's view: replies() at its last look, and since when no
  // reply came while commands were pending.
  uint64_t replies_seen_ = 0;
  std::chrono::steady_clock::time_point quiet_since_;
  boost::asio::steady_timer retry_timer_, watchdog_;
  Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::io
