// The load generator against a real redis-server and a small responder on
// the bus that answers by endpoint name: "ok-*" with an ack and, after a
// fixed delay, a rep; "err-*" with an ack and an err; "silent-*" never.
//
// Counts are checked exactly where the schedule fixes them (R*W +- 1 sent
// for constant arrivals), latencies against the responder's delay (a lower
// bound, never an upper one, so a slow machine cannot fail the test).
#include "runner/load_generator.h"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <thread>

#include "io/redis_link.h"
#include "io/unix_clock.h"
#include "tests/support/bus_peer.h"
#include "tests/support/redis_test_base.h"
#include "tests/support/test_util.h"

namespace fogm2m::runner {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Answers LWM2M_REQ on LWM2M_RESP, on the test's io_context.
class Responder {
 public:
  Responder(boost::asio::io_context& io, std::chrono::milliseconds delay)
      : io_(io), peer_(io), delay_(delay) {}

  // Reads LWM2M_REQ, or the channels given (a node's own, in routed mode).
  bool start(const std::string& host, uint16_t port, std::vector<std::string> channels = {}) {
    if (channels.empty()) channels = {peer_.channels().requests};
    return peer_.start(host, port, std::move(channels),
                       [this](std::string_view, std::string_view m) { on_request(m); });
  }

  // Publishes a message on LWM2M_RESP every `period` until stopped.
  void notify_every(std::chrono::milliseconds period, std::string message) {
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, period);
    timer->async_wait([this, timer, period, message](boost::system::error_code ec) {
      if (ec || stopped_) return;
      publish(message);
      notify_every(period, message);
    });
  }

  void stop() { stopped_ = true; }
  int requests() const { return requests_; }
  std::map<std::string, int> kinds;
  std::map<std::string, int> endpoints;

 private:
  void publish(std::string m) { peer_.publish(peer_.channels().responses, std::move(m)); }

  void on_request(std::string_view message) {
    ++requests_;
    const json::object req = json::parse(message).as_object();
    const std::string ep(req.at("ep").as_string());
    const std::string ticket(req.at("ticket").as_string());
    ++kinds[std::string(req.at("req").at("kind").as_string())];
    ++endpoints[ep];
    if (ep.rfind("silent-", 0) == 0) return;
    publish(json::serialize(json::object{{"ticket", ticket}, {"ack", true}}));
    const bool ok = ep.rfind("ok-", 0) == 0;
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay_);
    timer->async_wait([this, timer, ticket, ok](boost::system::error_code ec) {
      if (ec) return;
      if (ok) {
        publish(json::serialize(
            json::object{{"ticket", ticket}, {"rep", json::object{{"code", "CONTENT"}}}}));
      } else {
        publish(json::serialize(json::object{
            {"ticket", ticket}, {"err", json::object{{"errorMessage", "no such resource"}}}}));
      }
    });
  }

  boost::asio::io_context& io_;
  test::BusPeer peer_;
  std::chrono::milliseconds delay_;
  int requests_ = 0;
  bool stopped_ = false;
};

class LoadGeneratorTest : public test::RedisServerTest {
 protected:
  void SetUp() override {
    RedisServerTest::SetUp();
    responder_ = std::make_unique<Responder>(io_, 5ms);
    ASSERT_TRUE(responder_->start(redis_host(), redis_port()));
    BusOptions bus;
    bus.host = redis_host();
    bus.port = redis_port();
    gen_ = std::make_unique<LoadGenerator>(io_, bus);
    Status connected = gen_->connect();
    ASSERT_TRUE(connected.ok()) << connected.error().message;
  }
  void TearDown() override {
    if (responder_) responder_->stop();
    gen_.reset();
    responder_.reset();
  }

  static LoadPlan plan(std::vector<std::string> endpoints, double rate, double window_s) {
    LoadPlan p;
    p.endpoints = std::move(endpoints);
    schema::RequestSpec read;
    read.set_kind("read");
    read.set_path("/3313/0/{xyz}");
    read.set_weight(1);
    p.mix = {read};
    p.rate = rate;
    p.warmup_s = 0.2;
    p.window_s = window_s;
    p.request_timeout_s = 2;
    return p;
  }

