// NodeWatch against a real redis-server: the test plays the nodes by
// writing their heartbeats, and moves the watch's clock to let one lapse.
#include "bus/node_watch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "io/redis_client.h"
#include "store/keys.h"
#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::bus {
namespace {

using namespace std::chrono_literals;
using Event = NodeWatch::Event;

class NodeWatchTest : public test::RedisServerTest {
 protected:
  void SetUp() override {
    RedisServerTest::SetUp();
    link_.emplace(io_, io::RedisLinkOptions::at(redis_host(), redis_port()));
    bool up = false;
    link_->start([&](Status s) { up = s.ok(); });
    ASSERT_TRUE(test::run_until(io_, [&] { return up; }));
    ASSERT_TRUE(command({"FLUSHALL"}));
  }
  void TearDown() override {
    watch_.reset();
    if (link_) link_->disconnect();
  }
  bool command(std::vector<std::string> argv) {
    std::optional<bool> ok;
    link_->command(argv, [&](Result<io::RedisReply> r) { ok = r.ok(); });
    return test::run_until(io_, [&] { return ok.has_value(); }) && *ok;
  }
  // A heartbeat of `node` at Unix ms `at`.
  void beat(const std::string& node, int64_t at) {
    ASSERT_TRUE(command({"ZADD", std::string(store::keys::kNodes), std::to_string(at), node}));
  }
  void settle() {
    io_.restart();
    io_.run_for(100ms);
  }

  boost::asio::io_context io_;
  std::optional<io::RedisLink> link_;
  std::optional<io::SingleRedis> redis_;
  std::optional<NodeWatch> watch_;
};

TEST_F(NodeWatchTest, ADeathAndAReturnFromSilenceAreReportedOnce) {
  const int64_t t0 = 1'000'000'000'000;
  std::atomic<int64_t> now{t0};
  std::vector<std::pair<std::string, Event>> events;
  NodeWatchOptions o;
  o.period = 20ms;
  o.liveness = 3500ms;
  o.gap = 2500ms;
  o.clock = [&] { return now.load(); };
  beat("node-1", t0);
  beat("node-2", t0 - 2000);
  beat("node-3", t0);
  redis_.emplace(*link_);
  watch_.emplace(
      *redis_, [&](const std::string& node, Event e) { events.emplace_back(node, e); }, o);
  watch_->start();
  ASSERT_TRUE(test::run_until(io_, [&] { return watch_->alive().size() == 3; }));
  // 2 s on: node-2's last beat is 4 s old (dead); node-1 beat as usual;
  // node-3 did not, but is still within its liveness.
  beat("node-1", t0 + 2000);
  now = t0 + 2000;
  ASSERT_TRUE(test::run_until(io_, [&] { return !events.empty(); }));
  settle();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], std::make_pair(std::string("node-2"), Event::kDied));
  // node-3 beats again 3 s after its last beat: back from a silence.
  beat("node-3", t0 + 3000);
  beat("node-1", t0 + 3000);
  now = t0 + 3000;
  ASSERT_TRUE(test::run_until(io_, [&] { return events.size() == 2; }));
  EXPECT_EQ(events[1], std::make_pair(std::string("node-3"), Event::kReturned));
  // A node that joins is neither.
  beat("node-4", t0 + 3000);
  settle();
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(watch_->deaths(), 1u);
  EXPECT_EQ(watch_->returns(), 1u);
}

}  // namespace
}  // namespace fogm2m::bus
