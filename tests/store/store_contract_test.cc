// The store contracts, run against every implementation: in-memory, a real
// redis-server started by the fixture, and a real Redis Cluster (3 masters,
// 3 replicas; started once for the binary, emptied before each test).
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>

#include "io/redis_client.h"
#include "io/redis_link.h"
#include "store/keys.h"
#include "store/memory_observation_store.h"
#include "store/memory_registration_store.h"
#include "store/memory_security_store.h"
#include "store/redis_observation_store.h"
#include "store/redis_registration_store.h"
#include "store/redis_security_store.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

namespace fogm2m::store {
namespace {

using test::RedisServer;

// One set of stores on one backend. The Redis backend gets a fresh
// redis-server per test, so tests never see each other's keys.
struct Backend {
  boost::asio::io_context io;
  std::unique_ptr<RedisServer> redis_server;
  std::unique_ptr<io::RedisLink> redis;
  std::unique_ptr<io::RedisClient> client;  // over `redis`, or a cluster
  std::unique_ptr<RegistrationStore> registrations;
  std::unique_ptr<ObservationStore> observations;
  std::unique_ptr<SecurityStore> security;

  // Calls `op` with a callback and runs the io_context until it fires.
  template <class T, class Op>
  Result<T> wait(Op op) {
    std::optional<Result<T>> out;
    op([&](Result<T> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(test::run_until(io, [&] { return out.has_value(); })) << "store callback never ran";
    if (!out) return make_error(ErrorKind::kTimeout, "no callback");
    return std::move(*out);
  }
};

std::unique_ptr<Backend> make_memory() {
  auto b = std::make_unique<Backend>();
  b->registrations = std::make_unique<MemoryRegistrationStore>(b->io);
  b->observations = std::make_unique<MemoryObservationStore>(b->io);
  b->security = std::make_unique<MemorySecurityStore>(b->io);
  return b;
}

std::unique_ptr<Backend> make_redis() {
  auto b = std::make_unique<Backend>();
  auto server = RedisServer::start();
  if (!server) {
    ADD_FAILURE() << server.error().message;
    return nullptr;
  }
  b->redis_server = std::move(*server);
  b->redis = std::make_unique<io::RedisLink>(
      b->io, io::RedisLinkOptions::at(b->redis_server->host(), b->redis_server->port()));
  std::optional<Status> connected;
  b->redis->start([&](Status s) { connected = s; });
  if (!test::run_until(b->io, [&] { return connected.has_value(); }) || !connected->ok()) {
    ADD_FAILURE() << "cannot connect to redis";
    return nullptr;
  }
  b->client = std::make_unique<io::SingleRedis>(*b->redis);
  b->registrations = std::make_unique<RedisRegistrationStore>(*b->client);
  b->observations = std::make_unique<RedisObservationStore>(*b->client);
  b->security = std::make_unique<RedisSecurityStore>(*b->client);
  return b;
}

// One Redis Cluster for every test of the binary (a start costs seconds).
test::RedisCluster* shared_cluster() {
  static Result<std::unique_ptr<test::RedisCluster>> cluster = test::RedisCluster::start();
  if (!cluster) {
    ADD_FAILURE() << "redis cluster: " << cluster.error().message;
    return nullptr;
  }
  return cluster->get();
}

std::unique_ptr<Backend> make_redis_cluster() {
  test::RedisCluster* cluster = shared_cluster();
  if (!cluster) return nullptr;
  auto masters = cluster->masters();
  if (!masters) {
    ADD_FAILURE() << masters.error().message;
    return nullptr;
  }
  for (size_t m : *masters) {
    auto flushed = cluster->command(m, {"FLUSHALL"});
    if (!flushed) {
      ADD_FAILURE() << flushed.error().message;
      return nullptr;
    }
  }
  auto b = std::make_unique<Backend>();
  io::RedisClusterOptions options;
  for (size_t i = 0; i < cluster->size(); ++i) options.seeds.push_back(cluster->address(i));
  b->client = std::make_unique<io::ClusterRedis>(b->io, std::move(options));
  std::optional<Status> connected;
  b->client->start([&](Status s) { connected = s; });
  if (!test::run_until(b->io, [&] { return connected.has_value(); }) || !connected->ok()) {
    ADD_FAILURE() << "cannot read the cluster's slot map";
    return nullptr;
  }
  b->registrations = std::make_unique<RedisRegistrationStore>(*b->client);
  b->observations = std::make_unique<RedisObservationStore>(*b->client);
  b->security = std::make_unique<RedisSecurityStore>(*b->client);
  return b;
}

Registration sample(const std::string& ep, const std::string& reg_id, int64_t now_ms = 1'000'000) {
  Registration r;
  r.endpoint = ep;
  r.reg_id = reg_id;
  r.lifetime_s = 60;
  r.lwm2m_version = "1.1";
  r.peer = {"127.0.0.1", 40000};
  r.object_links = {{"/1/0", {}}, {"/3313/0", {{"ver", "1.1"}}}};
  r.registration_date_ms = now_ms;
  r.last_update_ms = now_ms;
  r.owner = "node-1";
  return r;
}

class StoreContract : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const std::string backend = GetParam();
    b_ = backend == "redis"           ? make_redis()
         : backend == "redis_cluster" ? make_redis_cluster()
                                      : make_memory();
    ASSERT_NE(b_, nullptr);
  }
  Backend& b() { return *b_; }
  RegistrationStore& regs() { return *b_->registrations; }

