#include "io/redis_cluster.h"

// hiredis 0.14's sds.h lacks the extern "C" its other headers have; included
// first, so hiredis.h's own include of it is a no-op.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <charconv>
#include <deque>
#include <set>
#include <unordered_map>
#include <utility>

#include "io/host_port.h"

namespace fogm2m::io {

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------
// Hash slots
// ---------------------------------------------------------------------------

constexpr std::array<uint16_t, 256> make_crc16_table() {
  std::array<uint16_t, 256> table{};
  for (unsigned i = 0; i < 256; ++i) {
    auto crc = static_cast<uint16_t>(i << 8);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? static_cast<uint16_t>((crc << 1) ^ 0x1021)
                                : static_cast<uint16_t>(crc << 1);
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = make_crc16_table();

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Where a command's key is (see redis_command_slot()).
enum class KeyRule : uint8_t {
  kFirst,        // argv[1]: the default
  kNone,         // no key: any master
  kScript,       // EVAL & co: argv[3 .. 3+numkeys)
  kSecond,       // argv[2]
  kThird,        // argv[3]
  kMemory,       // MEMORY USAGE key
  kStreams,      // XREAD(GROUP) ... STREAMS key ...
  kTransaction,  // refused: transaction()
  kSubscriber,   // refused: not on a command connection
};

// One hash lookup per command; command names are matched in upper case.
KeyRule key_rule(std::string_view name) {
  static const auto* const rules = new std::unordered_map<std::string_view, KeyRule>{
      {"MULTI", KeyRule::kTransaction},
      {"EXEC", KeyRule::kTransaction},
      {"DISCARD", KeyRule::kTransaction},
      {"WATCH", KeyRule::kTransaction},
      {"UNWATCH", KeyRule::kTransaction},
      {"SUBSCRIBE", KeyRule::kSubscriber},
      {"PSUBSCRIBE", KeyRule::kSubscriber},
      {"SSUBSCRIBE", KeyRule::kSubscriber},
      {"UNSUBSCRIBE", KeyRule::kSubscriber},
      {"PUNSUBSCRIBE", KeyRule::kSubscriber},
      {"SUNSUBSCRIBE", KeyRule::kSubscriber},
      {"MONITOR", KeyRule::kSubscriber},
      {"PING", KeyRule::kNone},
      {"ECHO", KeyRule::kNone},
      {"PUBLISH", KeyRule::kNone},
      {"PUBSUB", KeyRule::kNone},
      {"SCAN", KeyRule::kNone},
      {"KEYS", KeyRule::kNone},
      {"INFO", KeyRule::kNone},
      {"DBSIZE", KeyRule::kNone},
      {"TIME", KeyRule::kNone},
      {"SCRIPT", KeyRule::kNone},
      {"FUNCTION", KeyRule::kNone},
      {"FLUSHALL", KeyRule::kNone},
      {"FLUSHDB", KeyRule::kNone},
      {"RANDOMKEY", KeyRule::kNone},
      {"CLUSTER", KeyRule::kNone},
      {"CONFIG", KeyRule::kNone},
      {"CLIENT", KeyRule::kNone},
      {"COMMAND", KeyRule::kNone},
      {"WAIT", KeyRule::kNone},
      {"LASTSAVE", KeyRule::kNone},
      {"SAVE", KeyRule::kNone},
      {"BGSAVE", KeyRule::kNone},
      {"BGREWRITEAOF", KeyRule::kNone},
      {"SLOWLOG", KeyRule::kNone},
      {"LATENCY", KeyRule::kNone},
      {"ROLE", KeyRule::kNone},
      {"LOLWUT", KeyRule::kNone},
      {"DEBUG", KeyRule::kNone},
      {"ACL", KeyRule::kNone},
      {"MODULE", KeyRule::kNone},
      {"HELLO", KeyRule::kNone},
      {"AUTH", KeyRule::kNone},
      {"SELECT", KeyRule::kNone},
      {"READONLY", KeyRule::kNone},
      {"READWRITE", KeyRule::kNone},
      {"ASKING", KeyRule::kNone},
      {"SHUTDOWN", KeyRule::kNone},
      {"REPLICAOF", KeyRule::kNone},
      {"SLAVEOF", KeyRule::kNone},
      {"FAILOVER", KeyRule::kNone},
      {"SWAPDB", KeyRule::kNone},
      {"EVAL", KeyRule::kScript},
      {"EVALSHA", KeyRule::kScript},
      {"EVAL_RO", KeyRule::kScript},
      {"EVALSHA_RO", KeyRule::kScript},
      {"FCALL", KeyRule::kScript},
      {"FCALL_RO", KeyRule::kScript},
      {"BITOP", KeyRule::kSecond},
      {"OBJECT", KeyRule::kSecond},
      {"XINFO", KeyRule::kSecond},
      {"XGROUP", KeyRule::kSecond},
      {"ZUNION", KeyRule::kSecond},
      {"ZINTER", KeyRule::kSecond},
      {"ZDIFF", KeyRule::kSecond},
      {"ZINTERCARD", KeyRule::kSecond},
      {"SINTERCARD", KeyRule::kSecond},
      {"LMPOP", KeyRule::kSecond},
      {"ZMPOP", KeyRule::kSecond},
      {"BLMPOP", KeyRule::kThird},
      {"BZMPOP", KeyRule::kThird},
      {"MEMORY", KeyRule::kMemory},
      {"XREAD", KeyRule::kStreams},
      {"XREADGROUP", KeyRule::kStreams},
  };
  char upper[16];
  if (name.size() > sizeof upper) return KeyRule::kFirst;  // no such command above
  for (size_t i = 0; i < name.size(); ++i)
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
  const auto it = rules->find(std::string_view(upper, name.size()));
  return it == rules->end() ? KeyRule::kFirst : it->second;
}

Error misuse(std::string message) {
  return make_error(ErrorKind::kInvalidArgument, "redis cluster: " + std::move(message));
}

// ---------------------------------------------------------------------------
// Error replies that concern the cluster
// ---------------------------------------------------------------------------

// The text of a Redis error reply, as io::RedisConnection reports it
// ("redis: MOVED 3999 127.0.0.1:6381"); empty for any other error.
std::string_view reply_error_text(const Error& e) {
  constexpr std::string_view kPrefix = "redis: ";
  if (e.kind != ErrorKind::kInvalidArgument || !e.message.starts_with(kPrefix)) return {};
  return std::string_view(e.message).substr(kPrefix.size());
}

struct Redirection {
  bool ask = false;
  uint16_t slot = 0;
  std::string address;  // "host:port"
};

// Parses "MOVED <slot> <host>:<port>" or "ASK ...". Redis 7 may leave the
// host out (":6381") when the node does not know it: it is then the host
// that sent the redirection.
std::optional<Redirection> parse_redirection(std::string_view text, std::string_view from_host) {
  Redirection r;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    r.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + space, slot);
  if (ec != std::errc() || end != text.data() + space || slot >= kRedisClusterSlots)
    return std::nullopt;
  r.slot = static_cast<uint16_t>(slot);
  std::string_view address = text.substr(space + 1);
  if (address.starts_with(':')) {
    r.address = std::string(from_host) + std::string(address);
  } else {
    r.address = std::string(address);
  }
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(r.address, host, port)) return std::nullopt;
  return r;
}

// Errors after which the same command may succeed a moment later, at the
// same node: a multi-key command during a migration, a cluster that lost a
// master and has not failed over yet, a node loading its data.
bool is_transient(std::string_view text) {
  return text.starts_with("TRYAGAIN") || text.starts_with("CLUSTERDOWN") ||
         text.starts_with("LOADING") || text.starts_with("MASTERDOWN");
}

std::string host_of(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  split_host_port(address, host, port);
  return host;
}

std::string join_host_port(std::string_view host, long long port) {
  const bool v6 = host.find(':') != std::string_view::npos;
  std::string out = v6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

}  // namespace

uint16_t crc16_xmodem(std::string_view data) {
  uint16_t crc = 0;
  for (const unsigned char c : data) {
    crc = static_cast<uint16_t>((crc << 8) ^ kCrc16Table[((crc >> 8) ^ c) & 0xFF]);
  }
  return crc;
}

uint16_t redis_cluster_slot(std::string_view key) {
  const size_t open = key.find('{');
  if (open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return static_cast<uint16_t>(crc16_xmodem(key) & (kRedisClusterSlots - 1));
}

Result<std::optional<uint16_t>> redis_command_slot(std::span<const std::string_view> argv) {
  using Slot = std::optional<uint16_t>;
  if (argv.empty()) return misuse("empty command");
  const std::string_view name = argv[0];
  auto slot_at = [&](size_t i) -> Slot {
    if (i >= argv.size()) return std::nullopt;
    return redis_cluster_slot(argv[i]);
  };
  switch (key_rule(name)) {
    case KeyRule::kFirst:
      return slot_at(1);
    case KeyRule::kNone:
      return Slot{};
    case KeyRule::kSecond:
      return slot_at(2);
    case KeyRule::kThird:
      return slot_at(3);
    case KeyRule::kMemory:
      return argv.size() > 2 && iequals(argv[1], "USAGE") ? slot_at(2) : Slot{};
    case KeyRule::kStreams:
      for (size_t i = 1; i < argv.size(); ++i) {
        if (iequals(argv[i], "STREAMS")) return slot_at(i + 1);
      }
      return Slot{};
    case KeyRule::kTransaction:
      return misuse(std::string(name) + " must go through transaction()");
    case KeyRule::kSubscriber:
      return misuse(std::string(name) + " is not a command for a command connection");
    case KeyRule::kScript:
      break;
  }
  if (argv.size() < 3) return misuse(std::string(name) + " without numkeys");
  const std::string_view n = argv[2];
  size_t numkeys = 0;
  const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), numkeys);
  if (ec != std::errc() || end != n.data() + n.size() || numkeys > argv.size() - 3)
    return misuse(std::string(name) + ": numkeys '" + std::string(n) + "' is not valid");
  if (numkeys == 0) return Slot{};
  const uint16_t slot = redis_cluster_slot(argv[3]);
  for (size_t i = 4; i < 3 + numkeys; ++i) {
    if (redis_cluster_slot(argv[i]) != slot) {
      return misuse("CROSSSLOT: the keys of " + std::string(name) +
                    " must share one hash slot (give them the same {hash tag})");
    }
  }
  return Slot{slot};
}

