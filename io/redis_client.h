// What fogm2m's services need from Redis, whether it is one server or a
// Redis Cluster: commands routed by key, transactions on one hash tag,
// publish/subscribe for the bus, and a way to visit every node for SCAN.
//
// Two implementations, chosen at start-up:
//   SingleRedis   one server: a command RedisLink and, for the bus, a
//                 subscriber RedisLink (PUBLISH / SUBSCRIBE);
//   ClusterRedis  a Redis Cluster through io::RedisClusterLink: commands go
//                 to their key's master, the bus uses Redis 7's sharded
//                 pub/sub (SPUBLISH / SSUBSCRIBE), SCAN visits every master.
//
// The single-server path costs what calling the RedisLink directly cost
// (one virtual call more, no allocation: argv stays a span of views and a
// transaction is a span of spans sent as MULTI, the commands, EXEC).
//
// Rules for callers, so the same code runs on both:
//   - every key of one transaction or one Lua script carries the same hash
//     tag (store/keys.h);
//   - a multi-key command (MGET, DEL) names keys of one slot only; group by
//     slot with redis_cluster_slot() when they may differ (store/redis_scan);
//   - SCAN goes through scan_targets() and command_at().
//
// Callback contract: io::RedisLink's (exactly once, later, on the
// io_context's thread, never after the client is destroyed).
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/lifetime.h"
#include "io/redis_cluster.h"
#include "io/redis_link.h"

namespace fogm2m::io {

class RedisClient {
 public:
  using ReplyHandler = RedisLink::ReplyHandler;
  using MessageHandler = RedisLink::MessageHandler;
  using StateHandler = RedisLink::StateHandler;
  using Argv = std::span<const std::string_view>;

  virtual ~RedisClient() = default;

  virtual boost::asio::io_context& io() = 0;
  // True for a Redis Cluster: multi-key commands must stay in one slot.
  virtual bool clustered() const = 0;

  // Connects (both links of a single server; the slot map of a cluster);
  // `ready` runs once, with the first error when Redis cannot be reached.
  virtual void start(std::function<void(Status)> ready) = 0;
  // Up after every (re)connection of the command path, down after every
  // loss (a cluster reports no state: its commands fail one by one).
  virtual void set_state_handler(StateHandler handler) = 0;

  // One command, sent to the server holding its key (redis_command_slot()).
  virtual void command(Argv argv, ReplyHandler on_reply) = 0;
  void command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply) {
    command(Argv(argv.begin(), argv.size()), std::move(on_reply));
  }
  virtual void command(const std::vector<std::string>& argv, ReplyHandler on_reply) = 0;
  // As command(), routed by `key`'s slot whatever argv names.
  virtual void command_for(std::string_view key, Argv argv, ReplyHandler on_reply) = 0;
  // MULTI, `commands`, EXEC at the server of `key`; `on_exec` gets EXEC's
  // reply (one element per command) or the error that prevented it.
  virtual void transaction(std::string_view key, std::span<const Argv> commands,
                           ReplyHandler on_exec) = 0;

  // SCAN fan-out: the nodes whose keys together make the keyspace (one
  // empty name for a single server), and a command sent to one of them.
  virtual std::vector<std::string> scan_targets() const = 0;
  virtual void command_at(std::string_view node, Argv argv, ReplyHandler on_reply) = 0;

  // The bus. publish(): PUBLISH (single) or SPUBLISH (cluster); with an
  // empty `on_reply` the reply is read when convenient (fire-and-forget),
  // otherwise `on_reply` gets the number of receivers (in the channel's
  // shard, for a cluster). Messages go to the one handler set; subscribe()
  // is remembered and made again after reconnections and slot moves.
  virtual void publish(std::string_view channel, std::string_view message,
                       ReplyHandler on_reply = {}) = 0;
  virtual void set_message_handler(MessageHandler handler) = 0;
  virtual void subscribe(Argv channels, std::function<void(Status)> on_subscribed) = 0;
  void subscribe(std::initializer_list<std::string_view> channels,
                 std::function<void(Status)> on_subscribed) {
    subscribe(Argv(channels.begin(), channels.size()), std::move(on_subscribed));
  }

  // The command path is usable (single: the link is up; cluster: the map
  // was read and the link is running) and, once subscribe() was called,
  // the subscriber too (single server only).
  virtual bool up() const = 0;
  // Commands awaiting replies (single server; 0 for a cluster).
  virtual size_t pending() const = 0;
  // Reconnections after a loss (single server; 0 for a cluster).
  virtual uint64_t reconnects() const = 0;
  // Ends every connection; commands sent get their replies.
  virtual void disconnect() = 0;
  // "redis 127.0.0.1:6379" or "redis cluster 10.0.0.1:7000,...": for logs.
  virtual std::string describe() const = 0;
};

