// The queue of requests waiting for sleeping devices: order, deadlines,
// the bound per device.
#include "server/services/sleeping_queue.h"

#include <gtest/gtest.h>

namespace fogm2m::server {
namespace {

using namespace std::chrono_literals;
using Clock = SleepingQueue::Clock;

const Clock::time_point T0 = Clock::time_point{} + 1h;

bus::Request req(const std::string& ticket) {
  bus::Request r;
  r.ticket = ticket;
  return r;
}

std::vector<std::string> tickets(const std::vector<SleepingQueue::Waiting>& w) {
  std::vector<std::string> out;
  for (const auto& x : w) out.push_back(x.endpoint + ":" + x.request.ticket);
  return out;
}

TEST(SleepingQueue, TakeGivesADevicesRequestsInArrivalOrder) {
  SleepingQueue q(8);
  EXPECT_TRUE(q.push("a", req("1"), T0 + 30s));
  EXPECT_TRUE(q.push("b", req("2"), T0 + 5s));
  EXPECT_TRUE(q.push("a", req("3"), T0 + 10s));  // an earlier deadline does not jump the line
  EXPECT_TRUE(q.push("a", req("4"), T0 + 20s));
  EXPECT_EQ(q.size(), 4u);
  EXPECT_EQ(q.size("a"), 3u);
  EXPECT_EQ(tickets(q.take("a")), (std::vector<std::string>{"a:1", "a:3", "a:4"}));
  EXPECT_EQ(q.size("a"), 0u);
  EXPECT_TRUE(q.take("a").empty());
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.next_deadline(), T0 + 5s);  // b's is still there
}

TEST(SleepingQueue, ExpireHandsBackWhatIsDueEarliestFirst) {
  SleepingQueue q(8);
  EXPECT_EQ(q.next_deadline(), std::nullopt);
  q.push("a", req("1"), T0 + 30s);
  q.push("b", req("2"), T0 + 10s);
  q.push("a", req("3"), T0 + 10s);
  q.push("c", req("4"), T0 + 5s);
  EXPECT_EQ(q.next_deadline(), T0 + 5s);
  EXPECT_TRUE(q.expire(T0 + 4s).empty());
  EXPECT_EQ(tickets(q.expire(T0 + 5s)), (std::vector<std::string>{"c:4"}));  // at the deadline
  // Equal deadlines: in the order they were pushed.
  EXPECT_EQ(tickets(q.expire(T0 + 20s)), (std::vector<std::string>{"b:2", "a:3"}));
  EXPECT_EQ(q.next_deadline(), T0 + 30s);
  EXPECT_EQ(q.size("a"), 1u);
  // What expired is gone from its device's queue: take gives the rest.
  EXPECT_EQ(tickets(q.take("a")), (std::vector<std::string>{"a:1"}));
  EXPECT_EQ(q.size(), 0u);
  EXPECT_TRUE(q.expire(T0 + 1000s).empty());
}

TEST(SleepingQueue, BoundedPerDevice) {
  SleepingQueue q(2);
  EXPECT_EQ(q.per_device(), 2u);
  EXPECT_TRUE(q.push("a", req("1"), T0 + 1s));
  EXPECT_TRUE(q.push("a", req("2"), T0 + 1s));
  EXPECT_FALSE(q.push("a", req("3"), T0 + 1s));  // full: refused, nothing lost
  EXPECT_TRUE(q.push("b", req("4"), T0 + 1s));   // another device has its own room
  EXPECT_EQ(q.size("a"), 2u);
  EXPECT_EQ(tickets(q.expire(T0 + 1s)), (std::vector<std::string>{"a:1", "a:2", "b:4"}));
  EXPECT_TRUE(q.push("a", req("5"), T0 + 2s));  // room again
  EXPECT_EQ(tickets(q.drop("a")), (std::vector<std::string>{"a:5"}));
  EXPECT_EQ(SleepingQueue(0).per_device(), 1u);
}

}  // namespace
}  // namespace fogm2m::server
