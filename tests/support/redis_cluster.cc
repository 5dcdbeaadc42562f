#include "tests/support/redis_cluster.h"

// hiredis 0.14's sds.h lacks the extern "C" its other headers have.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/hiredis.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <sstream>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/test_util.h"

namespace fogm2m::test {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One line of CLUSTER NODES:
// <id> <ip:port@cport[,hostname]> <flags> <master id|-> <ping> <pong> <epoch> <link> <slot>...
struct NodeLine {
  std::string id, address, master_id;
  std::vector<std::string> flags;
  std::vector<std::pair<int, int>> ranges;

  bool has(std::string_view flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
  bool failed() const { return has("fail") || has("fail?") || has("noaddr"); }
  bool serves(int slot) const {
    return std::any_of(ranges.begin(), ranges.end(),
                       [slot](auto r) { return r.first <= slot && slot <= r.second; });
  }
};

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, sep)) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

std::vector<NodeLine> parse_nodes(const std::string& text) {
  std::vector<NodeLine> out;
  for (const std::string& line : split(text, '\n')) {
    std::vector<std::string> f = split(line, ' ');
    if (f.size() < 8) continue;
    NodeLine n;
    n.id = f[0];
    n.address = f[1].substr(0, f[1].find_first_of("@,"));
    n.flags = split(f[2], ',');
    n.master_id = f[3];
    for (size_t i = 8; i < f.size(); ++i) {
      const std::string& s = f[i];
      if (s.empty() || s.front() == '[') continue;  // a migration in progress
      const size_t dash = s.find('-');
      const int first = std::stoi(s.substr(0, dash));
      const int last = dash == std::string::npos ? first : std::stoi(s.substr(dash + 1));
      n.ranges.emplace_back(first, last);
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<RedisCluster>> RedisCluster::start(RedisClusterTestOptions options) {
  for (const std::string* binary : {&options.server_binary, &options.cli_binary}) {
    if (::access(binary->c_str(), X_OK) != 0)
      return make_error(ErrorKind::kNotFound, *binary + " not found");
  }
  std::unique_ptr<RedisCluster> cluster(new RedisCluster());
  cluster->options_ = options;
  const auto deadline = Clock::now() + options.start_timeout;
  const size_t n = options.masters * (1 + options.replicas_per_master);
  for (size_t i = 0; i < n; ++i) {
    RedisServerOptions server;
    server.binary = options.server_binary;
    server.extra_args = {"--cluster-enabled",
                         "yes",
                         "--cluster-config-file",
                         "nodes.conf",
                         "--cluster-node-timeout",
                         std::to_string(options.node_timeout.count()),
                         "--cluster-replica-validity-factor",
                         "0",
                         "--repl-diskless-sync-delay",
                         "0",
                         "--cluster-port",
                         ""};
    server.extra_args.insert(server.extra_args.end(), options.extra_args.begin(),
                             options.extra_args.end());
    // The cluster bus port: a free one of its own (port + 10000 may be
    // taken, or beyond 65535). Another one if it was taken meanwhile.
    Result<std::unique_ptr<RedisServer>> started = make_error(ErrorKind::kIo, "not started");
    for (int attempt = 0; attempt < 3 && !started; ++attempt) {
      server.extra_args[11] = std::to_string(free_loopback_port(SOCK_STREAM));
      started = RedisServer::start(server);
    }
    if (!started) return started.error();
    cluster->servers_.push_back(std::move(*started));
  }
  cluster->ids_.resize(n);

  std::vector<std::string> argv = {options.cli_binary, "--cluster", "create"};
  for (size_t i = 0; i < n; ++i) argv.push_back(cluster->address(i));
  argv.insert(argv.end(),
              {"--cluster-replicas", std::to_string(options.replicas_per_master), "--cluster-yes"});
  ChildProcess create(argv);
  if (!create.started()) return make_error(ErrorKind::kIo, "cannot run " + options.cli_binary);
  while (!create.exited() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  if (!create.exited() || create.exit_code() != 0) {
    return make_error(ErrorKind::kIo, "redis-cli --cluster create failed (exit " +
                                          std::to_string(create.exit_code()) + "):\n" +
                                          create.output());
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (Status ok = cluster->wait_until_ok(std::max(left, 1000ms), true); !ok) return ok.error();
  return cluster;
}

RedisCluster::~RedisCluster() {
  stop();
}

// SIGKILL rather than SIGTERM: a test cluster keeps nothing worth a clean
// shutdown, and each server would take up to 100 ms (its next serverCron)
// to act on SIGTERM.
void RedisCluster::stop() {
  for (auto& server : servers_) server->kill();
  for (auto& server : servers_) (void)server->stop();  // removes the directory
}

std::string RedisCluster::address(size_t i) const {
  return servers_[i]->host() + ":" + std::to_string(servers_[i]->port());
}

size_t RedisCluster::index_of(std::string_view address) const {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (this->address(i) == address) return i;
  }
  return servers_.size();
}

Result<std::vector<std::string>> RedisCluster::command(size_t i,
                                                       const std::vector<std::string>& argv) {
  const timeval timeout{5, 0};
  redisContext* c =
      redisConnectWithTimeout(servers_[i]->host().c_str(), servers_[i]->port(), timeout);
  if (c == nullptr || c->err != 0) {
    std::string why = c != nullptr ? c->errstr : "out of memory";
    if (c != nullptr) redisFree(c);
    return make_error(ErrorKind::kIo, "connect to " + address(i) + ": " + why);
  }
  redisSetTimeout(c, timeout);
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(args.size()), args.data(), lengths.data()));
  if (reply == nullptr) {
    std::string why = c->errstr;
    redisFree(c);
    return make_error(ErrorKind::kIo, argv.front() + " at " + address(i) + ": " + why);
  }
  auto text = [](const redisReply* r) -> std::optional<std::string> {
    switch (r->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS:
        return std::string(r->str, r->len);
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      default:
        return std::nullopt;
    }
  };
  Result<std::vector<std::string>> out = std::vector<std::string>{};
  if (reply->type == REDIS_REPLY_ERROR) {
    out = make_error(ErrorKind::kInvalidArgument, std::string(reply->str, reply->len));
  } else if (reply->type == REDIS_REPLY_ARRAY) {
    for (size_t e = 0; e < reply->elements; ++e) {
      if (auto t = text(reply->element[e])) out->push_back(*t);
    }
  } else if (auto t = text(reply)) {
    out->push_back(*t);
  }
  freeReplyObject(reply);
  redisFree(c);
  return out;
}

Result<std::string> RedisCluster::command_text(size_t i, const std::vector<std::string>& argv) {
  auto r = command(i, argv);
  if (!r) return r.error();
  return r->empty() ? std::string() : r->front();
}

Result<std::string> RedisCluster::node_id(size_t i) {
  if (!ids_[i].empty()) return ids_[i];
  auto id = command_text(i, {"CLUSTER", "MYID"});
  if (!id) return id.error();
  ids_[i] = *id;
  return *id;
}

namespace {

// CLUSTER NODES as the first live node sees it.
Result<std::vector<NodeLine>> live_view(RedisCluster& cluster) {
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (!cluster.running(i)) continue;
    auto text = cluster.command_text(i, {"CLUSTER", "NODES"});
    if (text) return parse_nodes(*text);
  }
  return make_error(ErrorKind::kIo, "no node of the cluster answers");
}

}  // namespace

Result<size_t> RedisCluster::master_of(uint16_t slot) {
  auto view = live_view(*this);
  if (!view) return view.error();
  for (const NodeLine& n : *view) {
    if (n.has("master") && !n.failed() && n.serves(slot)) return index_of(n.address);
  }
  return make_error(ErrorKind::kNotFound, "no live master serves slot " + std::to_string(slot));
}

Result<std::vector<size_t>> RedisCluster::masters() {
  auto view = live_view(*this);
  if (!view) return view.error();
  std::vector<size_t> out;
  for (const NodeLine& n : *view) {
    if (n.has("master") && !n.failed() && !n.ranges.empty()) out.push_back(index_of(n.address));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<size_t> RedisCluster::replica_of(size_t master) {
  auto id = node_id(master);
  if (!id) return id.error();
  auto view = live_view(*this);
  if (!view) return view.error();
  for (const NodeLine& n : *view) {
    const size_t i = index_of(n.address);
    if (n.has("slave") && n.master_id == *id && !n.failed() && i < size() && running(i)) return i;
  }
  return size();
}

void RedisCluster::kill(size_t i) {
  servers_[i]->kill();
}

Status RedisCluster::begin_slot_migration(uint16_t slot, size_t from, size_t to) {
  auto from_id = node_id(from), to_id = node_id(to);
  if (!from_id) return from_id.error();
  if (!to_id) return to_id.error();
  const std::string s = std::to_string(slot);
  if (auto r = command(to, {"CLUSTER", "SETSLOT", s, "IMPORTING", *from_id}); !r) return r.error();
  if (auto r = command(from, {"CLUSTER", "SETSLOT", s, "MIGRATING", *to_id}); !r) return r.error();
  return {};
}

Status RedisCluster::finish_slot_migration(uint16_t slot, size_t from, size_t to) {
  auto to_id = node_id(to);
  if (!to_id) return to_id.error();
  const std::string s = std::to_string(slot);
  for (;;) {
    auto keys = command(from, {"CLUSTER", "GETKEYSINSLOT", s, "100"});
    if (!keys) return keys.error();
    if (keys->empty()) break;
    std::vector<std::string> migrate = {
        "MIGRATE", servers_[to]->host(), std::to_string(servers_[to]->port()), "", "0", "5000",
        "KEYS"};
    migrate.insert(migrate.end(), keys->begin(), keys->end());
    if (auto r = command(from, migrate); !r) return r.error();
  }
  // The new owner first (it bumps its epoch), then the old one, then the
  // other masters, as redis-cli does; gossip tells the replicas.
  if (auto r = command(to, {"CLUSTER", "SETSLOT", s, "NODE", *to_id}); !r) return r.error();
  if (auto r = command(from, {"CLUSTER", "SETSLOT", s, "NODE", *to_id}); !r) return r.error();
  auto masters_now = masters();
  if (!masters_now) return masters_now.error();
  for (size_t m : *masters_now) {
    if (m != from && m != to && m < size())
      (void)command(m, {"CLUSTER", "SETSLOT", s, "NODE", *to_id});
  }
  const auto deadline = Clock::now() + 10s;
  const std::string to_address = address(to);
  while (Clock::now() < deadline) {
    bool agreed = true;
    for (size_t i = 0; i < size() && agreed; ++i) {
      if (!running(i)) continue;
      auto text = command_text(i, {"CLUSTER", "NODES"});
      if (!text) return text.error();
      agreed = false;
      for (const NodeLine& n : parse_nodes(*text)) {
        if (n.serves(slot)) agreed = n.address == to_address;
      }
    }
    if (agreed) return {};
    std::this_thread::sleep_for(20ms);
  }
  return make_error(ErrorKind::kTimeout, "the nodes did not agree that " + to_address +
                                             " serves slot " + s + " within 10 s");
}

Status RedisCluster::wait_until_ok(std::chrono::milliseconds timeout, bool replicas_synced) {
  const auto deadline = Clock::now() + timeout;
  std::string last;
  while (Clock::now() < deadline) {
    bool ok = true;
    for (size_t i = 0; i < size() && ok; ++i) {
      if (!running(i)) continue;
      auto info = command_text(i, {"CLUSTER", "INFO"});
      ok = info && info->find("cluster_state:ok") != std::string::npos;
      if (!ok) {
        last = address(i) + ": " + (info ? "cluster_state not ok" : info.error().message);
        break;
      }
      if (!replicas_synced) continue;
      auto replication = command_text(i, {"INFO", "replication"});
      ok = replication && (replication->find("role:slave") == std::string::npos ||
                           replication->find("master_link_status:up") != std::string::npos);
      if (!ok) {
        last = address(i) + ": replica not in sync";
        break;
      }
      // Every node knows every other one in its role (gossip may lag
      // behind the replicas' own view).
      auto nodes = command_text(i, {"CLUSTER", "NODES"});
      if (!nodes) {
        ok = false;
        break;
      }
      size_t replicas = 0, masters = 0, known = 0;
      for (const NodeLine& n : parse_nodes(*nodes)) {
        ++known;
        if (n.failed() || n.has("handshake")) continue;
        if (n.has("slave")) ++replicas;
        if (n.has("master") && !n.ranges.empty()) ++masters;
      }
      ok = known == size() && masters == options_.masters &&
           replicas == options_.masters * options_.replicas_per_master;
      if (!ok) last = address(i) + ": does not see every node in its role yet";
    }
    if (ok) return {};
    std::this_thread::sleep_for(20ms);
  }
  return make_error(
      ErrorKind::kTimeout,
      "cluster not ok within " + std::to_string(timeout.count()) + " ms (" + last + ")");
}

}  // namespace fogm2m::test
