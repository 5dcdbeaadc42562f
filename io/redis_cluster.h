// A Redis Cluster client: one io::RedisLink per master, made on demand,
// commands routed by their key's hash slot, redirections followed.
//
// Slot map. start() reads CLUSTER SLOTS from the first seed that answers;
// the map (16384 slots -> master "host:port", replicas kept for later use)
// is read again, at most once per `refresh_interval`:
//   - after a MOVED (the one slot is updated at once, the rest in the
//     background),
//   - after a connection to a master is refused or lost, a CLUSTERDOWN, or
//     a command that found its slot unserved,
//   - and, while a master of the map cannot be reached, every
//     refresh_interval: that is how a failover (a replica promoted) is seen.
// The map is asked of the masters whose links are up first, then of the
// seeds, then of every other node it listed.
//
// Routing. A command goes to the master of its key's slot (see
// redis_command_slot() for which argument is the key; command_for() names
// it explicitly). Commands without a key (PING, PUBLISH, SCAN, INFO, SCRIPT
// LOAD, ...) go to any master, in turn; SCAN-like fan-outs use
// for_each_master() and command_at(). Commands keep RedisLink's pipelining:
// many are in flight on each master's connection, and replies to one
// caller's commands to the same slot come back in the order sent.
//
// Redirections and retries, per command:
//   MOVED slot addr   the slot now belongs to addr: the map is updated and
//                     the command sent there (up to max_redirects times);
//   ASK slot addr     the slot is being migrated and the key is already at
//                     addr: ASKING then the command are sent there once,
//                     the map is not changed;
//   TRYAGAIN, CLUSTERDOWN, LOADING
//                     sent again after retry_delay, doubling, up to
//                     max_retries times; then the command fails with kIo.
// A connection lost (or a master unreachable) fails the commands that were
// waiting on it with kIo, as RedisLink does, and triggers a map refresh.
// Commands are never re-sent after a loss, because they may have been
// carried out: callers keep their own retry logic (they already treat kIo
// as "try later"), and their next attempt goes to the new master once the
// map shows it (a failover takes cluster-node-timeout plus about a second).
//
// Transactions: transaction() sends MULTI, the commands and EXEC to the
// master of one key's slot, as one unit (redirected as one unit). MULTI and
// EXEC given to command() are refused: each would be routed on its own.
//
// Pub/sub. Redis 7's sharded pub/sub: spublish() goes to the master of the
// channel's slot, which forwards the message only to the replicas of its
// own shard; ssubscribe() subscribes on a connection to that master (one
// subscriber connection per master, made on demand). When the slot moves,
// Redis 7.0 tells its subscribers with an "sunsubscribe" push for each
// channel of the slot (after CLUSTER SETSLOT ... NODE, or when the node
// learns of a failover); a subscription made at the wrong node is answered
// with MOVED; a master that dies ends the connection; a master that hangs
// is left when a map read shows its slots elsewhere. In every case the
// channel is subscribed again at the slot's new owner. Messages published
// meanwhile are lost: pub/sub keeps no history, sharded or not. (The
// subscriber connections are not RedisLinks: hiredis 0.14's async API
// cannot match SSUBSCRIBE's replies, so they are Boost.Asio sockets with
// hiredis' reply parser.)
// Global PUBLISH costs more in a cluster: every PUBLISH is broadcast over the
// cluster bus to every node (masters and replicas), whether anyone there
// subscribed or not, so its cost grows with the cluster's size; SUBSCRIBE
// then works at any node. Sharded pub/sub keeps a message within one shard.
// PUBLISH through command() is allowed (it goes to any master); SUBSCRIBE
// is not offered here: use a RedisLink to any one node.
//
// Callback contract: io::RedisLink's. Each callback runs exactly once (the
// message handlers once per message), later, on the io_context's thread,
// never inside the call that registered it, and never after the
// RedisClusterLink is destroyed. Single-threaded; not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/lifetime.h"
#include "io/redis_link.h"