// ---------------------------------------------------------------------------
// Requests: a command (or a transaction) with what is needed to send it again
// ---------------------------------------------------------------------------

struct RedisClusterLink::Request {
  // The arguments, copied: a redirection sends them again. args views
  // `storage`; command i is args[i == 0 ? 0 : ends[i-1] .. ends[i]).
  std::string storage;
  std::vector<std::string_view> args;
  std::vector<size_t> ends;
  int slot = -1;             // -1: any master
  std::string fixed;         // command_at(): this node, no redirection
  std::string ask;           // after an ASK: the next attempt goes there, once
  bool transaction = false;  // MULTI, the commands, EXEC
  bool unawaited = false;    // RedisLink::command_unawaited (spublish)
  int redirects = 0;
  int retries = 0;
  std::optional<Error> queue_error;  // a transaction's first error, this attempt
  ReplyHandler handler;

  explicit Request(std::span<const std::span<const std::string_view>> commands) {
    size_t bytes = 0, count = 0;
    for (const auto& argv : commands) {
      count += argv.size();
      for (std::string_view a : argv) bytes += a.size();
    }
    storage.reserve(bytes);  // no reallocation below: the views stay valid
    args.reserve(count);
    ends.reserve(commands.size());
    for (const auto& argv : commands) {
      for (std::string_view a : argv) {
        const size_t at = storage.size();
        storage.append(a);
        args.emplace_back(storage.data() + at, a.size());
      }
      ends.push_back(args.size());
    }
  }

  std::span<const std::string_view> command(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    return std::span<const std::string_view>(args.data() + begin, ends[i] - begin);
  }
};

// One master (or any node a command was sent to) and its connection.
struct RedisClusterLink::Node {
  enum class State { kConnecting, kReady, kFailed };

  std::string address;
  std::unique_ptr<RedisLink> link;
  State state = State::kConnecting;
  // Requests given while the first connection is being made.
  std::deque<std::shared_ptr<Request>> waiting;
  Clock::time_point failed_at{};
  Error failure;
};

// ---------------------------------------------------------------------------
// Sharded subscriptions
// ---------------------------------------------------------------------------

struct RedisClusterLink::SubscribeWait {
  size_t remaining;  // channels not confirmed yet; 0 once `done` ran
  std::function<void(Status)> done;
};

struct RedisClusterLink::Channel {
  std::string name;
  uint16_t slot = 0;
  std::shared_ptr<MessageHandler> on_message;
  Subscriber* at = nullptr;  // where it is subscribed or being subscribed
  bool confirmed = false;
  bool ever_confirmed = false;
  std::vector<std::shared_ptr<SubscribeWait>> waits;
};

