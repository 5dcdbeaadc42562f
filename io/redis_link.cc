#include "io/redis_link.h"

#include <boost/asio/post.hpp>
#include <memory>
#include <utility>

namespace fogm2m::io {

namespace {

// How often the watchdog looks for a connection that stopped answering.
constexpr std::chrono::milliseconds kWatchPeriod{250};

}  // namespace

RedisLink::RedisLink(boost::asio::io_context& io, RedisLinkOptions options)
    : io_(io),
      options_(std::move(options)),
      on_message_(std::make_shared<MessageHandler>()),
      backoff_(options_.initial_backoff),
      jitter_state_(static_cast<uint32_t>(reinterpret_cast<uintptr_t>(this) >> 4) | 1U),
      retry_timer_(io),
      watchdog_(io) {}

RedisLink::~RedisLink() = default;

void RedisLink::start(std::function<void(Status)> ready) {
  if (state_ != State::kIdle) {
    auto refuse = [ready = std::move(ready)] {
      ready(make_error(ErrorKind::kInvalidArgument, "redis: link started twice"));
    };
    boost::asio::post(io_, lifetime_.guard(std::move(refuse)));
    return;
  }
  state_ = State::kConnecting;
  ready_ = std::move(ready);
  open_connection();
  watch();
}

void RedisLink::open_connection() {
  const uint64_t attempt = ++attempt_;
  connection_ = std::make_unique<RedisConnection>(io_);
  replies_seen_ = 0;
  quiet_since_ = std::chrono::steady_clock::now();
  connection_->set_message_handler(
      [handler = on_message_](std::string_view channel, std::string_view message) {
        if (*handler) (*handler)(channel, message);
      });
  connection_->set_disconnect_handler(lifetime_.guard([this, attempt](Status s) {
    if (attempt != attempt_ || state_ == State::kClosed) return;
    on_lost(s ? make_error(ErrorKind::kIo, "redis: the server closed the connection") : s);
  }));
  attempt_started_ = std::chrono::steady_clock::now();
  auto connect = [&] {
    connection_->connect(options_.host, options_.port, lifetime_.guard([this, attempt](Status s) {
      if (attempt == attempt_) on_connected(std::move(s));
    }));
  };
  if (!options_.around_connect) return connect();
  options_.around_connect(connect);
  // The wrapper may decline (it could not enter its namespace): a lost
  // attempt, retried after the back-off.
  if (!connection_->open() && attempt == attempt_)
    on_lost(make_error(ErrorKind::kIo, "redis: the connection attempt was not made"));
}

// The connection is up at the TCP level: make the server answer on it.
void RedisLink::on_connected(Status s) {
  if (!s) return on_lost(s);
  const uint64_t attempt = attempt_;
  if (channels_.empty() && patterns_.empty()) {
    connection_->command({"PING"}, lifetime_.guard([this, attempt](Result<RedisReply> r) {
      if (attempt != attempt_) return;
      handshake_done(r ? Status{} : Status(r.error()));
    }));
    return;
  }
  // Every remembered subscription, confirmed, is the handshake.
  auto remaining = std::make_shared<int>(0);
  auto confirmed = lifetime_.guard([this, attempt, remaining](Status st) {
    if (attempt != attempt_ || *remaining <= 0) return;
    if (!st) {
      *remaining = 0;
      return handshake_done(st);
    }
    if (--*remaining == 0) handshake_done({});
  });
  std::vector<std::string_view> channels(channels_.begin(), channels_.end());
  std::vector<std::string_view> patterns(patterns_.begin(), patterns_.end());
  *remaining = (channels.empty() ? 0 : 1) + (patterns.empty() ? 0 : 1);
  if (!channels.empty()) connection_->subscribe(channels, confirmed);
  if (!patterns.empty()) connection_->psubscribe(patterns, confirmed);
}

void RedisLink::handshake_done(Status s) {
  if (!s) return on_lost(s);
  if (state_ == State::kClosed || state_ == State::kUp) return;
  const bool first = state_ == State::kConnecting;
  state_ = State::kUp;
  backoff_ = options_.initial_backoff;
  if (first) {
    if (auto ready = std::move(ready_)) ready({});
    return;
  }
  ++reconnects_;
  if (on_state_) on_state_(true, {});
}

void RedisLink::on_lost(const Status& why) {
  if (state_ == State::kClosed) return;
  if (state_ == State::kConnecting) {  // the first attempt: a configuration error
    state_ = State::kClosed;
    watchdog_.cancel();
    if (auto ready = std::move(ready_)) ready(why);
    return;
  }
  if (lost_attempt_ == attempt_) return;  // seen already (an abort, then its callbacks)
  lost_attempt_ = attempt_;
  const bool was_up = state_ == State::kUp;
  state_ = State::kDown;
  last_loss_ = why;
  schedule_retry();
  if (was_up && on_state_) on_state_(false, why);
}

void RedisLink::schedule_retry() {
  retry_timer_.expires_after(next_backoff());
  retry_timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (!ec && state_ == State::kDown) open_connection();
  }));
}