  std::unique_ptr<Backend> b_;
};

TEST_P(StoreContract, AddThenLookUpEveryWay) {
  auto reg = sample("dev-1", "R1");
  auto prev = b().wait<std::optional<Registration>>([&](auto cb) { regs().add(reg, cb); });
  ASSERT_TRUE(prev.ok()) << prev.error().message;
  EXPECT_FALSE(prev->has_value());

  auto by_ep =
      b().wait<std::optional<Registration>>([&](auto cb) { regs().get_by_endpoint("dev-1", cb); });
  ASSERT_TRUE(by_ep.ok() && by_ep->has_value());
  EXPECT_EQ((*by_ep)->reg_id, "R1");
  EXPECT_EQ((*by_ep)->object_links.size(), 2u);
  EXPECT_EQ((*by_ep)->object_links[1].attribute("ver"), "1.1");

  auto by_id =
      b().wait<std::optional<Registration>>([&](auto cb) { regs().get_by_reg_id("R1", cb); });
  ASSERT_TRUE(by_id.ok() && by_id->has_value());
  EXPECT_EQ((*by_id)->endpoint, "dev-1");

  auto by_addr = b().wait<std::optional<Registration>>([&](auto cb) {
    regs().get_by_address({"127.0.0.1", 40000}, cb);
  });
  ASSERT_TRUE(by_addr.ok() && by_addr->has_value());

  auto owner = b().wait<std::optional<std::string>>([&](auto cb) { regs().owner_of("dev-1", cb); });
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, std::optional<std::string>("node-1"));

  auto none =
      b().wait<std::optional<Registration>>([&](auto cb) { regs().get_by_reg_id("nope", cb); });
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreContract, ReRegistrationReplacesAndReturnsPrevious) {
  (void)b().wait<std::optional<Registration>>(
      [&](auto cb) { regs().add(sample("dev-1", "R1"), cb); });
  auto again = sample("dev-1", "R2");
  again.peer = {"127.0.0.1", 40001};
  auto prev = b().wait<std::optional<Registration>>([&](auto cb) { regs().add(again, cb); });
  ASSERT_TRUE(prev.ok() && prev->has_value());
  EXPECT_EQ((*prev)->reg_id, "R1");
  // The old regId and address no longer lead anywhere.
  auto old =
      b().wait<std::optional<Registration>>([&](auto cb) { regs().get_by_reg_id("R1", cb); });
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->has_value());
  auto old_addr = b().wait<std::optional<Registration>>([&](auto cb) {
    regs().get_by_address({"127.0.0.1", 40000}, cb);
  });
  ASSERT_TRUE(old_addr.ok());
  EXPECT_FALSE(old_addr->has_value());
}