// One server. Owns its links, or borrows them (tests, tools that already
// hold a RedisLink); the subscriber link is only needed for subscribe().
class SingleRedis final : public RedisClient {
 public:
  SingleRedis(boost::asio::io_context& io, const RedisLinkOptions& options);
  explicit SingleRedis(RedisLink& commands, RedisLink* subscriber = nullptr);
  ~SingleRedis() override;

  boost::asio::io_context& io() override { return commands_->io(); }
  bool clustered() const override { return false; }
  void start(std::function<void(Status)> ready) override;
  void set_state_handler(StateHandler handler) override;

  using RedisClient::command;
  void command(Argv argv, ReplyHandler on_reply) override {
    commands_->command(argv, std::move(on_reply));
  }
  void command(const std::vector<std::string>& argv, ReplyHandler on_reply) override {
    commands_->command(argv, std::move(on_reply));
  }
  void command_for(std::string_view, Argv argv, ReplyHandler on_reply) override {
    commands_->command(argv, std::move(on_reply));
  }
  void transaction(std::string_view key, std::span<const Argv> commands,
                   ReplyHandler on_exec) override;
  std::vector<std::string> scan_targets() const override { return {std::string()}; }
  void command_at(std::string_view, Argv argv, ReplyHandler on_reply) override {
    commands_->command(argv, std::move(on_reply));
  }
  void publish(std::string_view channel, std::string_view message, ReplyHandler on_reply) override;
  void set_message_handler(MessageHandler handler) override;
  using RedisClient::subscribe;
  void subscribe(Argv channels, std::function<void(Status)> on_subscribed) override;
  bool up() const override {
    return commands_->up() && (!subscribed_ || subscriber_ == nullptr || subscriber_->up());
  }
  size_t pending() const override { return commands_->pending(); }
  uint64_t reconnects() const override { return commands_->reconnects(); }
  void disconnect() override;
  std::string describe() const override;

  RedisLink& commands() { return *commands_; }
  RedisLink* subscriber() { return subscriber_; }

 private:
  std::unique_ptr<RedisLink> owned_commands_, owned_subscriber_;
  RedisLink* commands_;
  RedisLink* subscriber_;
  bool subscribed_ = false;
  Lifetime lifetime_;  // last: ends first
};

// A Redis Cluster (3 masters or more, Redis 7 for sharded pub/sub).
class ClusterRedis final : public RedisClient {
 public:
  ClusterRedis(boost::asio::io_context& io, RedisClusterOptions options);
  ~ClusterRedis() override;

  boost::asio::io_context& io() override { return io_; }
  bool clustered() const override { return true; }
  void start(std::function<void(Status)> ready) override;
  // A cluster reports no link state (its commands fail one by one while a
  // slot has no master): the handler is never called.
  void set_state_handler(StateHandler) override {}

  using RedisClient::command;
  void command(Argv argv, ReplyHandler on_reply) override {
    link_.command(argv, std::move(on_reply));
  }
  void command(const std::vector<std::string>& argv, ReplyHandler on_reply) override {
    link_.command(argv, std::move(on_reply));
  }
  void command_for(std::string_view key, Argv argv, ReplyHandler on_reply) override {
    link_.command_for(key, argv, std::move(on_reply));
  }
  void transaction(std::string_view key, std::span<const Argv> commands,
                   ReplyHandler on_exec) override;
  std::vector<std::string> scan_targets() const override;
  void command_at(std::string_view node, Argv argv, ReplyHandler on_reply) override {
    link_.command_at(node, argv, std::move(on_reply));
  }
  void publish(std::string_view channel, std::string_view message, ReplyHandler on_reply) override {
    link_.spublish(channel, message, std::move(on_reply));
  }
  void set_message_handler(MessageHandler handler) override;
  using RedisClient::subscribe;
  void subscribe(Argv channels, std::function<void(Status)> on_subscribed) override;
  bool up() const override { return link_.running(); }
  size_t pending() const override { return 0; }
  uint64_t reconnects() const override { return 0; }
  void disconnect() override { link_.disconnect(); }
  std::string describe() const override;

  RedisClusterLink& link() { return link_; }

 private:
  boost::asio::io_context& io_;
  std::vector<std::string> seeds_;
  RedisClusterLink link_;
  std::shared_ptr<MessageHandler> on_message_;
  Lifetime lifetime_;  // last: ends first
};

// "host:port,host:port,..." -> the list; false when an entry is not
// host:port (the port 1..65535).
bool parse_cluster_addresses(std::string_view list, std::vector<std::string>& out);

// A SingleRedis on `link` when `cluster_seeds` is empty, else a ClusterRedis
// reading its slot map from those seeds (each node's link timed as `link`).
// `*single` (when given) is set to the SingleRedis, or to null: the callers
// that watch a single server's link states need it.
std::unique_ptr<RedisClient> make_redis_client(boost::asio::io_context& io,
                                               const RedisLinkOptions& link,
                                               const std::vector<std::string>& cluster_seeds,
                                               SingleRedis** single = nullptr);

}  // namespace fogm2m::io