// One subscriber connection to one node, for SSUBSCRIBE. hiredis 0.14's
// async API does not know the sharded commands (their replies would not be
// matched to callbacks), so this connection is Boost.Asio's own, with
// hiredis' reply parser. It reports what the node says and ends for good on
// a loss; the RedisClusterLink makes a new one.
class RedisClusterLink::Subscriber {
 public:
  struct Events {
    std::function<void(std::string_view channel)> subscribed;
    std::function<void(std::string_view channel, const Error& error)> refused;
    std::function<void(std::string_view channel)> unsubscribed;  // by the server
    std::function<void(std::string_view channel, std::string_view message)> message;
    std::function<void(const Error& why)> lost;
  };

  Subscriber(boost::asio::io_context& io, std::string address, const RedisLinkOptions& options,
             Events events)
      : address_(std::move(address)),
        socket_(io),
        watchdog_(io),
        timeout_(options.command_timeout),
        events_(std::move(events)),
        reader_(redisReaderCreate()) {
    connect(options);
  }

  ~Subscriber() {
    if (reader_ != nullptr) redisReaderFree(reader_);
  }

  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  const std::string& address() const { return address_; }

  // SSUBSCRIBE one channel (channels of different slots cannot share one);
  // queued while connecting.
  void ssubscribe(std::string_view channel) {
    if (ended_) return;
    constexpr std::string_view kVerb = "SSUBSCRIBE";
    out_ += "*2\r\n$" + std::to_string(kVerb.size()) + "\r\n" + std::string(kVerb) + "\r\n$" +
            std::to_string(channel.size()) + "\r\n" + std::string(channel) + "\r\n";
    awaiting_.emplace_back(channel);
    if (awaiting_.size() == 1) arm_watchdog();
    flush();
  }

  // Ends the connection without reporting anything more.
  void close() {
    ended_ = true;
    watchdog_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void connect(const RedisLinkOptions& options) {
    std::string host;
    uint16_t port = 0;
    if (!split_host_port(address_, host, port)) {
      return post_loss(misuse("bad node address '" + address_ + "'"));
    }
    boost::system::error_code ec;
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address(host, ec), port);
    if (ec) {  // a name: resolved with a blocking lookup, as hiredis does
      boost::asio::ip::tcp::resolver resolver(socket_.get_executor());
      auto found = resolver.resolve(host, std::to_string(port), ec);
      if (ec || found.empty()) {
        return post_loss(make_error(ErrorKind::kIo, "redis cluster: cannot resolve " + host));
      }
      endpoint = found.begin()->endpoint();
    }
    auto start = [&] {
      boost::system::error_code open_ec;
      socket_.open(endpoint.protocol(), open_ec);
      if (open_ec) return;
      socket_.async_connect(
          endpoint, lifetime_.guard([this](boost::system::error_code cec) { on_connect(cec); }));
    };
    if (options.around_connect) {
      options.around_connect(start);
    } else {
      start();
    }
    if (!socket_.is_open()) {
      post_loss(make_error(
          ErrorKind::kIo, "redis cluster: subscriber connection to " + address_ + " was not made"));
    }
  }

  void post_loss(Error why) {
    boost::asio::post(socket_.get_executor(),
                      lifetime_.guard([this, why = std::move(why)] { lose(why); }));
  }

  void on_connect(boost::system::error_code ec) {
    if (ended_) return;
    if (ec) {
      return lose(make_error(ErrorKind::kIo,
                             "redis cluster: connect to " + address_ + " failed: " + ec.message()));
    }
    connected_ = true;
    boost::system::error_code ignored;
    socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
    read();
    flush();
  }

  void flush() {
    if (!connected_ || writing_active_ || out_.empty() || ended_) return;
    writing_.swap(out_);
    out_.clear();
    writing_active_ = true;
    boost::asio::async_write(
        socket_, boost::asio::buffer(writing_),
        lifetime_.guard([this](boost::system::error_code ec, size_t) {
          writing_active_ = false;
          if (ended_) return;
          if (ec) {
            return lose(make_error(ErrorKind::kIo, "redis cluster: write to " + address_ +
                                                       " failed: " + ec.message()));
          }
          writing_.clear();
          flush();
        }));
  }

  void read() {
    socket_.async_read_some(
        boost::asio::buffer(in_),
        lifetime_.guard([this](boost::system::error_code ec, size_t n) { on_read(ec, n); }));
  }

  void on_read(boost::system::error_code ec, size_t n) {
    if (ended_) return;
    if (ec) {
      const std::string why =
          ec == boost::asio::error::eof ? "the server closed the connection" : ec.message();
      return lose(make_error(
          ErrorKind::kIo, "redis cluster: subscriber connection to " + address_ + " lost: " + why));
    }
    if (redisReaderFeed(reader_, in_.data(), n) != REDIS_OK) {
      return lose(
          make_error(ErrorKind::kIo, "redis cluster: reader: " + std::string(reader_->errstr)));
    }
    for (;;) {
      void* reply = nullptr;
      if (redisReaderGetReply(reader_, &reply) != REDIS_OK) {
        return lose(make_error(ErrorKind::kIo,
                               "redis cluster: protocol error: " + std::string(reader_->errstr)));
      }
      if (reply == nullptr) break;
      std::unique_ptr<redisReply, void (*)(void*)> owned(static_cast<redisReply*>(reply),
                                                         &freeReplyObject);
      handle(*owned);
      if (ended_) return;  // an event handler closed it
    }
    read();
  }

