// Nodes on a real Redis Cluster whose master is SIGKILLed mid-run: its
// replica is promoted and the nodes keep serving.
//
// What a failover loses. Redis Cluster replicates asynchronously: a master
// answers a write before its replicas have it, so the writes it
// acknowledged in the last moments before it died (those still in its
// replication buffer) are gone once its replica takes over. For fogm2m that
// is a registration whose device got 2.01 Created but whose record, indexes
// or ownership key vanished: the device's next Update gets 4.04 Not Found
// and it registers again (LwM2M's own recovery), and the bus answers
// requests for it with "not registered" meanwhile. Observations and PSK
// entries written in that window are lost the same way.
//
// What WAIT buys. "WAIT 1 <ms>" after a write returns once at least one
// replica acknowledged it (or the timeout passed): a write acknowledged to
// the device only after WAIT said 1 survives the failover of its master
// (unless the replica dies too, or the promoted replica is another one that
// had not received it; with one replica per master, as here, it is the
// one). It costs a round trip to the replica on every write, and it is not
// a transaction: a write WAIT timed out on may still survive or be lost.
// AcknowledgedWritesLostToAFailover measures both, on the stores.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "io/redis_client.h"
#include "store/keys.h"
#include "store/redis_registration_store.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/support/redis_cluster.h"