namespace fogm2m::io {

inline constexpr uint16_t kRedisClusterSlots = 16384;

// CRC16-CCITT as the Redis Cluster spec defines its key hash (XMODEM:
// polynomial 0x1021, initial value 0, not reflected): "123456789" -> 0x31C3.
uint16_t crc16_xmodem(std::string_view data);

// The hash slot of `key`, 0..16383: CRC16 of the key modulo 16384, or of its
// hash tag when it has one: the bytes between the first '{' and the first
// '}' after it, if there is at least one. "{user1000}.following" and
// "{user1000}.followers" share a slot; "foo{}{bar}" hashes the whole key;
// "foo{{bar}}zap" hashes "{bar".
uint16_t redis_cluster_slot(std::string_view key);

// The slot a command must be sent to: nullopt for a command without a key.
// The key is argv[1], except:
//   - keyless commands (PING, ECHO, PUBLISH, PUBSUB, SCAN, KEYS, INFO, DBSIZE,
//     TIME, SCRIPT, FUNCTION, FLUSHALL, FLUSHDB, RANDOMKEY, CLUSTER, CONFIG,
//     CLIENT, COMMAND, WAIT, ...) and any command given without arguments;
//   - EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, FCALL, FCALL_RO: the keys are
//     argv[3 .. 3+numkeys); all must share a slot (kInvalidArgument
//     otherwise, before anything is sent); no key: keyless;
//   - BITOP, OBJECT, XINFO, XGROUP, MEMORY USAGE: argv[2]; ZUNION, ZINTER,
//     ZDIFF, ZINTERCARD, SINTERCARD, LMPOP, ZMPOP: argv[2] (after numkeys);
//     BLMPOP, BZMPOP: argv[3]; XREAD, XREADGROUP: the first after STREAMS.
// Other multi-key commands (MGET, DEL, SUNIONSTORE, ...) are routed by their
// first key; Redis refuses them with CROSSSLOT (kInvalidArgument) when their
// keys span slots. Errors (kInvalidArgument): a malformed numkeys, keys of a
// script in different slots, MULTI/EXEC/DISCARD/WATCH (use transaction()),
// the subscribe family (use ssubscribe()), an empty argv.
Result<std::optional<uint16_t>> redis_command_slot(std::span<const std::string_view> argv);

struct RedisClusterOptions {
  // Nodes to read the slot map from at start ("host:port", numeric hosts
  // preferred: a name is resolved with a blocking lookup). Any node of the
  // cluster will do, a replica too.
  std::vector<std::string> seeds;
  // For every node's RedisLink (host and port are replaced by the node's):
  // back-off, command_timeout, around_connect. The subscriber connections
  // use command_timeout (for their SSUBSCRIBE) and around_connect.
  RedisLinkOptions link;
  // MOVED/ASK redirections a command may follow before it fails with kIo.
  int max_redirects = 5;
  // TRYAGAIN/CLUSTERDOWN/LOADING retries of a command before it fails with
  // kIo; the first after retry_delay, each next twice as late, capped at
  // max_retry_delay. The defaults wait about 3 s in all (20, 40, ... 500
  // ms): a failover with cluster-node-timeout 1000 ms (2-3 s) stays within.
  int max_retries = 10;
  std::chrono::milliseconds retry_delay{20};
  std::chrono::milliseconds max_retry_delay{500};
  // The slot map is read at most once per refresh_interval, and every
  // refresh_interval while a master of the map is unreachable. When no node
  // answers at all, the wait doubles up to link.max_backoff.
  std::chrono::milliseconds refresh_interval{100};
  // A node whose connection could not be made is not tried again for this
  // long: commands for it fail at once with kIo meanwhile.
  std::chrono::milliseconds node_retry_delay{200};
};

// One master and the slot ranges it serves, as last read.
struct RedisClusterShard {
  std::string master;                                 // "host:port"
  std::vector<std::string> replicas;                  // "host:port", as CLUSTER SLOTS lists them
  std::vector<std::pair<uint16_t, uint16_t>> ranges;  // [first, last] slots
};

class RedisClusterLink {
 public:
  using ReplyHandler = RedisLink::ReplyHandler;
  // `channel` and `message` are valid only during the call.
  using MessageHandler = RedisLink::MessageHandler;

