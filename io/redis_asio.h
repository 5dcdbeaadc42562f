// Redis over hiredis' async API, driven by a Boost.Asio io_context.
//
// RedisConnection attaches a redisAsyncContext's event hooks (addRead,
// delRead, addWrite, delWrite, cleanup) to an asio stream_descriptor on the
// connection's socket, so hiredis runs on the same single-threaded event loop
// as the rest of the node. It has no threads of its own.
//
// Contract shared by every callback below:
// - a callback given to a call runs exactly once (the disconnect handler at
//   most once), also when the call cannot be carried out: the error then
//   arrives in the callback, never as a return value beside it;
// - callbacks run on the io_context's thread, from io_context handlers,
//   never from inside the RedisConnection call that registered them;
// - callbacks must not throw (an exception would unwind through C code, so
//   it terminates the process instead);
// - once the RedisConnection is destroyed, none of its callbacks runs again,
//   even for commands still in flight.
//
// Errors are values. Result errors carry an ErrorKind:
//   kIo              not connected, connection refused, lost or closed;
//   kTypeMismatch    a WRONGTYPE error reply;
//   kNotFound        a NOSCRIPT error reply;
//   kInvalidArgument any other error reply from the server (the message keeps
//                    Redis' text), or a misuse of this API.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::io {

// One reply, copied out of hiredis' reply tree (which hiredis frees as soon as
// the callback returns). A top-level error reply never appears here: it
// arrives as the Error of a Result. Only an error nested inside an array
// (EXEC, EVAL results) is kept as an element of type kError.
struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError };

  Type type = Type::kNil;
  std::string str;                   // kString (binary-safe), kStatus ("OK"), kError (its text)
  long long integer = 0;             // kInteger
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_string() const { return type == Type::kString; }
  bool is_status() const { return type == Type::kStatus; }
  bool is_integer() const { return type == Type::kInteger; }
  bool is_array() const { return type == Type::kArray; }
  bool is_error() const { return type == Type::kError; }
};

// One connection to one Redis server.
//
// Lifecycle: constructed idle; connect() once; commands may be queued as soon
// as connect() has been called (they are sent when the socket connects);
// disconnect() or a lost connection ends it for good; to reconnect, make a new
// RedisConnection. Not movable: callbacks refer to it.
//
// Modes: a connection is a command connection until subscribe() or
// psubscribe() is called; from then on it is a subscriber connection that
// only (un)subscribes and delivers messages, as Redis' protocol requires. Use
// a separate connection for pub/sub.
//
// Threading: not thread-safe; call every member on the io_context's thread
// (or before the io_context runs).
//
// Ownership: does not own the io_context, which must outlive it. Destroy the
// connection on the io_context's thread while the io_context still exists.
// Destruction frees the hiredis context and closes its socket at once, or,
// when it happens inside one of the connection's own callbacks, from a
// handler queued for right after; pending callbacks are dropped, not called.
class RedisConnection {
 public:
  using ConnectHandler = std::function<void(Status)>;
  using DisconnectHandler = std::function<void(Status)>;
  using ReplyHandler = std::function<void(Result<RedisReply>)>;
  using SubscribeHandler = std::function<void(Status)>;
  // `channel` is the channel a message was published to (also for pattern
  // subscriptions); both views are valid only during the call.
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;

  explicit RedisConnection(boost::asio::io_context& io);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Starts a non-blocking TCP connect to host:port. `host` should be a
  // numeric address: a name is resolved by hiredis with a blocking lookup.
  // `on_connect` is called exactly once: ok when the connection is up, an
  // error (kIo, e.g. connection refused) otherwise, also when connect() was
  // already called on this object (kInvalidArgument).
  void connect(const std::string& host, uint16_t port, ConnectHandler on_connect);

  // Called at most once, when a connection that was up ends: ok after
  // disconnect(), kIo when it was lost (server closed it, socket error).
  void set_disconnect_handler(DisconnectHandler handler);

  // Sends one command; each argument is binary-safe (may hold NUL bytes).
  // `on_reply` is called exactly once with the reply or an error: an error
  // reply, kIo when the connection ends first, or the reason the command
  // could not be queued (kInvalidArgument for an empty argv or a subscriber
  // connection, kIo when never connected, disconnecting or closed). Replies
  // come back in the order commands were sent, so commands pipeline
  // naturally (a MULTI ... EXEC needs only the EXEC's reply looked at: when
  // the transaction could not be sent, EXEC's reply is an error too).
  void command(std::span<const std::string_view> argv, ReplyHandler on_reply);
  void command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply);
  void command(const std::vector<std::string>& argv, ReplyHandler on_reply);

  // As command(), for a command whose reply nobody waits on (PUBLISH on the
  // bus, where the reply only counts failures). Its reply is read when
  // convenient rather than as soon as it arrives: with the reply of a
  // command() sent meanwhile, once 256 such replies are outstanding, or
  // within 100 ms. A stream of them thus costs no event-loop wakeup per
  // reply. `on_reply` still runs exactly once and in order; while only such
  // replies are outstanding, a lost connection may be noticed up to 100 ms
  // later (or at the next write).
  void command_unawaited(std::span<const std::string_view> argv, ReplyHandler on_reply);

  // Sets the handler for messages on subscribed channels and patterns. Set it
  // before subscribing; messages arriving with no handler are dropped.
  void set_message_handler(MessageHandler handler);

  // SUBSCRIBE / PSUBSCRIBE to `channels` (non-empty). `on_subscribed` (may be
  // empty) is called once: ok when Redis confirmed every channel, so a
  // message published afterwards is delivered; kIo if the connection ends
  // first; the reason when the request cannot be queued (see command()).
  // Turns this connection into a subscriber connection.
  void subscribe(std::span<const std::string_view> channels, SubscribeHandler on_subscribed = {});
  void subscribe(std::initializer_list<std::string_view> channels,
                 SubscribeHandler on_subscribed = {});
  void psubscribe(std::span<const std::string_view> patterns, SubscribeHandler on_subscribed = {});

  // UNSUBSCRIBE / PUNSUBSCRIBE from `channels` (non-empty; Redis' "all
  // channels" form is not offered because hiredis 0.14 cannot parse its
  // reply when nothing is subscribed). Messages already in flight for them
  // may still be delivered. No callback: an error says the request could not
  // be queued.
  Status unsubscribe(std::span<const std::string_view> channels);
  Status punsubscribe(std::span<const std::string_view> patterns);

  // Closes the connection gracefully: commands already sent still get their
  // replies, new ones are refused, then the disconnect handler runs with ok.
  // Idempotent; a no-op when not connected.
  void disconnect();

  // Ends the connection at once, as a loss: every pending callback runs with
  // kIo (`why` in its message), then the disconnect handler with kIo. For a
  // connection that stopped answering (a paused server, a cut link), which
  // TCP alone would notice only minutes later. A no-op when not open.
  void abort(std::string_view why);

  // True between a successful connect and the end of the connection.
  bool connected() const;
  // True once connect() was called, until the connection has ended.
  bool open() const;
  // Commands sent whose callbacks have not run yet.
  size_t pending() const;
  // Command replies received so far. With pending(), what a watchdog needs
  // to see a server that stopped answering (RedisLink samples both).
  uint64_t replies() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace fogm2m::io