TEST_P(StoreContract, UpdateChangesFieldsAndOwner) {
  (void)b().wait<std::optional<Registration>>(
      [&](auto cb) { regs().add(sample("dev-1", "R1"), cb); });
  RegistrationUpdate u;
  u.reg_id = "R1";
  u.lifetime_s = 120;
  u.peer = PeerAddress{"127.0.0.1", 50000};
  u.now_ms = 2'000'000;
  auto up = b().wait<UpdatedRegistration>([&](auto cb) { regs().update(u, "node-2", cb); });
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->previous.lifetime_s, 60);
  EXPECT_EQ(up->current.lifetime_s, 120);
  EXPECT_EQ(up->current.last_update_ms, 2'000'000);
  auto owner = b().wait<std::optional<std::string>>([&](auto cb) { regs().owner_of("dev-1", cb); });
  EXPECT_EQ(*owner, std::optional<std::string>("node-2"));
  auto by_addr = b().wait<std::optional<Registration>>([&](auto cb) {
    regs().get_by_address({"127.0.0.1", 50000}, cb);
  });
  ASSERT_TRUE(by_addr.ok() && by_addr->has_value());

  u.reg_id = "missing";
  auto missing = b().wait<UpdatedRegistration>([&](auto cb) { regs().update(u, "node-2", cb); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

TEST_P(StoreContract, RemoveDeletesEverything) {
  (void)b().wait<std::optional<Registration>>(
      [&](auto cb) { regs().add(sample("dev-1", "R1"), cb); });
  auto removed = b().wait<Registration>([&](auto cb) { regs().remove("R1", cb); });
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->endpoint, "dev-1");
  auto again = b().wait<Registration>([&](auto cb) { regs().remove("R1", cb); });
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().kind, ErrorKind::kNotFound);
  auto gone =
      b().wait<std::optional<Registration>>([&](auto cb) { regs().get_by_endpoint("dev-1", cb); });
  EXPECT_FALSE(gone->has_value());
  auto owner = b().wait<std::optional<std::string>>([&](auto cb) { regs().owner_of("dev-1", cb); });
  EXPECT_FALSE(owner->has_value());
}

TEST_P(StoreContract, ExpiryReturnsEachExpiredOnce) {
  (void)b().wait<std::optional<Registration>>(
      [&](auto cb) { regs().add(sample("old", "R1", 0), cb); });
  (void)b().wait<std::optional<Registration>>(
      [&](auto cb) { regs().add(sample("new", "R2", 100'000), cb); });
  // "old" expires at 60 s, "new" at 160 s; at 100 s with 5 s grace only "old" goes.
  auto expired = b().wait<std::vector<Registration>>(
      [&](auto cb) { regs().remove_expired(100'000, 5'000, cb); });
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].endpoint, "old");
  auto twice = b().wait<std::vector<Registration>>(
      [&](auto cb) { regs().remove_expired(100'000, 5'000, cb); });
  EXPECT_TRUE(twice->empty());
  auto all = b().wait<std::vector<Registration>>([&](auto cb) { regs().list(cb); });
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].endpoint, "new");
}