  struct Stats {
    uint64_t moved = 0;          // MOVED replies followed
    uint64_t asked = 0;          // ASK replies followed
    uint64_t retried = 0;        // TRYAGAIN/CLUSTERDOWN/LOADING retries
    uint64_t map_reads = 0;      // slot maps read (CLUSTER SLOTS answered)
    uint64_t resubscribed = 0;   // sharded subscriptions made again elsewhere
    uint64_t sunsubscribed = 0;  // sharded subscriptions a node ended (slot moved)
  };

  RedisClusterLink(boost::asio::io_context& io, RedisClusterOptions options);
  ~RedisClusterLink();
  RedisClusterLink(const RedisClusterLink&) = delete;
  RedisClusterLink& operator=(const RedisClusterLink&) = delete;

  // Reads the slot map from the seeds, in order; `ready` runs once: ok with
  // a map; when no seed gave one, the last seed's error (kIo: unreachable;
  // kInvalidArgument: not in cluster mode), and the link stays closed, as a
  // RedisLink that cannot reach its server at start; kInvalidArgument for
  // no seeds, a malformed seed or a second start(). Commands given before
  // `ready` ran fail with kIo.
  void start(std::function<void(Status)> ready);

  // Sends one command to the master of its key's slot (redis_command_slot();
  // its errors arrive in `on_reply`); RedisLink::command's contract, plus
  // the redirections and retries above. Errors: kIo when the slot has no
  // reachable master, the connection was lost, or redirections and retries
  // ran out; the server's error reply otherwise.
  void command(std::span<const std::string_view> argv, ReplyHandler on_reply);
  void command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply);
  void command(const std::vector<std::string>& argv, ReplyHandler on_reply);

  // As command(), routed by `key`'s slot whatever argv says.
  void command_for(std::string_view key, std::span<const std::string_view> argv,
                   ReplyHandler on_reply);
  void command_for(std::string_view key, std::initializer_list<std::string_view> argv,
                   ReplyHandler on_reply);

  // MULTI, each of `commands`, EXEC, sent together to the master of `key`'s
  // slot (every key they touch should carry the same hash tag). `on_reply`
  // gets EXEC's reply: an array with one element per command, nested errors
  // kept as kError elements. A MOVED/ASK/TRYAGAIN for any of them moves or
  // retries the whole transaction (Redis discarded it: nothing was done).
  void transaction(std::string_view key, std::vector<std::vector<std::string>> commands,
                   ReplyHandler on_reply);

  // Sends one command to the node at `address` ("host:port"), whatever its
  // slots: no redirection is followed (a MOVED arrives as the error it is).
  // For fan-outs such as SCAN on every master.
  void command_at(std::string_view address, std::span<const std::string_view> argv,
                  ReplyHandler on_reply);
  void command_at(std::string_view address, std::initializer_list<std::string_view> argv,
                  ReplyHandler on_reply);

  // Calls `fn` with the address of each master serving slots in the current
  // map, in slot order, before returning. A SCAN of the whole keyspace runs
  // its cursor loop on each with command_at().
  void for_each_master(const std::function<void(const std::string& address)>& fn) const;

  // SPUBLISH to the master of the channel's slot, sent as
  // RedisLink::command_unawaited (its reply is read when convenient): for
  // the bus, where nobody waits on a publish. `on_reply` (may be empty)
  // gets the number of receivers in the shard, or the error.
  void spublish(std::string_view channel, std::string_view message, ReplyHandler on_reply = {});

  // Sharded subscription to `channels` (non-empty), each at its slot's
  // master; remembered and made again wherever the slot moves (see above).
  // Messages on these channels go to `on_message` (a later ssubscribe() of
  // the same channel replaces it). `on_subscribed` (may be empty) runs once:
  // ok when every channel was confirmed by its master; the first failure
  // otherwise (kIo: a connection could not be made or was lost; the channel
  // is then subscribed again in the background; another error reply: the
  // channel is dropped).
  void ssubscribe(std::span<const std::string_view> channels, MessageHandler on_message,
                  std::function<void(Status)> on_subscribed = {});
  void ssubscribe(std::initializer_list<std::string_view> channels, MessageHandler on_message,
                  std::function<void(Status)> on_subscribed = {});