  // Restarts Redis `delay` into the run, on this thread (the run drives io_
  // here): a server started from another thread would die with it
  // (PR_SET_PDEATHSIG). Keep the timer until the run is over.
  std::unique_ptr<boost::asio::steady_timer> restart_redis_after(std::chrono::milliseconds delay) {
    auto timer = std::make_unique<boost::asio::steady_timer>(io_, delay);
    timer->async_wait([](boost::system::error_code ec) {
      if (!ec) {
        EXPECT_TRUE(redis_server().restart());
      }
    });
    return timer;
  }

  boost::asio::io_context io_;
  std::unique_ptr<Responder> responder_;
  std::unique_ptr<LoadGenerator> gen_;
};

TEST_F(LoadGeneratorTest, ConstantRateEveryRequestAnswered) {
  auto r = gen_->run(plan({"ok-1", "ok-2", "ok-3"}, 200, 1.0));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->interrupted);
  EXPECT_LE(std::abs(static_cast<double>(r->sent) - 200.0), 1.0) << r->sent;
  EXPECT_EQ(r->answered, r->sent);
  EXPECT_EQ(r->err_replies, 0u);
  EXPECT_EQ(r->timed_out, 0u);
  ASSERT_EQ(r->latencies_us.size(), r->answered);
  for (uint32_t us : r->latencies_us) EXPECT_GE(us, 5000u);
  EXPECT_EQ(r->window_s, 1.0);
  // Warm-up requests went out too, uncounted.
  EXPECT_GE(responder_->requests(), static_cast<int>(r->sent) + 39);
  EXPECT_EQ(responder_->kinds["read"], responder_->requests());

  schema::ResultRecord record;
  fill_record(*r, &record);
  EXPECT_EQ(record.requests_sent(), r->sent);
  EXPECT_EQ(record.requests_errored(), 0u);
  EXPECT_DOUBLE_EQ(record.achieved_rate(), r->answered / 1.0);
  EXPECT_GE(record.latency().mean_below_p95_ms(), 5.0);
  EXPECT_GE(record.latency().p50_ms(), 5.0);
}

// Redis restarts one second into the run: the requests it swallows are
// errors or timeouts, the run goes on, and once both sides are reconnected
// every request is answered again. The timeline shows where.
TEST_F(LoadGeneratorTest, ARedisRestartMidRunCostsTheRequestsInFlightNotTheRun) {
  LoadPlan p = plan({"ok-1", "ok-2"}, 100, 3.0);
  p.warmup_s = 0;
  p.request_timeout_s = 1;
  p.timeline = true;
  auto fault = restart_redis_after(1s);
  auto r = gen_->run(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->answered + r->err_replies + r->timed_out, r->sent);
  EXPECT_GT(r->errored(), 0u);
  EXPECT_GT(r->answered, 200u);
  ASSERT_GE(r->timeline.size(), 3u);
  uint32_t sent = 0;
  for (const LoadSecond& s : r->timeline) sent += s.sent;
  EXPECT_EQ(sent, r->sent);
  EXPECT_EQ(r->timeline[0].answered, r->timeline[0].sent);  // before the restart
  const LoadSecond& last = r->timeline[2];                  // a second after it
  EXPECT_EQ(last.answered, last.sent) << last.err_replies << " err, " << last.timed_out << " lost";
  EXPECT_EQ(last.latencies_us.size(), last.answered);
}