TEST_P(StoreContract, ObservationsPerEndpoint) {
  ObservationStore& obs = *b().observations;
  Observation o{"a1b2", "dev-1", "R1", lwm2m::Path(3313, 0, 5702), lwm2m::ContentFormat::kSenmlJson,
                "T-1",  5};
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { obs.add(o, cb); }).ok());
  o.token_hex = "c3";
  o.path = lwm2m::Path(3313, 0, 5703);
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { obs.add(o, cb); }).ok());

  auto got = b().wait<std::optional<Observation>>([&](auto cb) { obs.get("dev-1", "a1b2", cb); });
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->path, lwm2m::Path(3313, 0, 5702));
  EXPECT_EQ((*got)->ticket, "T-1");
  EXPECT_EQ((*got)->content_format, lwm2m::ContentFormat::kSenmlJson);

  auto listed = b().wait<std::vector<Observation>>([&](auto cb) { obs.list("dev-1", cb); });
  EXPECT_EQ(listed->size(), 2u);
  auto removed = b().wait<bool>([&](auto cb) { obs.remove("dev-1", "c3", cb); });
  EXPECT_TRUE(*removed);
  auto removed_again = b().wait<bool>([&](auto cb) { obs.remove("dev-1", "c3", cb); });
  EXPECT_FALSE(*removed_again);
  auto all = b().wait<std::vector<Observation>>([&](auto cb) { obs.remove_all("dev-1", cb); });
  EXPECT_EQ(all->size(), 1u);
  auto empty = b().wait<std::vector<Observation>>([&](auto cb) { obs.list("dev-1", cb); });
  EXPECT_TRUE(empty->empty());
}

// A notification from an address no registration has (NAT rebinding) is
// matched by its token alone; the index follows removals.
TEST_P(StoreContract, AnObservationIsFoundByItsTokenAlone) {
  ObservationStore& obs = *b().observations;
  Observation o{"0badcafe", "dev-7", "R7", lwm2m::Path(3313, 0, 5702), lwm2m::ContentFormat::kTlv,
                "T-7",      5};
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { obs.add(o, cb); }).ok());
  o.token_hex = "0e";
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { obs.add(o, cb); }).ok());
  auto found =
      b().wait<std::optional<Observation>>([&](auto cb) { obs.find_by_token("0badcafe", cb); });
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->endpoint, "dev-7");
  EXPECT_EQ((*found)->ticket, "T-7");
  auto unknown =
      b().wait<std::optional<Observation>>([&](auto cb) { obs.find_by_token("ff", cb); });
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());

  ASSERT_TRUE(b().wait<bool>([&](auto cb) { obs.remove("dev-7", "0badcafe", cb); }).ok());
  auto gone =
      b().wait<std::optional<Observation>>([&](auto cb) { obs.find_by_token("0badcafe", cb); });
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  ASSERT_TRUE(
      b().wait<std::vector<Observation>>([&](auto cb) { obs.remove_all("dev-7", cb); }).ok());
  gone = b().wait<std::optional<Observation>>([&](auto cb) { obs.find_by_token("0e", cb); });
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

// Invalid input is refused like any other failure: later, never inside the
// call (store/done.h), on every backend.
TEST_P(StoreContract, AnInvalidPutIsRefusedLater) {
  SecurityStore& sec = *b().security;
  std::optional<Result<bool>> answer;
  sec.put(SecurityInfo{"dev-1", "", "key"}, [&](Result<bool> r) { answer = std::move(r); });
  EXPECT_FALSE(answer.has_value());
  ASSERT_TRUE(test::run_until(b().io, [&] { return answer.has_value(); }));
  ASSERT_FALSE(answer->ok());
  EXPECT_EQ(answer->error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(answer->error().message.find("empty PSK identity"), std::string::npos);
}

TEST_P(StoreContract, SecurityInfoByEndpointAndIdentity) {
  SecurityStore& sec = *b().security;
  SecurityInfo info{"dev-1", "id-1", std::string("\x01\x02\x00\xff", 4)};
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { sec.put(info, cb); }).ok());
  auto by_ep =
      b().wait<std::optional<SecurityInfo>>([&](auto cb) { sec.get_by_endpoint("dev-1", cb); });
  ASSERT_TRUE(by_ep.ok() && by_ep->has_value());
  EXPECT_EQ(**by_ep, info);
  auto by_id =
      b().wait<std::optional<SecurityInfo>>([&](auto cb) { sec.get_by_identity("id-1", cb); });
  ASSERT_TRUE(by_id->has_value());

  // An identity belongs to one endpoint.
  auto clash = b().wait<bool>([&](auto cb) { sec.put({"dev-2", "id-1", "k"}, cb); });
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(clash.error().message.find('\x01'), std::string::npos);

  // Changing the identity frees the old one.
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { sec.put({"dev-1", "id-2", "k2"}, cb); }).ok());
  auto old =
      b().wait<std::optional<SecurityInfo>>([&](auto cb) { sec.get_by_identity("id-1", cb); });
  EXPECT_FALSE(old->has_value());

  auto empty_key = b().wait<bool>([&](auto cb) { sec.put({"dev-3", "id-3", ""}, cb); });
  EXPECT_FALSE(empty_key.ok());

  EXPECT_TRUE(*b().wait<bool>([&](auto cb) { sec.remove("dev-1", cb); }));
  EXPECT_FALSE(*b().wait<bool>([&](auto cb) { sec.remove("dev-1", cb); }));
  auto gone =
      b().wait<std::optional<SecurityInfo>>([&](auto cb) { sec.get_by_identity("id-2", cb); });
  EXPECT_FALSE(gone->has_value());
}

