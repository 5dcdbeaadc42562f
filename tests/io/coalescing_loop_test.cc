// The coalescing event loop runs everything io_context::run() would, in
// the same order, blocks when idle, and ends when the context is stopped or
// out of work.
#include "io/coalescing_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <vector>

namespace fogm2m::io {
namespace {

using namespace std::chrono_literals;

CoalescingOptions coalescing(std::chrono::microseconds interval) {
  CoalescingOptions o;
  o.interval = interval;
  o.busy_handlers = 4;
  return o;
}

// A chain of posts (each handler posts the next) and bursts of them: every
// handler runs once, in order, and the loop returns once out of work.
TEST(CoalescingLoop, RunsEveryHandlerInOrderAndReturnsOutOfWork) {
  for (auto interval : {0us, 200us}) {
    boost::asio::io_context io;
    std::vector<int> ran;
    std::function<void(int)> step = [&](int i) {
      ran.push_back(i);
      if (i % 10 == 0)  // a burst: busy passes
        for (int j = 1; j < 10; ++j) boost::asio::post(io, [&, i, j] { ran.push_back(i + j); });
      if (i + 10 < 500) boost::asio::post(io, [&, i] { step(i + 10); });
    };
    boost::asio::post(io, [&] { step(0); });
    run_coalescing(io, coalescing(interval));
    ASSERT_EQ(ran.size(), 500u) << "interval " << interval.count();
    std::vector<int> sorted = ran;
    std::sort(sorted.begin(), sorted.end());
    for (int i = 0; i < 500; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);
  }
}

// Idle, the loop blocks for the next event: timers fire, in deadline order,
// and a stop from a handler ends the loop with work still queued.
TEST(CoalescingLoop, TimersFireAndStopEndsTheLoop) {
  boost::asio::io_context io;
  std::vector<int> fired;
  boost::asio::steady_timer later(io, 30ms), sooner(io, 10ms), never(io, 1h);
  later.async_wait([&](boost::system::error_code) {
    fired.push_back(2);
    io.stop();
  });
  sooner.async_wait([&](boost::system::error_code) { fired.push_back(1); });
  never.async_wait([&](boost::system::error_code) { fired.push_back(3); });
  run_coalescing(io, coalescing(500us));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_TRUE(io.stopped());
}

}  // namespace
}  // namespace fogm2m::io