  static std::string_view text(const redisReply& r, size_t i) {
    if (r.type != REDIS_REPLY_ARRAY || i >= r.elements) return {};
    const redisReply* e = r.element[i];
    if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS) return {};
    return std::string_view(e->str, e->len);
  }

  // One reply or push. Each SSUBSCRIBE gets exactly one reply, in order: a
  // confirmation or an error. Messages and the server's own sunsubscribe
  // come in between.
  void handle(const redisReply& r) {
    if (r.type == REDIS_REPLY_ERROR) {
      if (awaiting_.empty()) return;
      const std::string channel = std::move(awaiting_.front());
      awaiting_.pop_front();
      rearm_watchdog();
      const std::string_view message(r.str, r.len);
      Error e = make_error(ErrorKind::kInvalidArgument, "redis: " + std::string(message));
      events_.refused(channel, e);
      return;
    }
    const std::string_view kind = text(r, 0);
    if (kind == "smessage") {
      events_.message(text(r, 1), text(r, 2));
    } else if (kind == "ssubscribe") {
      const std::string_view channel = text(r, 1);
      auto it = std::find(awaiting_.begin(), awaiting_.end(), channel);
      if (it != awaiting_.end()) awaiting_.erase(it);
      rearm_watchdog();
      events_.subscribed(channel);
    } else if (kind == "sunsubscribe") {
      events_.unsubscribed(text(r, 1));
    }
  }

  // An SSUBSCRIBE unanswered for the command timeout: the node stopped
  // answering (paused, cut off); the connection counts as lost.
  void arm_watchdog() {
    watchdog_.expires_after(timeout_);
    watchdog_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
      if (ec || ended_ || awaiting_.empty()) return;
      lose(make_error(ErrorKind::kIo, "redis cluster: " + address_ + " did not answer within " +
                                          std::to_string(timeout_.count()) + " ms"));
    }));
  }

  void rearm_watchdog() {
    if (awaiting_.empty()) {
      watchdog_.cancel();
    } else {
      arm_watchdog();
    }
  }

  void lose(const Error& why) {
    if (ended_) return;
    close();
    events_.lost(why);
  }

  std::string address_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer watchdog_;
  std::chrono::milliseconds timeout_;
  Events events_;
  redisReader* reader_;
  std::array<char, 16 * 1024> in_{};
  std::string out_, writing_;
  std::deque<std::string> awaiting_;  // channels whose SSUBSCRIBE is unanswered
  bool connected_ = false;
  bool writing_active_ = false;
  bool ended_ = false;
  Lifetime lifetime_;  // last: ends first
};

// ---------------------------------------------------------------------------
// RedisClusterLink: life cycle
// ---------------------------------------------------------------------------

RedisClusterLink::RedisClusterLink(boost::asio::io_context& io, RedisClusterOptions options)
    : io_(io),
      options_(std::move(options)),
      slot_owner_(kRedisClusterSlots, -1),
      refresh_timer_(io),
      resubscribe_timer_(io) {}

RedisClusterLink::~RedisClusterLink() = default;

void RedisClusterLink::start(std::function<void(Status)> ready) {
  Status usable;
  if (state_ != State::kIdle) usable = misuse("started twice");
  if (usable && options_.seeds.empty()) usable = misuse("no seed nodes");
  for (const std::string& seed : options_.seeds) {
    std::string host;
    uint16_t port = 0;
    if (usable && !split_host_port(seed, host, port))
      usable = misuse("seed '" + seed + "' is not host:port");
  }
  if (!usable) {
    boost::asio::post(io_, lifetime_.guard([ready = std::move(ready), usable] { ready(usable); }));
    return;
  }
  state_ = State::kStarting;
  ready_ = std::move(ready);
  // From a handler of its own: a failure reaches `ready` later, not inside.
  boost::asio::post(io_, lifetime_.guard([this] {
    if (state_ == State::kStarting) read_map(options_.seeds, 0);
  }));
}

void RedisClusterLink::disconnect() {
  if (state_ == State::kClosed) return;
  const bool starting = state_ == State::kStarting;
  state_ = State::kClosed;
  refresh_timer_.cancel();
  resubscribe_timer_.cancel();
  for (auto& [address, node] : nodes_) {
    if (node->link) node->link->disconnect();
  }
  for (auto& [address, sub] : subscribers_) sub->close();
  boost::asio::post(io_, lifetime_.guard([this, starting] {
    const Error closed = make_error(ErrorKind::kIo, "redis cluster: link closed");
    if (starting) {
      if (auto ready = std::move(ready_)) ready(closed);
    }
    for (auto& [name, channel] : channels_) settle(channel, closed);
  }));
}

// ---------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------

void RedisClusterLink::command(std::span<const std::string_view> argv, ReplyHandler on_reply) {
  const std::span<const std::string_view> one[] = {argv};
  auto request = std::make_shared<Request>(one);
  request->handler = std::move(on_reply);
  auto slot = redis_command_slot(argv);
  if (!slot) return fail_later(request, slot.error());
  request->slot = slot->has_value() ? static_cast<int>(**slot) : -1;
  submit(std::move(request));
}

void RedisClusterLink::command(std::initializer_list<std::string_view> argv,
                               ReplyHandler on_reply) {
  command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(on_reply));
}

void RedisClusterLink::command(const std::vector<std::string>& argv, ReplyHandler on_reply) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  command(std::span<const std::string_view>(views), std::move(on_reply));
}

void RedisClusterLink::command_for(std::string_view key, std::span<const std::string_view> argv,
                                   ReplyHandler on_reply) {
  const std::span<const std::string_view> one[] = {argv};
  auto request = std::make_shared<Request>(one);
  request->handler = std::move(on_reply);
  if (argv.empty()) return fail_later(request, misuse("empty command"));
  request->slot = redis_cluster_slot(key);
  submit(std::move(request));
}

void RedisClusterLink::command_for(std::string_view key,
                                   std::initializer_list<std::string_view> argv,
                                   ReplyHandler on_reply) {
  command_for(key, std::span<const std::string_view>(argv.begin(), argv.size()),
              std::move(on_reply));
}

void RedisClusterLink::transaction(std::string_view key,
                                   std::vector<std::vector<std::string>> commands,
                                   ReplyHandler on_reply) {
  std::vector<std::vector<std::string_view>> views;
  views.reserve(commands.size());
  for (const auto& c : commands) views.emplace_back(c.begin(), c.end());
  std::vector<std::span<const std::string_view>> spans(views.begin(), views.end());
  auto request = std::make_shared<Request>(spans);
  request->handler = std::move(on_reply);
  request->transaction = true;
  request->slot = redis_cluster_slot(key);
  const bool empty = std::any_of(views.begin(), views.end(), [](auto& v) { return v.empty(); });
  if (commands.empty() || empty) return fail_later(request, misuse("empty transaction or command"));
  submit(std::move(request));
}

void RedisClusterLink::command_at(std::string_view address, std::span<const std::string_view> argv,
                                  ReplyHandler on_reply) {
  const std::span<const std::string_view> one[] = {argv};
  auto request = std::make_shared<Request>(one);
  request->handler = std::move(on_reply);
  request->fixed = std::string(address);
  if (argv.empty()) return fail_later(request, misuse("empty command"));
  submit(std::move(request));
}

void RedisClusterLink::command_at(std::string_view address,
                                  std::initializer_list<std::string_view> argv,
                                  ReplyHandler on_reply) {
  command_at(address, std::span<const std::string_view>(argv.begin(), argv.size()),
             std::move(on_reply));
}

void RedisClusterLink::spublish(std::string_view channel, std::string_view message,
                                ReplyHandler on_reply) {
  const std::string_view argv[] = {"SPUBLISH", channel, message};
  const std::span<const std::string_view> one[] = {argv};
  auto request = std::make_shared<Request>(one);
  request->handler = std::move(on_reply);
  request->slot = redis_cluster_slot(channel);
  request->unawaited = true;
  submit(std::move(request));
}