  // Asks for the slot map to be read again (within refresh_interval).
  void refresh();

  // Ends the link: commands sent get their replies (a redirection then
  // fails with kIo), subscriptions end, no new connection is made.
  void disconnect();

  // True between a successful start() and disconnect().
  bool running() const { return state_ == State::kRunning; }
  // The master serving `slot` in the current map ("host:port"), if any.
  std::optional<std::string> master_of(uint16_t slot) const;
  // The current map, one entry per master, in slot order.
  std::vector<RedisClusterShard> shards() const;
  // Sharded channels whose subscription is confirmed at their slot's owner.
  size_t confirmed_subscriptions() const;
  const Stats& stats() const { return stats_; }

 private:
  struct Request;
  struct Node;
  struct Channel;
  struct SubscribeWait;
  class Subscriber;
  enum class State { kIdle, kStarting, kRunning, kClosed };

  // Commands.
  void submit(std::shared_ptr<Request> request);
  void dispatch(const std::shared_ptr<Request>& request);
  void send_on(Node& node, const std::shared_ptr<Request>& request);
  void on_reply(const std::shared_ptr<Request>& request, Node& node, Result<RedisReply> reply);
  void retry_later(const std::shared_ptr<Request>& request);
  void finish(const std::shared_ptr<Request>& request, Result<RedisReply> reply);
  void fail_later(const std::shared_ptr<Request>& request, Error error);

  // Nodes.
  Node* node_for(std::string_view address, Error& why);
  void on_node_ready(Node& node, Status s);
  void retire_nodes();

  // The slot map.
  void request_refresh();
  void read_map(std::vector<std::string> candidates, size_t next);
  std::vector<std::string> map_candidates() const;
  Status apply_map(const RedisReply& reply, const std::string& from);
  void map_read_done(Status s);
  bool master_unreachable() const;
  void set_slot_owner(uint16_t slot, const std::string& address);

  // Sharded pub/sub.
  void place(Channel& channel);
  void reconcile_subscriptions();
  void schedule_resubscribe();
  Subscriber* subscriber_for(const std::string& address, Error& why);
  void on_subscribed(Subscriber* sub, std::string_view channel);
  void on_subscription_error(Subscriber* sub, std::string_view channel, const Error& error);
  void on_unsubscribed(Subscriber* sub, std::string_view channel);
  void on_shard_message(Subscriber* sub, std::string_view channel, std::string_view message);
  void on_subscriber_lost(Subscriber* sub, const Error& why);
  void settle(Channel& channel, const Status& outcome);
  void retire_subscriber(Subscriber* sub);

  boost::asio::io_context& io_;
  RedisClusterOptions options_;
  State state_ = State::kIdle;
  std::function<void(Status)> ready_;
  Stats stats_;

  // shards_[slot_owner_[slot]] serves slot; -1: unserved. Shards stay in
  // slot order, except those added by a MOVED until the next map read.
  std::vector<RedisClusterShard> shards_;
  std::vector<int16_t> slot_owner_;
  size_t next_keyless_ = 0;  // round-robin over shards_ for keyless commands

  std::map<std::string, std::unique_ptr<Node>, std::less<>> nodes_;
  std::vector<std::unique_ptr<Node>> retired_nodes_;  // closing; freed once idle

  bool reading_map_ = false;
  Error last_map_error_;           // why the last candidate gave no map
  uint32_t failed_map_reads_ = 0;  // in a row: the next read waits longer
  bool read_again_ = false;
  bool refresh_timer_armed_ = false;
  std::chrono::steady_clock::time_point last_map_read_{};
  boost::asio::steady_timer refresh_timer_;

  std::map<std::string, Channel, std::less<>> channels_;
  std::map<std::string, std::unique_ptr<Subscriber>, std::less<>> subscribers_;
  std::vector<std::unique_ptr<Subscriber>> retired_subscribers_;  // closed; freed soon
  bool resubscribe_armed_ = false;
  boost::asio::steady_timer resubscribe_timer_;

  Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::io
