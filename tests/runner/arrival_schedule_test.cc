// Send times of constant and Poisson arrivals (pure computation, no clock).
#include "runner/arrival_schedule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace fogm2m::runner {
namespace {

using std::chrono::nanoseconds;

// How many of the first `n` send times fall in [from_s, to_s).
int count_in(ArrivalSchedule s, double from_s, double to_s, int n) {
  int count = 0;
  for (int i = 0; i < n; ++i) {
    const double t = std::chrono::duration<double>(s.next()).count();
    if (t >= from_s && t < to_s) ++count;
  }
  return count;
}

TEST(ArrivalSchedule, ConstantIsEvenlySpacedWithoutDrift) {
  ArrivalSchedule s(schema::ARRIVAL_CONSTANT, 3, 1);
  EXPECT_EQ(s.next(), nanoseconds(0));
  EXPECT_EQ(s.next(), nanoseconds(333333333));
  EXPECT_EQ(s.next(), nanoseconds(666666666));
  for (int i = 3; i < 300000; ++i) s.next();
  // Request 300000 at 3/s: exactly 100000 s, no accumulated error.
  EXPECT_EQ(s.next(), nanoseconds(100000000000000));
}

TEST(ArrivalSchedule, ConstantWindowHoldsRateTimesWindowRequests) {
  for (double rate : {25.0, 100.0, 150.0, 300.0, 7.3}) {
    for (double warmup : {0.0, 3.0, 5.05}) {
      const double window = 10;
      const int n = count_in(ArrivalSchedule(schema::ARRIVAL_CONSTANT, rate, 1), warmup,
                             warmup + window, static_cast<int>(rate * (warmup + window + 1)));
      EXPECT_LE(std::abs(n - rate * window), 1.0) << rate << " " << warmup;
    }
  }
}

TEST(ArrivalSchedule, PoissonMeanGapAndSpread) {
  const double rate = 200;
  ArrivalSchedule s(schema::ARRIVAL_POISSON, rate, 42);
  const int n = 20000;
  std::vector<double> gaps;
  double last = 0;
  for (int i = 0; i < n; ++i) {
    const double t = std::chrono::duration<double>(s.next()).count();
    ASSERT_GE(t, last);
    gaps.push_back(t - last);
    last = t;
  }
  double mean = 0;
  for (double g : gaps) mean += g;
  mean /= n;
  EXPECT_NEAR(mean, 1 / rate, 0.1 / rate);
  // Exponential: the standard deviation equals the mean (constant arrivals would have none).
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  EXPECT_NEAR(std::sqrt(var / n), 1 / rate, 0.1 / rate);
}

TEST(ArrivalSchedule, PoissonIsSeeded) {
  ArrivalSchedule a(schema::ARRIVAL_POISSON, 50, 7), b(schema::ARRIVAL_POISSON, 50, 7),
      c(schema::ARRIVAL_POISSON, 50, 8);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace fogm2m::runner