void RedisClusterLink::submit(std::shared_ptr<Request> request) {
  if (state_ != State::kRunning) {
    return fail_later(request, make_error(ErrorKind::kIo, state_ == State::kClosed
                                                              ? "redis cluster: link closed"
                                                              : "redis cluster: not started"));
  }
  dispatch(request);
}

// Sends `request` where it belongs now: the ASK target, its fixed node, its
// slot's master or any master.
void RedisClusterLink::dispatch(const std::shared_ptr<Request>& request) {
  if (state_ == State::kClosed) {
    return fail_later(request, make_error(ErrorKind::kIo, "redis cluster: link closed"));
  }
  std::string_view address;
  if (!request->ask.empty()) {
    address = request->ask;
  } else if (!request->fixed.empty()) {
    address = request->fixed;
  } else if (request->slot >= 0) {
    const int16_t owner = slot_owner_[static_cast<size_t>(request->slot)];
    if (owner < 0) {
      request_refresh();
      return fail_later(request,
                        make_error(ErrorKind::kIo, "redis cluster: no master serves slot " +
                                                       std::to_string(request->slot)));
    }
    address = shards_[static_cast<size_t>(owner)].master;
  } else {
    for (size_t i = 0; i < shards_.size() && address.empty(); ++i) {
      const RedisClusterShard& shard = shards_[next_keyless_++ % shards_.size()];
      if (!shard.ranges.empty()) address = shard.master;
    }
    if (address.empty()) {
      return fail_later(request, make_error(ErrorKind::kIo, "redis cluster: no master known"));
    }
  }
  Error why;
  Node* node = node_for(address, why);
  if (node == nullptr) {
    request_refresh();
    return fail_later(request, std::move(why));
  }
  send_on(*node, request);
}

void RedisClusterLink::send_on(Node& node, const std::shared_ptr<Request>& request) {
  if (node.state == Node::State::kConnecting) {
    node.waiting.push_back(request);
    return;
  }
  if (node.state == Node::State::kFailed) return finish(request, node.failure);
  RedisLink& link = *node.link;
  if (!request->ask.empty()) {
    request->ask.clear();  // once: later attempts follow the map again
    link.command({"ASKING"}, {});
  }
  Node* n = &node;  // the node outlives its link's callbacks
  auto on_done = lifetime_.guard(
      [this, request, n](Result<RedisReply> r) { on_reply(request, *n, std::move(r)); });
  if (!request->transaction) {
    if (request->unawaited) {
      link.command_unawaited(request->command(0), std::move(on_done));
    } else {
      link.command(request->command(0), std::move(on_done));
    }
    return;
  }
  // MULTI, the commands, EXEC: an error queueing a command (MOVED, ASK, a
  // syntax error) makes Redis discard the transaction at EXEC; it is the
  // outcome reported.
  request->queue_error.reset();
  auto note = [request](Result<RedisReply> r) {
    if (!r && !request->queue_error) request->queue_error = r.error();
  };
  link.command({"MULTI"}, note);
  for (size_t i = 0; i < request->ends.size(); ++i) link.command(request->command(i), note);
  link.command({"EXEC"}, [request, on_done = std::move(on_done)](Result<RedisReply> r) mutable {
    if (!r && request->queue_error) r = *request->queue_error;
    on_done(std::move(r));
  });
}

void RedisClusterLink::on_reply(const std::shared_ptr<Request>& request, Node& node,
                                Result<RedisReply> reply) {
  if (reply) return finish(request, std::move(reply));
  const Error& error = reply.error();
  if (error.kind == ErrorKind::kIo) {
    request_refresh();  // a master lost: perhaps failed over
    return finish(request, std::move(reply));
  }
  const std::string_view text = reply_error_text(error);
  if (text.empty() || !request->fixed.empty()) return finish(request, std::move(reply));

  if (auto redirection = parse_redirection(text, host_of(node.address))) {
    if (++request->redirects > options_.max_redirects) {
      return finish(
          request, make_error(ErrorKind::kIo, "redis cluster: more than " +
                                                  std::to_string(options_.max_redirects) +
                                                  " redirections, the last: " + std::string(text)));
    }
    if (redirection->ask) {
      ++stats_.asked;
      request->ask = std::move(redirection->address);
    } else {
      ++stats_.moved;
      set_slot_owner(redirection->slot, redirection->address);
      request_refresh();
    }
    return dispatch(request);
  }
  if (is_transient(text)) {
    if (text.starts_with("CLUSTERDOWN")) request_refresh();
    if (++request->retries > options_.max_retries) {
      return finish(request, make_error(ErrorKind::kIo,
                                        "redis cluster: " + std::string(text) + " (after " +
                                            std::to_string(options_.max_retries) + " retries)"));
    }
    ++stats_.retried;
    return retry_later(request);
  }
  finish(request, std::move(reply));
}

void RedisClusterLink::retry_later(const std::shared_ptr<Request>& request) {
  auto delay = options_.retry_delay;
  for (int i = 1; i < request->retries && delay < options_.max_retry_delay; ++i) delay *= 2;
  delay = std::min(delay, options_.max_retry_delay);
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  timer->async_wait(lifetime_.guard([this, request, timer](boost::system::error_code) {
    dispatch(request);  // fails it with kIo when the link was closed meanwhile
  }));
}

void RedisClusterLink::finish(const std::shared_ptr<Request>& request, Result<RedisReply> reply) {
  if (auto handler = std::move(request->handler)) handler(std::move(reply));
}

void RedisClusterLink::fail_later(const std::shared_ptr<Request>& request, Error error) {
  if (!request->handler) return;
  boost::asio::post(
      io_, lifetime_.guard([handler = std::move(request->handler),
                            error = std::move(error)]() mutable { handler(std::move(error)); }));
}

// ---------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------

