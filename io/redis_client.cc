#include "io/redis_client.h"

#include <boost/asio/post.hpp>

#include "io/host_port.h"

namespace fogm2m::io {

// --- one server -------------------------------------------------------------

SingleRedis::SingleRedis(boost::asio::io_context& io, const RedisLinkOptions& options)
    : owned_commands_(std::make_unique<RedisLink>(io, options)),
      owned_subscriber_(std::make_unique<RedisLink>(io, options)),
      commands_(owned_commands_.get()),
      subscriber_(owned_subscriber_.get()) {}

SingleRedis::SingleRedis(RedisLink& commands, RedisLink* subscriber)
    : commands_(&commands), subscriber_(subscriber) {}

SingleRedis::~SingleRedis() = default;

void SingleRedis::start(std::function<void(Status)> ready) {
  if (!owned_commands_) {  // borrowed links are started by their owner
    boost::asio::post(io(), lifetime_.guard([ready = std::move(ready)] { ready(Status{}); }));
    return;
  }
  // Both links at once; `ready` once both answered, with the first error.
  struct Start {
    int waiting = 2;
    bool failed = false;
    std::function<void(Status)> ready;
  };
  auto start = std::make_shared<Start>();
  start->ready = std::move(ready);
  auto connected = [start](Status s) {
    if (!s && !start->failed) {
      start->failed = true;
      start->ready(s);
    }
    if (--start->waiting == 0 && !start->failed) start->ready(Status{});
  };
  commands_->start(connected);
  subscriber_->start(connected);
}

void SingleRedis::set_state_handler(StateHandler handler) {
  commands_->set_state_handler(std::move(handler));
}

void SingleRedis::transaction(std::string_view, std::span<const Argv> commands,
                              ReplyHandler on_exec) {
  // Replies come in order on one connection: only EXEC's is looked at (a
  // refused MULTI or command makes EXEC fail too).
  static const std::string_view kMulti[] = {"MULTI"};
  static const std::string_view kExec[] = {"EXEC"};
  auto ignore = [](Result<RedisReply>) {};
  commands_->command(Argv(kMulti), ignore);
  for (Argv c : commands) commands_->command(c, ignore);
  commands_->command(Argv(kExec), std::move(on_exec));
}

void SingleRedis::publish(std::string_view channel, std::string_view message,
                          ReplyHandler on_reply) {
  const std::string_view argv[] = {"PUBLISH", channel, message};
  if (on_reply)
    commands_->command(Argv(argv), std::move(on_reply));
  else
    commands_->command_unawaited(Argv(argv), {});
}

void SingleRedis::set_message_handler(MessageHandler handler) {
  if (subscriber_) subscriber_->set_message_handler(std::move(handler));
}

void SingleRedis::subscribe(Argv channels, std::function<void(Status)> on_subscribed) {
  if (!subscriber_) {
    boost::asio::post(io(), lifetime_.guard([done = std::move(on_subscribed)] {
      if (done) done(make_error(ErrorKind::kInvalidArgument, "redis: no subscriber link"));
    }));
    return;
  }
  subscribed_ = true;
  subscriber_->subscribe(channels, std::move(on_subscribed));
}

void SingleRedis::disconnect() {
  commands_->disconnect();
  if (subscriber_) subscriber_->disconnect();
}

std::string SingleRedis::describe() const {
  return "redis " + commands_->options().host + ":" + std::to_string(commands_->options().port);
}

// --- a cluster --------------------------------------------------------------

ClusterRedis::ClusterRedis(boost::asio::io_context& io, RedisClusterOptions options)
    : io_(io),
      seeds_(options.seeds),
      link_(io, std::move(options)),
      on_message_(std::make_shared<MessageHandler>()) {}

ClusterRedis::~ClusterRedis() = default;

void ClusterRedis::start(std::function<void(Status)> ready) {
  link_.start(lifetime_.guard([ready = std::move(ready)](Status s) { ready(s); }));
}

void ClusterRedis::transaction(std::string_view key, std::span<const Argv> commands,
                               ReplyHandler on_exec) {
  std::vector<std::vector<std::string>> copies;
  copies.reserve(commands.size());
  for (Argv c : commands) copies.emplace_back(c.begin(), c.end());
  link_.transaction(key, std::move(copies), std::move(on_exec));
}

std::vector<std::string> ClusterRedis::scan_targets() const {
  std::vector<std::string> out;
  link_.for_each_master([&](const std::string& address) { out.push_back(address); });
  return out;
}

void ClusterRedis::set_message_handler(MessageHandler handler) {
  *on_message_ = std::move(handler);
}

void ClusterRedis::subscribe(Argv channels, std::function<void(Status)> on_subscribed) {
  // One dispatcher for every channel: the handler set later applies to all.
  link_.ssubscribe(
      channels,
      [handler = on_message_](std::string_view channel, std::string_view message) {
        if (*handler) (*handler)(channel, message);
      },
      std::move(on_subscribed));
}

std::string ClusterRedis::describe() const {
  std::string out = "redis cluster ";
  for (size_t i = 0; i < seeds_.size(); ++i) out += (i ? "," : "") + seeds_[i];
  return out;
}

bool parse_cluster_addresses(std::string_view list, std::vector<std::string>& out) {
  out.clear();
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string item(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    std::string host;
    uint16_t port = 0;
    if (!split_host_port(item, host, port)) return false;
    out.push_back(std::move(item));
  }
  return !out.empty();
}

std::unique_ptr<RedisClient> make_redis_client(boost::asio::io_context& io,
                                               const RedisLinkOptions& link,
                                               const std::vector<std::string>& cluster_seeds,
                                               SingleRedis** single) {
  if (single != nullptr) *single = nullptr;
  if (cluster_seeds.empty()) {
    auto one = std::make_unique<SingleRedis>(io, link);
    if (single != nullptr) *single = one.get();
    return one;
  }
  RedisClusterOptions cluster;
  cluster.seeds = cluster_seeds;
  cluster.link = link;
  return std::make_unique<ClusterRedis>(io, std::move(cluster));
}

}  // namespace fogm2m::io