// The responder takes 300 ms per request, so requests are in flight when
// Redis restarts, and their replies, published while it is away or before
// the generator has subscribed again, are lost. The generator publishes
// them again once its links are back, until acked: none times out.
TEST_F(LoadGeneratorTest, RequestsInFlightAtARedisRestartArePublishedAgainNotLost) {
  responder_->stop();
  responder_ = std::make_unique<Responder>(io_, 300ms);
  ASSERT_TRUE(responder_->start(redis_host(), redis_port()));
  LoadPlan p = plan({"ok-1", "ok-2"}, 50, 2.0);
  p.warmup_s = 0;
  p.request_timeout_s = 4;
  p.timeline = true;
  auto fault = restart_redis_after(1s);
  auto r = gen_->run(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->answered + r->err_replies + r->timed_out, r->sent);
  std::string seconds;
  for (const LoadSecond& s : r->timeline)
    seconds += " [" + std::to_string(s.sent) + " sent " + std::to_string(s.answered) + " ok " +
               std::to_string(s.err_replies) + " err " + std::to_string(s.timed_out) + " lost " +
               std::to_string(s.resent) + " resent]";
  EXPECT_EQ(r->timed_out, 0u) << seconds;
  EXPECT_GT(r->resent, 0u);
  EXPECT_GT(r->answered, 80u);
  uint32_t resent = 0;
  for (const LoadSecond& s : r->timeline) resent += s.resent;
  EXPECT_EQ(resent, r->resent);
}

TEST_F(LoadGeneratorTest, ErrorsAndTimeoutsAreCountedNeverDropped) {
  LoadPlan p = plan({"ok-1", "err-1", "silent-1"}, 150, 1.0);
  p.request_timeout_s = 0.3;
  p.seed = 3;
  auto r = gen_->run(p);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(std::abs(static_cast<double>(r->sent) - 150.0), 1.0);
  EXPECT_EQ(r->answered + r->err_replies + r->timed_out, r->sent);
  EXPECT_GT(r->answered, 20u);
  EXPECT_GT(r->err_replies, 20u);
  EXPECT_GT(r->timed_out, 20u);
  EXPECT_EQ(r->errored(), r->err_replies + r->timed_out);
  EXPECT_EQ(r->error_messages.at("no such resource"), r->err_replies);
  schema::ResultRecord record;
  fill_record(*r, &record);
  EXPECT_EQ(record.requests_errored(), r->err_replies + r->timed_out);
  EXPECT_EQ(record.requests_timed_out(), r->timed_out);
}

TEST_F(LoadGeneratorTest, PoissonArrivalsAreSeeded) {
  LoadPlan p = plan({"ok-1"}, 300, 1.0);
  p.arrival = schema::ARRIVAL_POISSON;
  p.seed = 11;
  auto a = gen_->run(p);
  auto b = gen_->run(p);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sent, b->sent);  // the schedule depends on the seed alone
  EXPECT_EQ(a->answered, a->sent);
  // Within 5 standard deviations of a Poisson count (sqrt(300) ~ 17).
  EXPECT_NEAR(static_cast<double>(a->sent), 300.0, 5 * 17.4);
}

TEST_F(LoadGeneratorTest, ALateLoopSendsTheBacklogAndMeasuresFromTheSchedule) {
  // 0.4 s into the run the io thread is blocked for 200 ms: requests due
  // meanwhile go out late, all at once, and their latency includes the wait.
  boost::asio::steady_timer blocker(io_, 400ms);
  blocker.async_wait([](boost::system::error_code ec) {
    if (!ec) std::this_thread::sleep_for(200ms);
  });
  auto r = gen_->run(plan({"ok-1", "ok-2"}, 100, 1.0));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(std::abs(static_cast<double>(r->sent) - 100.0), 1.0);  // none skipped
  EXPECT_EQ(r->answered, r->sent);
  EXPECT_GE(r->max_send_lag_ms, 150.0);
  const uint32_t slowest = *std::max_element(r->latencies_us.begin(), r->latencies_us.end());
  EXPECT_GE(slowest, 150000u);
}

TEST_F(LoadGeneratorTest, CountsNotificationsDuringTheWindow) {
  responder_->notify_every(10ms,
                           R"({"ticket":"obs-1","rep":{"code":"CONTENT","notification":true}})");
  auto r = gen_->run(plan({"ok-1"}, 50, 0.5));
  responder_->stop();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->notifications, 0);
  EXPECT_LE(r->notifications, 0.5 / 0.010 + 1);  // never more than were published in the window
  EXPECT_EQ(r->answered, r->sent);               // notifications are not replies
}