std::chrono::milliseconds RedisLink::next_backoff() {
  // xorshift32: enough to spread the nodes' retries, no shared state.
  jitter_state_ ^= jitter_state_ << 13;
  jitter_state_ ^= jitter_state_ >> 17;
  jitter_state_ ^= jitter_state_ << 5;
  const double factor = 0.8 + 0.4 * static_cast<double>(jitter_state_ % 1000) / 1000.0;
  const auto wait = std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(backoff_.count()) * factor));
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  return wait;
}

// Aborts a connection that leaves a command (or its handshake) unanswered
// longer than command_timeout.
void RedisLink::watch() {
  watchdog_.expires_after(kWatchPeriod);
  watchdog_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (ec || state_ == State::kClosed) return;
    if (connection_ && connection_->open()) {
      const auto timeout = options_.command_timeout;
      const auto now = std::chrono::steady_clock::now();
      // Progress is sampled here, every kWatchPeriod, not timed per reply.
      if (connection_->pending() == 0 || connection_->replies() != replies_seen_) {
        replies_seen_ = connection_->replies();
        quiet_since_ = now;
      }
      const bool handshaking = state_ != State::kUp;
      const bool stuck =
          handshaking ? now - attempt_started_ > timeout : now - quiet_since_ > timeout;
      if (stuck) {
        connection_->abort("redis: no answer within " + std::to_string(timeout.count()) + " ms");
      }
    }
    watch();
  }));
}

void RedisLink::reconnect(std::string_view why) {
  if (state_ == State::kClosed || state_ == State::kIdle) return;
  if (connection_ && connection_->open()) connection_->abort(why);
}

void RedisLink::disconnect() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  retry_timer_.cancel();
  watchdog_.cancel();
  if (connection_) connection_->disconnect();
  if (auto ready = std::move(ready_)) {
    boost::asio::post(io_, lifetime_.guard([ready = std::move(ready)] {
      ready(make_error(ErrorKind::kIo, "redis: link closed before it was up"));
    }));
  }
}

Error RedisLink::unavailable() const {
  std::string why = "redis: unavailable";
  if (state_ == State::kDown && !last_loss_) why += " (" + last_loss_.error().message + ")";
  return make_error(ErrorKind::kIo, std::move(why));
}

void RedisLink::fail_later(ReplyHandler handler) {
  if (!handler) return;
  boost::asio::post(io_, lifetime_.guard([handler = std::move(handler), error = unavailable()] {
    handler(error);
  }));
}

void RedisLink::refuse_later(std::function<void(Status)> done) {
  if (!done) return;
  boost::asio::post(io_, lifetime_.guard([done = std::move(done), error = unavailable()] {
    done(Status(error));
  }));
}

void RedisLink::command(std::span<const std::string_view> argv, ReplyHandler on_reply) {
  if (state_ != State::kUp) return fail_later(std::move(on_reply));
  connection_->command(argv, std::move(on_reply));
}

void RedisLink::command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply) {
  command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(on_reply));
}

void RedisLink::command(const std::vector<std::string>& argv, ReplyHandler on_reply) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  command(std::span<const std::string_view>(views), std::move(on_reply));
}

void RedisLink::command_unawaited(std::span<const std::string_view> argv, ReplyHandler on_reply) {
  if (state_ != State::kUp) return fail_later(std::move(on_reply));
  connection_->command_unawaited(argv, std::move(on_reply));
}

void RedisLink::set_message_handler(MessageHandler handler) {
  *on_message_ = std::move(handler);
}

void RedisLink::subscribe(std::span<const std::string_view> channels,
                          std::function<void(Status)> on_subscribed) {
  for (std::string_view c : channels) channels_.emplace(c);
  if (state_ == State::kUp) return connection_->subscribe(channels, std::move(on_subscribed));
  refuse_later(std::move(on_subscribed));
}

void RedisLink::subscribe(std::initializer_list<std::string_view> channels,
                          std::function<void(Status)> on_subscribed) {
  subscribe(std::span<const std::string_view>(channels.begin(), channels.size()),
            std::move(on_subscribed));
}

void RedisLink::psubscribe(std::span<const std::string_view> patterns,
                           std::function<void(Status)> on_subscribed) {
  for (std::string_view p : patterns) patterns_.emplace(p);
  if (state_ == State::kUp) return connection_->psubscribe(patterns, std::move(on_subscribed));
  refuse_later(std::move(on_subscribed));
}

size_t RedisLink::pending() const {
  return connection_ ? connection_->pending() : 0;
}

}  // namespace fogm2m::io