// The node at `address`, its connection made on first use. Null (and `why`)
// when the address is malformed or its last connection attempt failed less
// than node_retry_delay ago.
RedisClusterLink::Node* RedisClusterLink::node_for(std::string_view address, Error& why) {
  if (auto it = nodes_.find(address); it != nodes_.end()) {
    Node& node = *it->second;
    if (node.state != Node::State::kFailed) return &node;
    if (Clock::now() - node.failed_at < options_.node_retry_delay) {
      why = node.failure;
      return nullptr;
    }
    // Tried again: the failed one is freed later, outside any callback.
    retired_nodes_.push_back(std::move(it->second));
    nodes_.erase(it);
  }
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(std::string(address), host, port)) {
    why = misuse("bad node address '" + std::string(address) + "'");
    return nullptr;
  }
  auto owned = std::make_unique<Node>();
  Node* node = owned.get();
  node->address = std::string(address);
  RedisLinkOptions options = options_.link;
  options.host = host;
  options.port = port;
  node->link = std::make_unique<RedisLink>(io_, std::move(options));
  node->link->set_state_handler(lifetime_.guard([this](bool up, const Status&) {
    if (!up) request_refresh();
  }));
  nodes_.emplace(node->address, std::move(owned));
  node->link->start(
      lifetime_.guard([this, node](Status s) { on_node_ready(*node, std::move(s)); }));
  return node;
}

void RedisClusterLink::on_node_ready(Node& node, Status s) {
  std::deque<std::shared_ptr<Request>> waiting = std::move(node.waiting);
  node.waiting.clear();
  if (s) {
    node.state = Node::State::kReady;
    for (auto& request : waiting) send_on(node, request);
    return;
  }
  node.state = Node::State::kFailed;
  node.failed_at = Clock::now();
  node.failure =
      make_error(ErrorKind::kIo, "redis cluster: " + node.address + ": " + s.error().message);
  for (auto& request : waiting) finish(request, node.failure);
  request_refresh();
}

// Closes the connections to nodes that serve no slot any more (a seed that
// is a replica, a master that failed over or gave its slots away). Their
// commands still get their replies; the nodes are freed once idle.
void RedisClusterLink::retire_nodes() {
  std::set<std::string_view> masters;
  for (const auto& shard : shards_) masters.insert(shard.master);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    Node& node = *it->second;
    if (masters.contains(node.address) || node.state == Node::State::kConnecting ||
        !node.waiting.empty()) {
      ++it;
      continue;
    }
    node.link->disconnect();
    retired_nodes_.push_back(std::move(it->second));
    it = nodes_.erase(it);
  }
  boost::asio::post(io_, lifetime_.guard([this] {
    std::erase_if(retired_nodes_, [](const std::unique_ptr<Node>& n) {
      return n->state != Node::State::kConnecting && n->link->pending() == 0;
    });
  }));
}

// ---------------------------------------------------------------------------
// The slot map
// ---------------------------------------------------------------------------

void RedisClusterLink::refresh() {
  request_refresh();
}

// Reads the map again, from a handler of its own, no sooner than
// refresh_interval after the last read ended.
void RedisClusterLink::request_refresh() {
  if (state_ != State::kRunning) return;
  if (reading_map_) {
    read_again_ = true;
    return;
  }
  if (refresh_timer_armed_) return;
  refresh_timer_armed_ = true;
  // After reads that failed (no node answered), twice as long each time,
  // up to the links' max_backoff.
  auto interval = options_.refresh_interval;
  for (uint32_t i = 0; i < failed_map_reads_ && interval < options_.link.max_backoff; ++i)
    interval *= 2;
  interval = std::max(options_.refresh_interval, std::min(interval, options_.link.max_backoff));
  refresh_timer_.expires_at(std::max(Clock::now(), last_map_read_ + interval));
  refresh_timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    refresh_timer_armed_ = false;
    if (ec || state_ != State::kRunning || reading_map_) return;
    read_map(map_candidates(), 0);
  }));
}

// Masters known to be up first (cheap: connected), then the seeds, then
// every other node of the map.
std::vector<std::string> RedisClusterLink::map_candidates() const {
  std::vector<std::string> out;
  std::set<std::string, std::less<>> seen;
  auto add = [&](const std::string& address) {
    if (seen.insert(address).second) out.push_back(address);
  };
  for (const auto& shard : shards_) {
    auto it = nodes_.find(shard.master);
    if (it != nodes_.end() && it->second->state == Node::State::kReady && it->second->link->up())
      add(shard.master);
  }
  for (const auto& seed : options_.seeds) add(seed);
  for (const auto& shard : shards_) add(shard.master);
  for (const auto& shard : shards_) {
    for (const auto& replica : shard.replicas) add(replica);
  }
  return out;
}

// Asks candidates[next], then the next ones, for CLUSTER SLOTS until one
// answers with a usable map.
void RedisClusterLink::read_map(std::vector<std::string> candidates, size_t next) {
  reading_map_ = true;
  if (state_ == State::kClosed) return map_read_done(make_error(ErrorKind::kIo, "closed"));
  for (; next < candidates.size(); ++next) {
    Error why;
    if (node_for(candidates[next], why) == nullptr) {
      last_map_error_ = why;
      continue;
    }
    const std::string_view argv[] = {"CLUSTER", "SLOTS"};
    const std::span<const std::string_view> one[] = {argv};
    auto request = std::make_shared<Request>(one);
    request->fixed = candidates[next];
    request->handler = lifetime_.guard(
        [this, candidates = std::move(candidates), next](Result<RedisReply> r) mutable {
          Status s = r ? apply_map(*r, candidates[next]) : Status(r.error());
          if (s) return map_read_done({});
          last_map_error_ = s.error();
          read_map(std::move(candidates), next + 1);
        });
    return dispatch(request);
  }
  map_read_done(last_map_error_.message.empty()
                    ? make_error(ErrorKind::kIo, "redis cluster: no node to read the slot map from")
                    : last_map_error_);
}

void RedisClusterLink::map_read_done(Status s) {
  reading_map_ = false;
  last_map_read_ = Clock::now();
  failed_map_reads_ = s ? 0 : failed_map_reads_ + 1;
  if (state_ == State::kStarting) {
    auto ready = std::move(ready_);
    if (s) {
      state_ = State::kRunning;
    } else {
      state_ = State::kClosed;
      for (auto& [address, node] : nodes_) node->link->disconnect();
      s = Status(make_error(s.error().kind, "redis cluster: no seed gave a slot map (last: " +
                                                s.error().message + ")"));
    }
    if (ready) ready(s);
    return;
  }
  if (state_ != State::kRunning) return;
  // Again while something is amiss: a failover shows only after a while.
  const bool unplaced = std::any_of(channels_.begin(), channels_.end(),
                                    [](const auto& c) { return c.second.at == nullptr; });
  if (read_again_ || !s || master_unreachable() || unplaced) {
    read_again_ = false;
    request_refresh();
  }
}

bool RedisClusterLink::master_unreachable() const {
  for (const auto& shard : shards_) {
    if (shard.ranges.empty()) continue;
    auto it = nodes_.find(shard.master);
    if (it == nodes_.end()) continue;
    const Node& node = *it->second;
    if (node.state == Node::State::kFailed ||
        (node.state == Node::State::kReady && !node.link->up()))
      return true;
  }
  return false;
}

