// CFS bandwidth control against closed forms.
//
// Deterministic load: one job of work w arrives at the start of every n-th
// period (P period, Q quota, w <= n*Q so the server keeps up). Each job
// runs k = ceil(w/Q) periods, throttled at the end of the first k-1; the
// kernel's period timer also counts the idle period after them when k < n.
// Per n periods: nr_periods = k + [k < n], nr_throttled = k - 1, throttled
// time (k-1)(P-Q), CPU w; the job completes (k-1)P + (w - (k-1)Q) after it
// arrives.
#include "sim/cfs_server.h"

#include <gtest/gtest.h>

namespace fogm2m::sim {
namespace {

struct Case {
  SimTime quota, period, work;
  int every;  // periods between jobs
};

class CfsClosedForm : public ::testing::TestWithParam<Case> {};

TEST_P(CfsClosedForm, ThrottlingRatioAndDelay) {
  const Case c = GetParam();
  const int64_t k = (c.work + c.quota - 1) / c.quota;
  constexpr int kJobs = 50;
  CfsServer server(c.quota, c.period);
  // Count whole cycles only: the window ends before the last job's cycle.
  const SimTime cycle = c.every * c.period;
  server.set_window(0, (kJobs - 1) * cycle);
  for (int j = 0; j < kJobs; ++j) {
    const SimTime arrival = j * cycle;
    const SimTime done = server.submit(arrival, c.work);
    EXPECT_EQ(done - arrival, (k - 1) * c.period + (c.work - (k - 1) * c.quota));
  }
  const CfsCounters& n = server.counters();
  const int cycles = kJobs - 1;
  const int64_t periods = k + (k < c.every ? 1 : 0);
  EXPECT_EQ(n.nr_periods, static_cast<uint64_t>(cycles * periods));
  EXPECT_EQ(n.nr_throttled, static_cast<uint64_t>(cycles * (k - 1)));
  EXPECT_DOUBLE_EQ(n.throttling_ratio(), static_cast<double>(k - 1) / static_cast<double>(periods));
  EXPECT_EQ(n.throttled_time, cycles * (k - 1) * (c.period - c.quota));
  EXPECT_EQ(n.cpu_time, cycles * c.work);
}

INSTANTIATE_TEST_SUITE_P(
    Loads, CfsClosedForm,
    ::testing::Values(
        Case{25 * kMillisecond, 100 * kMillisecond, 40 * kMillisecond, 2},     // u=0.2: 1/2
        Case{25 * kMillisecond, 100 * kMillisecond, 60 * kMillisecond, 3},     // u=0.2: 2/3
        Case{25 * kMillisecond, 100 * kMillisecond, 60 * kMillisecond, 8},     // 2/4
        Case{25 * kMillisecond, 100 * kMillisecond, 20 * kMillisecond, 2},     // no throttling: 0/2
        Case{50 * kMillisecond, 100 * kMillisecond, 250 * kMillisecond, 5}));  // full: 4/5

// A saturated server (more work than quota, always) is throttled in every
// period and runs exactly quota/period of the time.
TEST(CfsServer, SaturatedServerIsThrottledEveryPeriod) {
  CfsServer server(25 * kMillisecond, 100 * kMillisecond);
  server.set_window(kSecond, 11 * kSecond);
  // Utilisation 0.5 of one CPU offered against a 0.25 quota.
  for (SimTime t = 0; t < 20 * kSecond; t += kMillisecond) server.submit(t, 500 * kMicrosecond);
  const CfsCounters& c = server.counters();
  EXPECT_EQ(c.nr_periods, 100u);
  EXPECT_EQ(c.nr_throttled, 100u);
  EXPECT_EQ(c.cpu_time, 10 * 25 * 10 * kMillisecond);
  EXPECT_EQ(c.throttled_time, 10 * 10 * 75 * kMillisecond);
}

// Utilisation u below quota, spread evenly: never throttled, every period counted.
TEST(CfsServer, EvenLoadBelowQuotaIsNeverThrottled) {
  CfsServer server(25 * kMillisecond, 100 * kMillisecond);
  server.set_window(0, 10 * kSecond);
  for (SimTime t = 0; t < 10 * kSecond; t += kMillisecond) server.submit(t, 200 * kMicrosecond);
  EXPECT_EQ(server.counters().nr_periods, 100u);
  EXPECT_EQ(server.counters().nr_throttled, 0u);
  EXPECT_EQ(server.counters().cpu_time, 10000 * 200 * kMicrosecond);
}

// A job that finds the server idle pays the wakeup; jobs queued behind a
// running one ride on its busy stretch.
TEST(CfsServer, OnlyJobsArrivingIdlePayTheWakeup) {
  CfsServer server(0, 0);
  server.set_wakeup_work(30);
  EXPECT_EQ(server.submit(0, 10), 40);    // idle: 30 + 10
  EXPECT_EQ(server.submit(5, 10), 50);    // busy until 40: no wakeup
  EXPECT_EQ(server.submit(50, 10), 90);   // idle again exactly at 50
  EXPECT_EQ(server.submit(200, 0), 230);  // a message with no work of its own still wakes it
  EXPECT_EQ(server.counters().wakeups, 3u);
  EXPECT_EQ(server.counters().cpu_time, 30 + 10 + 10 + 30 + 10 + 30);
}

// The same even load costs less CPU per job once throttling makes a backlog:
// the jobs that wait out a throttled stretch are served without wakeups.
TEST(CfsServer, ThrottlingBatchesWakeups) {
  auto run = [](SimTime quota) {
    CfsServer server(quota, 100 * kMillisecond);
    server.set_window(kSecond, 11 * kSecond);
    server.set_wakeup_work(60 * kMicrosecond);
    for (SimTime t = 0; t < 12 * kSecond; t += kMillisecond) server.submit(t, 20 * kMicrosecond);
    return server.counters();
  };
  const CfsCounters free = run(100 * kMillisecond), tight = run(5 * kMillisecond);
  EXPECT_EQ(free.wakeups, 10000u);  // every job arrives idle: 80 us per 1 ms
  EXPECT_EQ(free.nr_throttled, 0u);
  EXPECT_EQ(free.cpu_time, 10000 * 80 * kMicrosecond);
  // Per period: x jobs arrive idle (80 us each), 100 - x wait out the
  // throttled stretch (20 us each); the quota bounds 2000 + 60 x <= 5000 us,
  // so about half the jobs still wake the server.
  EXPECT_GT(tight.throttling_ratio(), 0.9);
  EXPECT_GE(tight.wakeups, 10 * 10 * 45u);
  EXPECT_LE(tight.wakeups, 10 * 10 * 51u);
  EXPECT_LE(tight.cpu_time, 10 * 10 * 5 * kMillisecond);
}

TEST(CfsServer, UnlimitedIsAFifo) {
  CfsServer server(0, 0);
  EXPECT_EQ(server.submit(0, 10), 10);
  EXPECT_EQ(server.submit(5, 10), 20);    // waits for the first
  EXPECT_EQ(server.submit(100, 1), 101);  // idle in between
  EXPECT_EQ(server.counters().nr_periods, 0u);
  EXPECT_EQ(server.counters().cpu_time, 21);
}

}  // namespace
}  // namespace fogm2m::sim
