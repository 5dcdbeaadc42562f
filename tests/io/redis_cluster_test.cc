// RedisClusterLink: hash slots as the Redis Cluster spec computes them, then
// a real six-node cluster (three masters, three replicas): the slot map,
// routing to every master, scripts and transactions on tagged keys, a slot
// migrated under the client (ASK, then MOVED), sharded pub/sub following its
// slot, and a master SIGKILLed while the client keeps working.
#include "io/redis_cluster.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/keys.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace fogm2m::io {
namespace {

using namespace std::chrono_literals;
using test::run_until;

// ---------------------------------------------------------------------------
// Hash slots (no server)
// ---------------------------------------------------------------------------

TEST(RedisClusterSlotTest, Crc16IsXmodemAsTheSpecGivesIt) {
  EXPECT_EQ(crc16_xmodem("123456789"), 0x31C3);
  EXPECT_EQ(crc16_xmodem(""), 0);
  EXPECT_EQ(redis_cluster_slot("123456789"), 12739);
  // CLUSTER KEYSLOT's answers.
  EXPECT_EQ(redis_cluster_slot("foo"), 12182);
  EXPECT_EQ(redis_cluster_slot("bar"), 5061);
}

TEST(RedisClusterSlotTest, HashTagsAsTheSpecGivesThem) {
  EXPECT_EQ(redis_cluster_slot("{user1000}.following"), redis_cluster_slot("{user1000}.followers"));
  EXPECT_EQ(redis_cluster_slot("{user1000}.following"), redis_cluster_slot("user1000"));
  // The first '{' and the first '}' after it: "bar".
  EXPECT_EQ(redis_cluster_slot("foo{bar}{zap}"), redis_cluster_slot("bar"));
  // Nothing between them: the whole key.
  EXPECT_EQ(redis_cluster_slot("foo{}{bar}"), crc16_xmodem("foo{}{bar}") % 16384);
  EXPECT_EQ(redis_cluster_slot("foo{{bar}}zap"), crc16_xmodem("{bar") % 16384);
  // No closing brace: the whole key.
  EXPECT_EQ(redis_cluster_slot("foo{bar"), crc16_xmodem("foo{bar") % 16384);
  // The key schema's per-endpoint keys share a slot; the indexes need not.
  const std::string ep = "urn:dev:7";
  const uint16_t slot = redis_cluster_slot(store::keys::registration(ep));
  EXPECT_EQ(redis_cluster_slot(store::keys::owner(ep)), slot);
  EXPECT_EQ(redis_cluster_slot(store::keys::tokens(ep)), slot);
  EXPECT_EQ(redis_cluster_slot(store::keys::observation(ep, "beef")), slot);
  EXPECT_EQ(redis_cluster_slot(store::keys::security(ep)), slot);
}

std::optional<uint16_t> slot_of(std::initializer_list<std::string_view> argv) {
  auto r = redis_command_slot(std::span<const std::string_view>(argv.begin(), argv.size()));
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : std::nullopt;
}

Error refusal_of(std::initializer_list<std::string_view> argv) {
  auto r = redis_command_slot(std::span<const std::string_view>(argv.begin(), argv.size()));
  EXPECT_FALSE(r);
  return r ? Error{} : r.error();
}

TEST(RedisClusterSlotTest, WhichArgumentIsTheKey) {
  EXPECT_EQ(slot_of({"GET", "foo"}), 12182);
  EXPECT_EQ(slot_of({"set", "foo", "1"}), 12182);
  EXPECT_EQ(slot_of({"SPUBLISH", "bar", "hello"}), 5061);
  EXPECT_EQ(slot_of({"PING"}), std::nullopt);
  EXPECT_EQ(slot_of({"PUBLISH", "foo", "x"}), std::nullopt);
  EXPECT_EQ(slot_of({"SCAN", "0", "MATCH", "foo*"}), std::nullopt);
  EXPECT_EQ(slot_of({"SCRIPT", "LOAD", "return 1"}), std::nullopt);
  EXPECT_EQ(slot_of({"EVAL", "return 1", "0"}), std::nullopt);
  EXPECT_EQ(slot_of({"EVAL", "return 1", "2", "{a}1", "{a}2", "arg"}), redis_cluster_slot("a"));
  EXPECT_EQ(slot_of({"EVALSHA", "0123", "1", "foo"}), 12182);
  EXPECT_EQ(slot_of({"OBJECT", "ENCODING", "foo"}), 12182);
  EXPECT_EQ(slot_of({"MEMORY", "USAGE", "foo"}), 12182);
  EXPECT_EQ(slot_of({"ZUNION", "2", "foo", "{foo}x"}), 12182);
  EXPECT_EQ(slot_of({"XREAD", "COUNT", "2", "STREAMS", "foo", "0"}), 12182);

  Error cross = refusal_of({"EVAL", "return 1", "2", "foo", "bar"});
  EXPECT_EQ(cross.kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(cross.message.find("CROSSSLOT"), std::string::npos) << cross.message;
  EXPECT_EQ(refusal_of({"EVAL", "return 1", "3", "foo"}).kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(refusal_of({"EVAL", "return 1", "x"}).kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(refusal_of({"MULTI"}).kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(refusal_of({"SUBSCRIBE", "ch"}).kind, ErrorKind::kInvalidArgument);
}

// No cluster at all: a seed nobody listens on, then a server not in
// cluster mode. start() fails with the reason; the link stays closed.
TEST(RedisClusterStartTest, AStartWithoutAClusterFails) {
  boost::asio::io_context io;
  auto options = [](std::string seed) {
    RedisClusterOptions o;
    o.seeds = {std::move(seed)};
    return o;
  };
  RedisClusterLink nowhere(
      io, options("127.0.0.1:" + std::to_string(test::free_loopback_port(SOCK_STREAM))));
  std::optional<Status> ready;
  nowhere.start([&](Status s) { ready = std::move(s); });
  ASSERT_TRUE(run_until(io, [&] { return ready.has_value(); }));
  ASSERT_FALSE(*ready);
  EXPECT_EQ(ready->error().kind, ErrorKind::kIo);
  EXPECT_FALSE(nowhere.running());

  auto plain = test::RedisServer::start();
  ASSERT_TRUE(plain) << plain.error().message;
  RedisClusterLink standalone(io,
                              options((*plain)->host() + ":" + std::to_string((*plain)->port())));
  ready.reset();
  standalone.start([&](Status s) { ready = std::move(s); });
  ASSERT_TRUE(run_until(io, [&] { return ready.has_value(); }));
  ASSERT_FALSE(*ready);
  EXPECT_EQ(ready->error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(ready->error().message.find("cluster support disabled"), std::string::npos)
      << ready->error().message;
}

// ---------------------------------------------------------------------------
// Against a real cluster
// ---------------------------------------------------------------------------

// A cluster per test suite (ctest runs each test in its own process, so in
// effect one per test); tests of one suite use distinct keys and slots.
class RedisClusterLinkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = test::RedisCluster::start();
    if (started) {
      cluster_ = std::move(*started);
    } else {
      start_error_ = started.error().message;
    }
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  void SetUp() override {
    ASSERT_TRUE(cluster_ != nullptr) << "the cluster did not start: " << start_error_;
  }

  RedisClusterOptions options(std::vector<std::string> seeds = {}) const {
    RedisClusterOptions o;
    o.seeds = seeds.empty() ? std::vector<std::string>{cluster_->address(0)} : std::move(seeds);
    o.link.initial_backoff = 20ms;
    o.link.max_backoff = 200ms;
    o.link.command_timeout = 1000ms;
    o.refresh_interval = 50ms;
    return o;
  }

  void start(RedisClusterLink& link) {
    std::optional<Status> ready;
    link.start([&](Status s) { ready = std::move(s); });
    ASSERT_FALSE(ready.has_value());  // never inside the call
    ASSERT_TRUE(run_until(io, [&] { return ready.has_value(); }));
    ASSERT_TRUE(ready->ok()) << ready->error().message;
  }

  Result<RedisReply> run(RedisClusterLink& link, std::vector<std::string> argv) {
    std::optional<Result<RedisReply>> reply;
    link.command(argv, [&](Result<RedisReply> r) { reply = std::move(r); });
    EXPECT_FALSE(reply.has_value());
    if (!run_until(
            io, [&] { return reply.has_value(); }, 15s))
      return make_error(ErrorKind::kTimeout, "no reply");
    return std::move(*reply);
  }

  // A key "<prefix>{<n>}" whose slot `cluster_` says node `master` serves.
  std::string key_on(size_t master, const std::string& prefix) {
    for (int n = 0; n < 100000; ++n) {
      std::string key = prefix + "{" + std::to_string(n) + "}";
      auto owner = cluster_->master_of(redis_cluster_slot(key));
      if (owner && *owner == master) return key;
    }
    ADD_FAILURE() << "no key found on node " << master;
    return {};
  }

  boost::asio::io_context io;
  static inline std::unique_ptr<test::RedisCluster> cluster_;
  static inline std::string start_error_;
};

TEST_F(RedisClusterLinkTest, ReadsTheSlotMapFromAReplicaSeed) {
  auto masters = cluster_->masters();
  ASSERT_TRUE(masters);
  ASSERT_EQ(masters->size(), 3u);
  auto replica = cluster_->replica_of(masters->front());
  ASSERT_TRUE(replica);
  ASSERT_LT(*replica, cluster_->size());
  // An unreachable seed first: the next one is asked.
  const std::string dead = "127.0.0.1:" + std::to_string(test::free_loopback_port(SOCK_STREAM));
  RedisClusterLink link(io, options({dead, cluster_->address(*replica)}));
  start(link);

  std::set<std::string> expected, seen;
  for (size_t m : *masters) expected.insert(cluster_->address(m));
  size_t covered = 0;
  for (const RedisClusterShard& shard : link.shards()) {
    seen.insert(shard.master);
    for (auto [first, last] : shard.ranges) covered += last - first + 1u;
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(covered, 16384u);
  for (uint16_t slot : {0, 5460, 5461, 10922, 10923, 12739, 16383}) {
    auto owner = cluster_->master_of(slot);
    ASSERT_TRUE(owner);
    EXPECT_EQ(link.master_of(slot), cluster_->address(*owner)) << "slot " << slot;
  }
  // Our slots are Redis' slots.
  for (std::string key :
       {"a", "{user1000}.following", "foo{}{bar}", "foo{{bar}}zap", "REG:EP:{x}"}) {
    auto slot = cluster_->command_text(0, {"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(slot);
    EXPECT_EQ(std::to_string(redis_cluster_slot(key)), *slot) << key;
  }
  std::vector<std::string> visited;
  link.for_each_master([&](const std::string& address) { visited.push_back(address); });
  EXPECT_EQ(std::set<std::string>(visited.begin(), visited.end()), expected);
}

// Keys on all three masters, pipelined: every reply arrives, each key is
// where its slot says (read back from the node itself), nothing redirected.
TEST_F(RedisClusterLinkTest, SetAndGetOnEveryMaster) {
  RedisClusterLink link(io, options());
  start(link);
  auto masters = cluster_->masters();
  ASSERT_TRUE(masters);
  std::map<std::string, size_t> key_node;
  for (size_t m : *masters) {
    for (int i = 0; i < 5; ++i) key_node[key_on(m, "rw" + std::to_string(i) + ":")] = m;
  }
  size_t set_ok = 0;
  for (const auto& [key, node] : key_node) {
    link.command({"SET", key, "v-" + key}, [&](Result<RedisReply> r) {
      EXPECT_TRUE(r) << r.error().message;
      if (r && r->str == "OK") ++set_ok;
    });
  }
  ASSERT_TRUE(run_until(io, [&] { return set_ok == key_node.size(); }));
  std::map<std::string, std::string> got;
  for (const auto& [key, node] : key_node) {
    link.command({"GET", key}, [&, k = key](Result<RedisReply> r) {
      got[k] = r ? r->str : "error: " + r.error().message;
    });
  }
  ASSERT_TRUE(run_until(io, [&] { return got.size() == key_node.size(); }));
  for (const auto& [key, node] : key_node) {
    EXPECT_EQ(got[key], "v-" + key);
    auto direct = cluster_->command_text(node, {"GET", key});
    ASSERT_TRUE(direct) << direct.error().message;
    EXPECT_EQ(*direct, "v-" + key);
  }
  auto pong = run(link, {"PING"});
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->str, "PONG");
  EXPECT_EQ(link.stats().moved, 0u);
  EXPECT_EQ(link.stats().asked, 0u);

  // Closed: commands sent get their replies, new ones fail with kIo.
  std::optional<Result<RedisReply>> last;
  link.command({"GET", key_node.begin()->first},
               [&](Result<RedisReply> r) { last = std::move(r); });
  link.disconnect();
  auto refused = run(link, {"GET", key_node.begin()->first});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::kIo);
  ASSERT_TRUE(run_until(io, [&] { return last.has_value(); }));
  ASSERT_TRUE(*last) << last->error().message;
  EXPECT_EQ((*last)->str, "v-" + key_node.begin()->first);
}

TEST_F(RedisClusterLinkTest, ScriptsAndTransactionsOnOneHashTag) {
  RedisClusterLink link(io, options());
  start(link);
  const std::string reg = store::keys::registration("dev-7"), owner = store::keys::owner("dev-7");
  auto both = run(link, {"EVAL",
                         "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[2]);"
                         "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])",
                         "2", reg, owner, "rec", "node-1"});
  ASSERT_TRUE(both) << both.error().message;
  EXPECT_EQ(both->str, "recnode-1");

  // Keys in two slots: refused before anything is sent.
  auto cross =
      run(link, {"EVAL", "redis.call('SET', KEYS[1], 'x'); return 1", "2", "xs:a", "xs:b"});
  ASSERT_FALSE(cross);
  EXPECT_EQ(cross.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(cross.error().message.find("CROSSSLOT"), std::string::npos);
  auto untouched = run(link, {"EXISTS", "xs:a"});
  ASSERT_TRUE(untouched);
  EXPECT_EQ(untouched->integer, 0);

  std::optional<Result<RedisReply>> exec;
  link.transaction("{dev-7}",
                   {{"GET", reg}, {"SADD", store::keys::tokens("dev-7"), "beef"}, {"DEL", owner}},
                   [&](Result<RedisReply> r) { exec = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return exec.has_value(); }));
  ASSERT_TRUE(*exec) << exec->error().message;
  ASSERT_TRUE((*exec)->is_array());
  ASSERT_EQ((*exec)->elements.size(), 3u);
  EXPECT_EQ((*exec)->elements[0].str, "rec");
  EXPECT_EQ((*exec)->elements[1].integer, 1);
  EXPECT_EQ((*exec)->elements[2].integer, 1);

  // A transaction whose command fails to queue is discarded as a whole.
  exec.reset();
  link.transaction("{dev-7}", {{"SET", reg, "changed"}, {"SET", reg}},
                   [&](Result<RedisReply> r) { exec = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return exec.has_value(); }));
  ASSERT_FALSE(*exec);
  EXPECT_EQ(exec->error().kind, ErrorKind::kInvalidArgument);
  auto kept = run(link, {"GET", reg});
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->str, "rec");
}

TEST_F(RedisClusterLinkTest, ScansEveryMaster) {
  RedisClusterLink link(io, options());
  start(link);
  std::set<std::string> written;
  size_t done = 0;
  for (int i = 0; i < 60; ++i) {
    written.insert("scan:" + std::to_string(i));
    link.command({"SET", "scan:" + std::to_string(i), "1"}, [&](Result<RedisReply>) { ++done; });
  }
  ASSERT_TRUE(run_until(io, [&] { return done == written.size(); }));

  std::set<std::string> found;
  size_t masters = 0, finished = 0;
  std::function<void(const std::string&, const std::string&)> scan =
      [&](const std::string& address, const std::string& cursor) {
        link.command_at(address, {"SCAN", cursor, "MATCH", "scan:*", "COUNT", "100"},
                        [&, address](Result<RedisReply> r) {
                          ASSERT_TRUE(r) << r.error().message;
                          for (const auto& key : r->elements[1].elements) found.insert(key.str);
                          if (r->elements[0].str == "0") {
                            ++finished;
                          } else {
                            scan(address, r->elements[0].str);
                          }
                        });
      };
  link.for_each_master([&](const std::string& address) {
    ++masters;
    scan(address, "0");
  });
  ASSERT_EQ(masters, 3u);
  ASSERT_TRUE(run_until(io, [&] { return finished == masters; }));
  EXPECT_EQ(found, written);
}

// A slot migrated under the client: while it is half-way, a key already at
// the target is reached through ASK (the map unchanged); once done, the old
// owner answers MOVED, and the client follows and updates its map.
TEST_F(RedisClusterLinkTest, FollowsAskDuringAMigrationAndMovedAfterIt) {
  RedisClusterLink link(io, options());
  start(link);
  auto masters = cluster_->masters();
  ASSERT_TRUE(masters);
  const size_t from = masters->at(0), to = masters->at(1);
  const std::string old_key = key_on(from, "mig:old");
  const std::string tag = old_key.substr(old_key.find('{'));
  const std::string new_key = "mig:new" + tag;
  const uint16_t slot = redis_cluster_slot(old_key);
  ASSERT_EQ(redis_cluster_slot(new_key), slot);
  ASSERT_TRUE(run(link, {"SET", old_key, "before"}));

  ASSERT_TRUE(cluster_->begin_slot_migration(slot, from, to));
  auto old_value = run(link, {"GET", old_key});  // still at `from`
  ASSERT_TRUE(old_value) << old_value.error().message;
  EXPECT_EQ(old_value->str, "before");
  auto asked = run(link, {"SET", new_key, "asked"});  // not at `from`: ASK `to`
  ASSERT_TRUE(asked) << asked.error().message;
  EXPECT_GE(link.stats().asked, 1u);
  EXPECT_EQ(link.master_of(slot), cluster_->address(from));
  auto read_back = run(link, {"GET", new_key});
  ASSERT_TRUE(read_back) << read_back.error().message;
  EXPECT_EQ(read_back->str, "asked");

  ASSERT_TRUE(cluster_->finish_slot_migration(slot, from, to));
  const uint64_t moved_before = link.stats().moved;
  auto moved = run(link, {"GET", old_key});
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(moved->str, "before");
  EXPECT_EQ(link.stats().moved, moved_before + 1);
  EXPECT_EQ(link.master_of(slot), cluster_->address(to));
  // The whole map is read again in the background.
  const uint64_t reads = link.stats().map_reads;
  ASSERT_TRUE(run_until(io, [&] { return link.stats().map_reads > reads; }));
  EXPECT_EQ(link.master_of(slot), cluster_->address(to));
}

// A shard channel: delivered from its master; when its slot is migrated,
// Redis 7 sunsubscribes the subscriber, which subscribes at the new owner.
TEST_F(RedisClusterLinkTest, ShardedPubSubFollowsItsSlot) {
  RedisClusterLink link(io, options());
  start(link);
  auto masters = cluster_->masters();
  ASSERT_TRUE(masters);
  const size_t from = masters->at(2), to = masters->at(0);
  const std::string channel = key_on(from, "events:");
  std::vector<std::string> got;
  std::optional<Status> subscribed;
  link.ssubscribe(
      {channel},
      [&](std::string_view ch, std::string_view m) {
        EXPECT_EQ(ch, channel);
        got.emplace_back(m);
      },
      [&](Status s) { subscribed = std::move(s); });
  EXPECT_FALSE(subscribed.has_value());
  ASSERT_TRUE(run_until(io, [&] { return subscribed.has_value(); }));
  ASSERT_TRUE(subscribed->ok()) << subscribed->error().message;
  EXPECT_EQ(link.confirmed_subscriptions(), 1u);

  std::optional<Result<RedisReply>> receivers;
  link.spublish(channel, "one", [&](Result<RedisReply> r) { receivers = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return receivers.has_value() && !got.empty(); }));
  ASSERT_TRUE(*receivers) << receivers->error().message;
  EXPECT_EQ((*receivers)->integer, 1);
  EXPECT_EQ(got, std::vector<std::string>{"one"});

  const uint16_t slot = redis_cluster_slot(channel);
  ASSERT_TRUE(cluster_->begin_slot_migration(slot, from, to));
  ASSERT_TRUE(cluster_->finish_slot_migration(slot, from, to));
  ASSERT_TRUE(run_until(
      io, [&] { return link.stats().resubscribed >= 1 && link.confirmed_subscriptions() == 1; },
      5s));
  EXPECT_EQ(link.stats().sunsubscribed, 1u);  // Redis 7.0 said so as the slot left
  // Published at the new owner (through MOVED or the refreshed map).
  receivers.reset();
  link.spublish(channel, "two", [&](Result<RedisReply> r) { receivers = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return receivers.has_value() && got.size() == 2; }));
  ASSERT_TRUE(*receivers) << receivers->error().message;
  EXPECT_EQ((*receivers)->integer, 1);
  EXPECT_EQ(got.back(), "two");
  EXPECT_EQ(link.master_of(slot), cluster_->address(to));
}

// ---------------------------------------------------------------------------
// Failover: a cluster of its own, as it loses a master
// ---------------------------------------------------------------------------

class RedisClusterFailoverTest : public RedisClusterLinkTest {};

TEST_F(RedisClusterFailoverTest, AReplicaTakesOverAndTheClientFollows) {
  RedisClusterLink link(io, options());
  start(link);
  auto masters = cluster_->masters();
  ASSERT_TRUE(masters);
  const size_t victim = masters->at(1);
  auto heir = cluster_->replica_of(victim);
  ASSERT_TRUE(heir);
  ASSERT_LT(*heir, cluster_->size());
  const std::string key = key_on(victim, "fo:");
  const std::string channel = key_on(victim, "fo-events:");
  const uint16_t slot = redis_cluster_slot(key);
  ASSERT_TRUE(run(link, {"SET", key, "v1"}));
  std::vector<std::string> got;
  std::optional<Status> subscribed;
  link.ssubscribe(
      {channel}, [&](std::string_view, std::string_view m) { got.emplace_back(m); },
      [&](Status s) { subscribed = std::move(s); });
  ASSERT_TRUE(run_until(io, [&] { return subscribed.has_value(); }));
  ASSERT_TRUE(subscribed->ok());
  // Also a key on a surviving master, to see that the cluster as a whole
  // comes back.
  const std::string other = key_on(masters->at(0), "fo-other:");
  // The replica must hold v1 before its master dies.
  auto synced = cluster_->command_text(victim, {"WAIT", "1", "2000"});
  ASSERT_TRUE(synced);
  ASSERT_EQ(*synced, "1");

  cluster_->kill(victim);
  const auto killed_at = std::chrono::steady_clock::now();
  // Callers retry on kIo; here, every 50 ms until it works.
  Result<RedisReply> written = make_error(ErrorKind::kIo, "not tried");
  while (std::chrono::steady_clock::now() - killed_at < 15s) {
    written = run(link, {"SET", key, "v2"});
    if (written) break;
    EXPECT_EQ(written.error().kind, ErrorKind::kIo) << written.error().message;
    run_until(
        io, [] { return false; }, 50ms);
  }
  ASSERT_TRUE(written) << written.error().message;
  const auto took = std::chrono::steady_clock::now() - killed_at;
  EXPECT_LT(took, 10s);
  EXPECT_EQ(link.master_of(slot), cluster_->address(*heir));
  auto value = run(link, {"GET", key});
  ASSERT_TRUE(value) << value.error().message;
  EXPECT_EQ(value->str, "v2");
  auto elsewhere = run(link, {"SET", other, "x"});
  ASSERT_TRUE(elsewhere) << elsewhere.error().message;

  // The shard channel is subscribed again at the new master.
  ASSERT_TRUE(run_until(
      io, [&] { return link.confirmed_subscriptions() == 1; }, 5s));
  std::optional<Result<RedisReply>> receivers;
  link.spublish(channel, "after", [&](Result<RedisReply> r) { receivers = std::move(r); });
  ASSERT_TRUE(run_until(io, [&] { return receivers.has_value() && !got.empty(); }));
  EXPECT_EQ(got.back(), "after");
  EXPECT_GE(link.stats().resubscribed, 1u);
}

}  // namespace
}  // namespace fogm2m::io
