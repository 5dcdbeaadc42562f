// After a bus loss the requests in flight go out again, at once when the
// links are back and then every interval, until confirmed or forgotten;
// nothing goes out while the bus is down or outside a loss.
#include "bus/loss_resender.h"

#include <gtest/gtest.h>

#include <map>

namespace fogm2m::bus {
namespace {

using namespace std::chrono_literals;

class LossResenderTest : public ::testing::Test {
 protected:
  void run_for(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
  boost::asio::io_context io;
  std::map<std::string, int> sent;
  LossResender resender{io, [this](const std::string& t) { ++sent[t]; },
                        LossResenderOptions{20ms, 100ms}};
};

TEST_F(LossResenderTest, RepeatsUntilConfirmedFromTheRecoveryOn) {
  resender.recovered();  // outside a loss: nothing to do
  EXPECT_TRUE(sent.empty());
  resender.lost({"a", "b", "c"});
  run_for(50ms);
  EXPECT_TRUE(sent.empty());  // down: nothing goes out
  resender.recovered();
  EXPECT_EQ(sent["a"], 1);
  EXPECT_EQ(sent["b"], 1);
  resender.confirmed("a");
  resender.forget("b");
  run_for(70ms);
  EXPECT_EQ(sent["a"], 1);
  EXPECT_EQ(sent["b"], 1);
  EXPECT_GE(sent["c"], 3);  // at once, then about every 20 ms
  EXPECT_EQ(resender.unconfirmed(), 1u);
  resender.confirmed("c");
  const int c = sent["c"];
  run_for(50ms);
  EXPECT_EQ(sent["c"], c);
  EXPECT_EQ(resender.resent(), static_cast<uint64_t>(2 + c));
}

TEST_F(LossResenderTest, ASecondLossPausesTheRepeatsUntilTheNextRecovery) {
  resender.lost({"a"});
  resender.recovered();
  EXPECT_EQ(sent["a"], 1);
  resender.lost({"a", "b"});
  run_for(60ms);
  EXPECT_EQ(sent["a"], 1);
  EXPECT_EQ(sent["b"], 0);
  resender.recovered();
  EXPECT_EQ(sent["a"], 2);
  EXPECT_EQ(sent["b"], 1);
}

TEST_F(LossResenderTest, AResendThatEndsItsRequestIsNotRepeated) {
  LossResender ending{io,
                      [&](const std::string& t) {
                        ++sent[t];
                        ending.forget(t);
                      },
                      LossResenderOptions{10ms, 100ms}};
  ending.lost({"x", "y"});
  ending.recovered();
  run_for(40ms);
  EXPECT_EQ(sent["x"], 1);
  EXPECT_EQ(sent["y"], 1);
  EXPECT_EQ(ending.unconfirmed(), 0u);
}

// Requests published within the settle time after a recovery are tracked
// (a node may not have subscribed again yet); later ones are not.
TEST_F(LossResenderTest, NewRequestsAreTrackedOnlyUntilTheBusHasSettled) {
  resender.sent("before");  // outside a loss: not tracked
  EXPECT_EQ(resender.unconfirmed(), 0u);
  resender.lost({});
  resender.recovered();
  resender.sent("early");
  EXPECT_EQ(resender.unconfirmed(), 1u);
  EXPECT_EQ(sent["early"], 0);  // just published: not at once again
  run_for(60ms);
  EXPECT_GE(sent["early"], 1);
  resender.confirmed("early");
  run_for(120ms);  // past settle (100 ms)
  resender.sent("late");
  EXPECT_EQ(resender.unconfirmed(), 0u);
  EXPECT_EQ(sent["before"], 0);
}

}  // namespace
}  // namespace fogm2m::bus
