// The tickets a node served lately: a repeat is told apart from a new
// request, an answered one brings its reply back, and the window is bounded
// in time and in count.
#include "server/services/served_requests.h"

#include <gtest/gtest.h>

namespace fogm2m::server {
namespace {

using namespace std::chrono_literals;
using Seen = ServedRequests::Seen;

TEST(ServedRequests, ARepeatIsInProgressUntilAnsweredThenBringsItsReply) {
  ServedRequests served;
  const auto t0 = ServedRequests::Clock::time_point{} + 1h;
  const std::string* reply = nullptr;
  EXPECT_EQ(served.admit("t1", &reply, t0), Seen::kNew);
  EXPECT_EQ(served.admit("t1", &reply, t0 + 1ms), Seen::kInProgress);
  served.answered("t1", R"({"ticket":"t1","rep":{}})");
  ASSERT_EQ(served.admit("t1", &reply, t0 + 2ms), Seen::kAnswered);
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(*reply, R"({"ticket":"t1","rep":{}})");
  EXPECT_EQ(served.admit("t2", &reply, t0 + 3ms), Seen::kNew);
  EXPECT_EQ(served.repeats(), 2u);
  served.answered("never-admitted", "x");
  EXPECT_EQ(served.kept(), 2u);
}

TEST(ServedRequests, TicketsGoAfterTheWindowOrPastTheCount) {
  ServedRequests served(10s, 3);
  const auto t0 = ServedRequests::Clock::time_point{} + 1h;
  const std::string* reply = nullptr;
  EXPECT_EQ(served.admit("a", &reply, t0), Seen::kNew);
  EXPECT_EQ(served.admit("b", &reply, t0 + 1s), Seen::kNew);
  EXPECT_EQ(served.admit("a", &reply, t0 + 9s), Seen::kInProgress);
  // Ten seconds on, "a" has gone: served as new.
  EXPECT_EQ(served.admit("a", &reply, t0 + 10s), Seen::kNew);
  EXPECT_EQ(served.admit("c", &reply, t0 + 10s), Seen::kNew);
  EXPECT_EQ(served.kept(), 3u);
  // A fourth pushes the oldest ("b") out.
  EXPECT_EQ(served.admit("d", &reply, t0 + 10s), Seen::kNew);
  EXPECT_EQ(served.kept(), 3u);
  EXPECT_EQ(served.admit("b", &reply, t0 + 10s), Seen::kNew);
}

}  // namespace
}  // namespace fogm2m::server