TEST_P(StoreContract, SecurityInfoListsEveryEntry) {
  SecurityStore& sec = *b().security;
  auto none = b().wait<std::vector<SecurityInfo>>([&](auto cb) { sec.list(cb); });
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // More than one SCAN page's worth is not needed: SCAN's paging is Redis'.
  for (int i = 0; i < 25; ++i) {
    const std::string n = std::to_string(i);
    ASSERT_TRUE(b().wait<bool>([&](auto cb) {
                     sec.put({"dev-" + n, "id-" + n, "k" + n}, cb);
                   })
                    .ok());
  }
  ASSERT_TRUE(b().wait<bool>([&](auto cb) { sec.remove("dev-7", cb); }).ok());
  auto all = b().wait<std::vector<SecurityInfo>>([&](auto cb) { sec.list(cb); });
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 24u);
  std::sort(all->begin(), all->end(),
            [](const SecurityInfo& x, const SecurityInfo& y) { return x.endpoint < y.endpoint; });
  EXPECT_EQ(all->front(), (SecurityInfo{"dev-0", "id-0", "k0"}));
  for (const auto& info : *all) EXPECT_NE(info.endpoint, "dev-7");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContract,
                         ::testing::Values("memory", "redis", "redis_cluster"),
                         [](const auto& p) { return std::string(p.param); });

// The Redis layout is the documented key schema (thesis prefixes, hash tags).
TEST(RedisKeySchema, RecordsLiveUnderDocumentedKeys) {
  auto b = make_redis();
  ASSERT_NE(b, nullptr);
  (void)b->wait<std::optional<Registration>>(
      [&](auto cb) { b->registrations->add(sample("dev-9", "R9"), cb); });
  auto get = [&](const std::string& key) {
    return b->wait<io::RedisReply>([&](auto cb) { b->redis->command({"GET", key}, cb); });
  };
  auto rec = get("REG:EP:{dev-9}");
  ASSERT_TRUE(rec.ok() && rec->is_string());
  EXPECT_NE(rec->str.find("\"regId\":\"R9\""), std::string::npos);
  EXPECT_NE(rec->str.find("\"lt\":60"), std::string::npos);
  EXPECT_EQ(get("EP:REGID:R9")->str, "dev-9");
  EXPECT_EQ(get("EP#UID:{dev-9}")->str, "node-1");
  EXPECT_EQ(get("EP:ADDR:127.0.0.1:40000")->str, "dev-9");
  auto ttl = b->wait<io::RedisReply>([&](auto cb) {
    b->redis->command({"PTTL", "EP#UID:{dev-9}"}, cb);
  });
  EXPECT_GT(ttl->integer, 50'000);
  EXPECT_LE(ttl->integer, 60'000);
  auto score = b->wait<io::RedisReply>([&](auto cb) {
    b->redis->command({"ZSCORE", "EXP:EP", "dev-9"}, cb);
  });
  EXPECT_EQ(score->str, "1060000");
}

}  // namespace
}  // namespace fogm2m::store