namespace fogm2m::test {
namespace {

using namespace std::chrono_literals;

std::string register_with_coap_client(uint16_t port, const std::string& ep) {
  return "timeout 20 coap-client-notls -B 3 -m post -t 40 -e '</1/0>,</3313/0>' "
         "'coap://127.0.0.1:" +
         std::to_string(port) + "/rd?ep=" + ep + "&lt=60&lwm2m=1.1&b=U'";
}

class RedisClusterFailover : public ::testing::Test {
 protected:
  // Each test kills a master: a cluster of its own.
  void SetUp() override {
    auto started = RedisCluster::start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    cluster_ = std::move(*started);
  }
  void TearDown() override {
    if (cluster_) cluster_->stop();
  }
  std::unique_ptr<RedisCluster> cluster_;
};

TEST_F(RedisClusterFailover, AMasterKilledMidRunIsReplacedAndTheNodesKeepServing) {
  HarnessOptions o;
  o.nodes = 2;
  o.redis_cluster = cluster_.get();
  ClusterHarness h(o);
  ASSERT_TRUE(h.start()) << h.error();

  auto before = run_command(register_with_coap_client(h.coap_port(0), "before-kill"));
  ASSERT_EQ(before.status, 0) << before.output;
  ASSERT_TRUE(seen_endpoint(h, "LESHAN_REG_NEW", "before-kill"));

  // The master holding the record of "after-kill" dies.
  const uint16_t slot = io::redis_cluster_slot(store::keys::registration("after-kill"));
  auto victim = cluster_->master_of(slot);
  ASSERT_TRUE(victim.ok()) << victim.error().message;
  cluster_->kill(*victim);
  const auto killed_at = std::chrono::steady_clock::now();

  // Registrations are refused (5.03, or no answer) until the replica is
  // promoted, then succeed.
  bool registered = false;
  int attempts = 0;
  while (!registered && std::chrono::steady_clock::now() - killed_at < 20s) {
    ++attempts;
    auto r = run_command(register_with_coap_client(h.coap_port(1), "after-kill"));
    registered = r.status == 0 && r.output.find("5.03") == std::string::npos &&
                 seen_endpoint(h, "LESHAN_REG_NEW", "after-kill", 500ms);
    if (!registered) std::this_thread::sleep_for(200ms);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  ASSERT_TRUE(registered) << "no registration succeeded within 20 s of the kill";
  std::printf("[failover] registration succeeded %lld ms after the kill (%d attempts)\n",
              static_cast<long long>(took.count()), attempts);
  EXPECT_LT(took, 10s);
  // The harness' own client learns of the new master at its first command
  // that fails (the map is read again then): a few tries.
  auto record = h.redis({"GET", store::keys::registration("after-kill")});
  for (int i = 0; i < 50 && !record.ok(); ++i) {
    std::this_thread::sleep_for(100ms);
    record = h.redis({"GET", store::keys::registration("after-kill")});
  }
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_TRUE(record->is_string());
}

// Registrations acknowledged by the store, then their master SIGKILLed
// while more are in flight: how many acknowledged ones are gone after the
// failover, without and with WAIT 1. Printed, not asserted beyond WAIT's
// promise: the loss without WAIT depends on timing (how much of the
// replication stream was still unsent or unread by the replica when the
// master died; on a busy 2-core machine anything from none to every write
// acknowledged in the burst).
//
// A cost of WAIT beyond its round trip: Redis blocks the connection it is
// sent on until it returns, and the nodes pipeline every command to a
// master on one connection, so each command behind a WAIT waits too; on a
// master without a live replica every WAIT lasts its full timeout.
TEST_F(RedisClusterFailover, AcknowledgedWritesLostToAFailover) {
  struct Outcome {
    size_t acked = 0, lost = 0;
  };
  auto run = [&](bool wait_for_replica, const std::string& prefix) -> Outcome {
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    io::RedisClusterOptions co;
    for (size_t k = 0; k < cluster_->size(); ++k) co.seeds.push_back(cluster_->address(k));
    io::ClusterRedis redis(io, std::move(co));
    std::optional<Status> up;
    redis.start([&](Status s) { up = s; });
    while (!up) io.run_one_for(100ms);
    EXPECT_TRUE(up->ok());
    store::RedisRegistrationStore regs(redis);

    // A master that still has a replica (the first run's victim has none).
    auto masters = cluster_->masters();
    EXPECT_TRUE(masters.ok());
    size_t victim = cluster_->size();
    for (size_t m : *masters) {
      auto replica = cluster_->replica_of(m);
      if (replica.ok() && *replica < cluster_->size()) {
        victim = m;
        break;
      }
    }
    EXPECT_LT(victim, cluster_->size());
    if (victim >= cluster_->size()) return Outcome{};
    const std::string victim_address = cluster_->address(victim);
    // Every write sent at once (pipelined); the victim dies once it has
    // acknowledged kKillAfter of them, with the rest still in flight.
    constexpr int kWrites = 3000, kKillAfter = 300;
    std::vector<std::string> acked;
    bool killed = false;
    int answered = 0;
    // Only keys of the victim's slots: a WAIT sent to a master without a
    // replica (the first run's promoted one) would hold its connection for
    // the whole timeout, and every command pipelined behind it.
    for (int i = 0, sent = 0; sent < kWrites; ++i) {
      store::Registration reg;
      reg.endpoint = prefix + std::to_string(i);
      const std::string key = store::keys::registration(reg.endpoint);
      if (redis.link().master_of(io::redis_cluster_slot(key)) != victim_address) continue;
      ++sent;
      reg.reg_id = "R" + reg.endpoint;
      reg.lifetime_s = 600;
      reg.peer = {"127.0.0.1", static_cast<uint16_t>(10000 + i % 50000)};
      reg.owner = "node-1";
      reg.registration_date_ms = reg.last_update_ms = 1'000'000;
      auto ack = [&, ep = reg.endpoint] {
        acked.push_back(ep);
        if (!killed && static_cast<int>(acked.size()) >= kKillAfter) {
          killed = true;
          cluster_->kill(victim);
        }
      };
      auto ok = std::make_shared<int>(0);
      regs.add(reg, [&, ok, ack, wait_for_replica](Result<std::optional<store::Registration>> r) {
        ++answered;
        if (!r) return;
        if (!wait_for_replica) return ack();
        if (++*ok == 2) ack();
      });
      if (wait_for_replica) {
        const std::string_view wait[] = {"WAIT", "1", "500"};
        redis.command_for(key, wait, [&, ok, ack](Result<io::RedisReply> r) {
          ++answered;
          if (r && r->is_integer() && r->integer >= 1 && ++*ok == 2) ack();
        });
      }
    }
    const int expected = wait_for_replica ? 2 * kWrites : kWrites;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (answered < expected && std::chrono::steady_clock::now() < deadline)
      io.run_one_for(100ms);
    EXPECT_TRUE(killed) << "the victim held too few of the writes";
    // The replica takes over; then every acknowledged record is looked for.
    EXPECT_TRUE(cluster_->wait_until_ok(20s).ok());
    Outcome out;
    out.acked = acked.size();
    // The client's map shows the new master after its first failed command
    // (and the io_context running meanwhile): up to 10 s for all of them.
    const auto until = std::chrono::steady_clock::now() + 10s;
    for (const auto& ep : acked) {
      std::optional<Result<io::RedisReply>> got;
      const std::string key = store::keys::registration(ep);
      for (;;) {
        got.reset();
        redis.command({"GET", key}, [&](Result<io::RedisReply> r) { got = std::move(r); });
        while (!got) io.run_one_for(100ms);
        if (got->ok() || std::chrono::steady_clock::now() > until) break;
        io.run_for(100ms);
      }
      if (!got->ok()) {
        const uint16_t slot = io::redis_cluster_slot(key);
        auto owner = cluster_->master_of(slot);
        ADD_FAILURE() << got->error().message << "; slot " << slot << " at "
                      << redis.link().master_of(slot).value_or("none") << " in the client's map, "
                      << (owner ? cluster_->address(*owner) : owner.error().message)
                      << " says the cluster; map reads " << redis.link().stats().map_reads;
        break;
      }
      if (!(*got)->is_string()) ++out.lost;
    }
    redis.disconnect();
    return out;
  };

  const Outcome async = run(false, "async-");
  std::printf(
      "[failover] async replication: %zu acknowledged writes on the killed master, "
      "%zu lost after the failover\n",
      async.acked, async.lost);
  // A second failover: the first victim's replica is now that shard's master
  // with no replica left, so the next run kills another shard's master.
  const Outcome waited = run(true, "wait-");
  std::printf("[failover] WAIT 1: %zu acknowledged writes on the killed master, %zu lost\n",
              waited.acked, waited.lost);
  EXPECT_EQ(waited.lost, 0u);
}

}  // namespace
}  // namespace fogm2m::test