TEST_F(LoadGeneratorTest, ObserveAll) {
  std::vector<std::string> endpoints = {"ok-1", "ok-2", "ok-3", "err-1", "silent-1"};
  auto r = gen_->observe_all(endpoints, "/3313/0", 300ms, 2);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->observed, 3u);
  EXPECT_EQ(r->failed, 1u);
  EXPECT_EQ(r->timed_out, 1u);
  EXPECT_EQ(r->errors.at("no such resource"), 1u);
  EXPECT_EQ(responder_->kinds["observe"], 5);
}

TEST_F(LoadGeneratorTest, StopEndsARunEarly) {
  boost::asio::steady_timer stopper(io_, 300ms);
  stopper.async_wait([this](boost::system::error_code ec) {
    if (!ec) gen_->stop();
  });
  const auto started = std::chrono::steady_clock::now();
  auto r = gen_->run(plan({"ok-1"}, 100, 30.0));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->interrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  gen_->reset_stop();
  auto again = gen_->run(plan({"ok-1"}, 100, 0.2));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->interrupted);
  EXPECT_EQ(again->answered, again->sent);
}

TEST_F(LoadGeneratorTest, RejectsBadPlans) {
  auto no_endpoints = gen_->run(plan({}, 100, 1));
  ASSERT_FALSE(no_endpoints.ok());
  EXPECT_EQ(no_endpoints.error().kind, ErrorKind::kInvalidArgument);
  auto no_rate = gen_->run(plan({"ok-1"}, 0, 1));
  ASSERT_FALSE(no_rate.ok());
}

// Routed mode: the requests of a device with a live owner go on that
// owner's channel alone, the others on LWM2M_REQ (bus/request_route.h).
TEST_F(LoadGeneratorTest, RoutedModeSendsEachRequestToItsOwnersChannel) {
  Responder node_z(io_, 5ms);  // plays node-z; the fixture's responder reads LWM2M_REQ
  ASSERT_TRUE(node_z.start(redis_host(), redis_port(), {"LWM2M_REQ:node-z"}));
  io::RedisLink redis(io_, io::RedisLinkOptions::at(redis_host(), redis_port()));
  int done = 0;
  redis.start([&](Status) {
    redis.command({"SET", "EP#UID:{ok-owned}", "node-z"}, [&](Result<io::RedisReply>) { ++done; });
    redis.command({"ZADD", "NODES", std::to_string(io::system_unix_ms()), "node-z"},
                  [&](Result<io::RedisReply>) { ++done; });
  });
  ASSERT_TRUE(test::run_until(io_, [&] { return done == 2; }));

  BusOptions bus;
  bus.host = redis_host();
  bus.port = redis_port();
  bus.mode = bus::BusMode::kRouted;
  LoadGenerator routed(io_, bus);
  ASSERT_TRUE(routed.connect().ok());
  auto r = routed.run(plan({"ok-owned", "ok-free"}, 100, 0.5));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->answered, r->sent);
  EXPECT_GT(node_z.endpoints["ok-owned"], 0);
  EXPECT_EQ(node_z.endpoints.count("ok-free"), 0u);
  EXPECT_GT(responder_->endpoints["ok-free"], 0);
  EXPECT_EQ(responder_->endpoints.count("ok-owned"), 0u);
  node_z.stop();
  redis.disconnect();
}

TEST(LoadGeneratorBus, UnreachableRedisIsAnIoError) {
  boost::asio::io_context io;
  BusOptions bus;
  bus.port = test::free_loopback_port(SOCK_STREAM);
  LoadGenerator gen(io, bus);
  Status s = gen.connect();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kIo) << s.error().message;
  EXPECT_FALSE(gen.run(LoadPlan{}).ok());
}

}  // namespace
}  // namespace fogm2m::runner