// CLUSTER SLOTS: [[first, last, [ip, port, id, ...], [replica ip, port, id,
// ...], ...], ...]. An empty ip stands for the node that answered.
Status RedisClusterLink::apply_map(const RedisReply& reply, const std::string& from) {
  auto bad = [&](std::string why) {
    return Status(make_error(ErrorKind::kIo, "redis cluster: slot map from " + from + ": " + why));
  };
  if (!reply.is_array() || reply.elements.empty()) return bad("no slot is served");
  const std::string from_host = host_of(from);
  auto address_of = [&](const RedisReply& n) -> std::optional<std::string> {
    if (!n.is_array() || n.elements.size() < 2 || !n.elements[0].is_string() ||
        !n.elements[1].is_integer() || n.elements[1].integer <= 0 || n.elements[1].integer > 65535)
      return std::nullopt;
    const std::string& ip = n.elements[0].str;
    return join_host_port(ip.empty() || ip == "?" ? from_host : ip, n.elements[1].integer);
  };
  std::vector<RedisClusterShard> shards;
  std::vector<int16_t> owner(kRedisClusterSlots, -1);
  std::map<std::string, size_t, std::less<>> index;
  for (const RedisReply& entry : reply.elements) {
    if (!entry.is_array() || entry.elements.size() < 3 || !entry.elements[0].is_integer() ||
        !entry.elements[1].is_integer())
      return bad("malformed entry");
    const long long first = entry.elements[0].integer, last = entry.elements[1].integer;
    if (first < 0 || last < first || last >= kRedisClusterSlots) return bad("bad slot range");
    auto master = address_of(entry.elements[2]);
    if (!master) return bad("malformed node");
    auto [it, added] = index.try_emplace(*master, shards.size());
    if (added) shards.push_back(RedisClusterShard{*master, {}, {}});
    RedisClusterShard& shard = shards[it->second];
    shard.ranges.emplace_back(static_cast<uint16_t>(first), static_cast<uint16_t>(last));
    for (size_t i = 3; i < entry.elements.size(); ++i) {
      auto replica = address_of(entry.elements[i]);
      if (replica &&
          std::find(shard.replicas.begin(), shard.replicas.end(), *replica) == shard.replicas.end())
        shard.replicas.push_back(*replica);
    }
    for (long long s = first; s <= last; ++s)
      owner[static_cast<size_t>(s)] = static_cast<int16_t>(it->second);
  }
  shards_ = std::move(shards);
  slot_owner_ = std::move(owner);
  ++stats_.map_reads;
  retire_nodes();
  reconcile_subscriptions();
  return {};
}

// After a MOVED: `slot` is served by `address` until the next map says more.
void RedisClusterLink::set_slot_owner(uint16_t slot, const std::string& address) {
  size_t i = 0;
  while (i < shards_.size() && shards_[i].master != address) ++i;
  if (i == shards_.size()) shards_.push_back(RedisClusterShard{address, {}, {}});
  slot_owner_[slot] = static_cast<int16_t>(i);
}

std::optional<std::string> RedisClusterLink::master_of(uint16_t slot) const {
  if (slot >= kRedisClusterSlots || slot_owner_[slot] < 0) return std::nullopt;
  return shards_[static_cast<size_t>(slot_owner_[slot])].master;
}

std::vector<RedisClusterShard> RedisClusterLink::shards() const {
  std::vector<RedisClusterShard> out;
  for (const auto& shard : shards_) {
    if (!shard.ranges.empty()) out.push_back(shard);
  }
  return out;
}

void RedisClusterLink::for_each_master(
    const std::function<void(const std::string& address)>& fn) const {
  for (const auto& shard : shards_) {
    if (!shard.ranges.empty()) fn(shard.master);
  }
}

// ---------------------------------------------------------------------------
// Sharded pub/sub
// ---------------------------------------------------------------------------

void RedisClusterLink::ssubscribe(std::span<const std::string_view> channels,
                                  MessageHandler on_message,
                                  std::function<void(Status)> on_subscribed) {
  auto refuse = [&](Error e) {
    if (!on_subscribed) return;
    boost::asio::post(io_, lifetime_.guard([done = std::move(on_subscribed), e = std::move(e)] {
      done(Status(e));
    }));
  };
  if (channels.empty()) return refuse(misuse("no channels"));
  if (state_ != State::kRunning) {
    return refuse(make_error(ErrorKind::kIo, state_ == State::kClosed
                                                 ? "redis cluster: link closed"
                                                 : "redis cluster: not started"));
  }
  auto handler = std::make_shared<MessageHandler>(std::move(on_message));
  std::shared_ptr<SubscribeWait> wait;
  if (on_subscribed) {
    wait =
        std::make_shared<SubscribeWait>(SubscribeWait{channels.size(), std::move(on_subscribed)});
  }
  size_t already = 0;
  for (std::string_view name : channels) {
    auto [it, added] = channels_.try_emplace(std::string(name));
    Channel& channel = it->second;
    if (added) {
      channel.name = std::string(name);
      channel.slot = redis_cluster_slot(name);
    }
    channel.on_message = handler;
    if (channel.confirmed) {
      ++already;
    } else if (wait) {
      channel.waits.push_back(wait);
    }
  }
  if (wait && already > 0) {
    wait->remaining -= std::min(already, wait->remaining);
    if (wait->remaining == 0) {
      boost::asio::post(io_, lifetime_.guard([done = std::move(wait->done)] { done({}); }));
    }
  }
  // Placed from a handler: a failure reaches `on_subscribed` later.
  boost::asio::post(io_, lifetime_.guard([this] {
    if (state_ != State::kRunning) return;
    for (auto& [name, channel] : channels_) {
      if (channel.at == nullptr) place(channel);
    }
  }));
}

void RedisClusterLink::ssubscribe(std::initializer_list<std::string_view> channels,
                                  MessageHandler on_message,
                                  std::function<void(Status)> on_subscribed) {
  ssubscribe(std::span<const std::string_view>(channels.begin(), channels.size()),
             std::move(on_message), std::move(on_subscribed));
}

size_t RedisClusterLink::confirmed_subscriptions() const {
  return static_cast<size_t>(std::count_if(channels_.begin(), channels_.end(),
                                           [](const auto& c) { return c.second.confirmed; }));
}

