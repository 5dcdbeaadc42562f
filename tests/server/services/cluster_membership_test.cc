// Cluster membership through Redis heartbeats on a fake clock: who is
// alive, who is the fallback, what a stale heartbeat or a stop means, and
// what happens while Redis is unreachable.
#include "server/services/cluster_membership.h"

#include <gtest/gtest.h>

#include <optional>

#include "io/redis_link.h"
#include "store/keys.h"
#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::server {
namespace {

using namespace std::chrono_literals;

class ClusterMembershipTest : public test::RedisServerTest {
 protected:
  void SetUp() override {
    test::RedisServerTest::SetUp();
    connect(redis_a);
    connect(redis_b);
    bool cleared = false;
    redis_a.command({"DEL", store::keys::kNodes}, [&](Result<io::RedisReply>) { cleared = true; });
    ASSERT_TRUE(test::run_until(io, [&] { return cleared; }));
  }

  void connect(io::RedisLink& c) {
    std::optional<Status> up;
    c.start([&](Status s) { up = s; });
    ASSERT_TRUE(test::run_until(io, [&] { return up.has_value(); }));
    ASSERT_TRUE(up->ok());
  }

  // Runs the io_context for a while (heartbeats and view refreshes happen).
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }

  boost::asio::io_context io;
  int64_t now_a = 1'700'000'000'000, now_b = 1'700'000'000'000;
  io::RedisLink redis_a{io, io::RedisLinkOptions::at(redis_host(), redis_port())},
      redis_b{io, io::RedisLinkOptions::at(redis_host(), redis_port())};
  io::SingleRedis client_a{redis_a}, client_b{redis_b};
  RedisMembership a{io, client_a, "node-a", [this] { return now_a; }, 20ms, 3500ms};
  RedisMembership b{io, client_b, "node-b", [this] { return now_b; }, 20ms, 3500ms};
};

TEST_F(ClusterMembershipTest, TheSmallestLiveIdIsTheFallback) {
  a.start();
  b.start();
  run_for(150ms);
  EXPECT_TRUE(a.is_alive("node-b"));
  EXPECT_TRUE(b.is_alive("node-a"));
  EXPECT_TRUE(a.is_fallback());
  EXPECT_FALSE(b.is_fallback());

  // node-a's clock stands still while node-b's moves on: its heartbeat grows
  // stale in node-b's view, and node-b takes over as the fallback.
  now_b += 10'000;
  run_for(150ms);
  EXPECT_FALSE(b.is_alive("node-a"));
  EXPECT_TRUE(b.is_fallback());

  // A node that leaves is gone at once for the others.
  now_a = now_b;
  run_for(150ms);
  EXPECT_TRUE(b.is_alive("node-a"));
  a.stop();
  run_for(150ms);
  EXPECT_FALSE(b.is_alive("node-a"));
  EXPECT_TRUE(b.is_fallback());
}

TEST_F(ClusterMembershipTest, CheckAliveAsksAfreshAndFailsClosedWithoutRedis) {
  b.start();
  run_for(100ms);
  std::optional<bool> alive;
  a.check_alive("node-b", [&](bool v) { alive = v; });  // not in a's (unstarted) view: asked afresh
  ASSERT_TRUE(test::run_until(io, [&] { return alive.has_value(); }));
  EXPECT_TRUE(*alive);
  EXPECT_TRUE(a.is_alive("node-b"));  // and remembered

  std::optional<bool> ghost;
  a.check_alive("node-z", [&](bool v) { ghost = v; });
  ASSERT_TRUE(test::run_until(io, [&] { return ghost.has_value(); }));
  EXPECT_FALSE(*ghost);

  // Without Redis the answer still comes, and says "not alive".
  redis_a.disconnect();
  run_for(50ms);
  std::optional<bool> unreachable;
  a.check_alive("node-y", [&](bool v) { unreachable = v; });
  EXPECT_FALSE(unreachable.has_value());  // never inside the call
  ASSERT_TRUE(test::run_until(io, [&] { return unreachable.has_value(); }));
  EXPECT_FALSE(*unreachable);
}

TEST(SingleNodeMembership, AloneAndAlwaysTheFallback) {
  SingleNodeMembership m("solo");
  EXPECT_TRUE(m.is_fallback());
  EXPECT_TRUE(m.is_alive("solo"));
  EXPECT_FALSE(m.is_alive("other"));
  std::optional<bool> alive;
  m.check_alive("other", [&](bool v) { alive = v; });
  EXPECT_EQ(alive, false);
}

}  // namespace
}  // namespace fogm2m::server