// Subscribes `channel` at its slot's master (not from inside a caller's
// call: a failure settles its waits at once).
void RedisClusterLink::place(Channel& channel) {
  const int16_t owner = slot_owner_[channel.slot];
  Error why;
  Subscriber* sub = nullptr;
  if (owner < 0) {
    why = make_error(ErrorKind::kIo,
                     "redis cluster: no master serves slot " + std::to_string(channel.slot));
  } else {
    sub = subscriber_for(shards_[static_cast<size_t>(owner)].master, why);
  }
  if (sub == nullptr) {
    request_refresh();
    schedule_resubscribe();
    return settle(channel, why);
  }
  if (channel.ever_confirmed) ++stats_.resubscribed;
  channel.at = sub;
  channel.confirmed = false;
  sub->ssubscribe(channel.name);
}

// Channels whose slot moved to another master (the map says so before the
// old master's sunsubscribe arrives, or instead of it when that master
// hangs) are subscribed at the new one; channels with no subscription are
// tried again.
void RedisClusterLink::reconcile_subscriptions() {
  bool unplaced = false;
  for (auto& [name, channel] : channels_) {
    if (channel.at != nullptr) {
      const int16_t owner = slot_owner_[channel.slot];
      if (owner >= 0 && shards_[static_cast<size_t>(owner)].master == channel.at->address())
        continue;
      channel.at = nullptr;
      channel.confirmed = false;
    }
    unplaced = true;
  }
  std::vector<Subscriber*> idle;
  for (auto& [address, sub] : subscribers_) {
    Subscriber* s = sub.get();
    if (std::none_of(channels_.begin(), channels_.end(),
                     [s](const auto& c) { return c.second.at == s; }))
      idle.push_back(s);
  }
  for (Subscriber* s : idle) retire_subscriber(s);
  if (unplaced) schedule_resubscribe();
}

void RedisClusterLink::schedule_resubscribe() {
  if (resubscribe_armed_ || state_ != State::kRunning) return;
  resubscribe_armed_ = true;
  resubscribe_timer_.expires_after(options_.refresh_interval);
  resubscribe_timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    resubscribe_armed_ = false;
    if (ec || state_ != State::kRunning) return;
    for (auto& [name, channel] : channels_) {
      if (channel.at == nullptr) place(channel);
    }
  }));
}

RedisClusterLink::Subscriber* RedisClusterLink::subscriber_for(const std::string& address,
                                                               Error& why) {
  if (auto it = subscribers_.find(address); it != subscribers_.end()) return it->second.get();
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(address, host, port)) {
    why = misuse("bad node address '" + address + "'");
    return nullptr;
  }
  // Events name the subscriber: it stays allocated until no event can come.
  auto holder = std::make_shared<Subscriber*>(nullptr);
  Subscriber::Events events;
  events.subscribed = lifetime_.guard(
      [this, holder](std::string_view channel) { on_subscribed(*holder, channel); });
  events.refused = lifetime_.guard([this, holder](std::string_view channel, const Error& e) {
    on_subscription_error(*holder, channel, e);
  });
  events.unsubscribed = lifetime_.guard(
      [this, holder](std::string_view channel) { on_unsubscribed(*holder, channel); });
  events.message = lifetime_.guard([this, holder](std::string_view channel, std::string_view m) {
    on_shard_message(*holder, channel, m);
  });
  events.lost = lifetime_.guard([this, holder](const Error& e) { on_subscriber_lost(*holder, e); });
  auto sub = std::make_unique<Subscriber>(io_, address, options_.link, std::move(events));
  *holder = sub.get();
  Subscriber* raw = sub.get();
  subscribers_.emplace(address, std::move(sub));
  return raw;
}

void RedisClusterLink::on_subscribed(Subscriber* sub, std::string_view name) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != sub) return;
  it->second.confirmed = true;
  it->second.ever_confirmed = true;
  settle(it->second, {});
}

void RedisClusterLink::on_subscription_error(Subscriber* sub, std::string_view name,
                                             const Error& error) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != sub) return;
  Channel& channel = it->second;
  channel.at = nullptr;
  channel.confirmed = false;
  const std::string_view text = reply_error_text(error);
  if (auto redirection = parse_redirection(text, host_of(sub->address()));
      redirection && !redirection->ask) {
    ++stats_.moved;
    set_slot_owner(redirection->slot, redirection->address);
    request_refresh();
    schedule_resubscribe();
  } else if (is_transient(text)) {
    request_refresh();
    schedule_resubscribe();
  } else {
    settle(channel, error);  // not a channel this cluster takes: forgotten
    channels_.erase(it);
  }
  reconcile_subscriptions();
}

void RedisClusterLink::on_unsubscribed(Subscriber* sub, std::string_view name) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != sub) return;
  // The node gave the slot away (Redis 7 tells its shard subscribers so).
  ++stats_.sunsubscribed;
  it->second.at = nullptr;
  it->second.confirmed = false;
  request_refresh();
  reconcile_subscriptions();
}

void RedisClusterLink::on_shard_message(Subscriber* sub, std::string_view name,
                                        std::string_view message) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second.at != sub) return;
  const std::shared_ptr<MessageHandler> handler = it->second.on_message;  // may resubscribe
  if (handler && *handler) (*handler)(name, message);
}

void RedisClusterLink::on_subscriber_lost(Subscriber* sub, const Error& why) {
  auto it = subscribers_.find(sub->address());
  if (it == subscribers_.end() || it->second.get() != sub) return;
  for (auto& [name, channel] : channels_) {
    if (channel.at != sub) continue;
    channel.at = nullptr;
    channel.confirmed = false;
    settle(channel, why);
  }
  request_refresh();
  retire_subscriber(sub);
  schedule_resubscribe();
}

// Runs the waits of `channel`'s ssubscribe() calls: each once, ok when its
// last channel is confirmed, with the first failure otherwise.
void RedisClusterLink::settle(Channel& channel, const Status& outcome) {
  std::vector<std::shared_ptr<SubscribeWait>> waits = std::move(channel.waits);
  channel.waits.clear();
  for (auto& wait : waits) {
    if (wait->remaining == 0) continue;
    if (outcome && --wait->remaining > 0) continue;
    wait->remaining = 0;
    if (auto done = std::move(wait->done)) done(outcome);
  }
}

void RedisClusterLink::retire_subscriber(Subscriber* sub) {
  auto it = subscribers_.find(sub->address());
  if (it == subscribers_.end() || it->second.get() != sub) return;
  sub->close();  // no event after this
  retired_subscribers_.push_back(std::move(it->second));
  subscribers_.erase(it);
  boost::asio::post(io_, lifetime_.guard([this] { retired_subscribers_.clear(); }));
}

}  // namespace fogm2m::io
