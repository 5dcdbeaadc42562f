// Latency statistics on sets whose answers are known by hand.
#include "results/latency_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

namespace fogm2m::results {
namespace {

TEST(LatencyStats, NoSamplesIsAllZero) {
  const auto l = latency_stats({});
  EXPECT_EQ(l.mean_ms(), 0);
  EXPECT_EQ(l.mean_below_p95_ms(), 0);
  EXPECT_EQ(l.max_ms(), 0);
}

// The unsorted forms agree with latency_stats' nearest rank.
TEST(LatencyStats, PercentilesOfUnsortedSets) {
  std::vector<uint32_t> us;
  for (uint32_t i = 100; i >= 1; --i) us.push_back(i * 1000);
  EXPECT_DOUBLE_EQ(percentile_ms(us, 99), 99.0);
  EXPECT_DOUBLE_EQ(percentile_ms(us, 100), 100.0);
  EXPECT_DOUBLE_EQ(percentile_ms({}, 99), 0.0);
  EXPECT_DOUBLE_EQ(percentile_of({3.0, 1.0, 2.0}, 50), 2.0);
  EXPECT_DOUBLE_EQ(percentile_of({3.0, 1.0, 2.0}, 100), 3.0);
  EXPECT_DOUBLE_EQ(percentile_of({}, 99), 0.0);
}

TEST(LatencyStats, OneToHundredMilliseconds) {
  // 1..100 ms, shuffled: nearest rank gives p50 = 50, p90 = 90, p95 = 95,
  // p99 = 99, p99.9 = 100 (rank ceil(99.9) = 100).
  std::vector<uint32_t> us(100);
  for (uint32_t i = 0; i < 100; ++i) us[i] = (i + 1) * 1000;
  std::shuffle(us.begin(), us.end(), std::mt19937(7));
  const auto l = latency_stats(us);
  EXPECT_DOUBLE_EQ(l.mean_ms(), 50.5);
  EXPECT_DOUBLE_EQ(l.p50_ms(), 50);
  EXPECT_DOUBLE_EQ(l.p90_ms(), 90);
  EXPECT_DOUBLE_EQ(l.p99_ms(), 99);
  EXPECT_DOUBLE_EQ(l.p999_ms(), 100);
  EXPECT_DOUBLE_EQ(l.max_ms(), 100);
  // Below p95 (= 95 ms): 1..94, mean 47.5.
  EXPECT_DOUBLE_EQ(l.mean_below_p95_ms(), 47.5);
}

TEST(LatencyStats, OutliersDoNotMoveTheTrimmedMean) {
  std::vector<uint32_t> us(1000, 2000);          // 2 ms
  for (int i = 0; i < 40; ++i) us[i] = 1500000;  // 4% at 1.5 s
  const auto l = latency_stats(us);
  EXPECT_DOUBLE_EQ(l.mean_below_p95_ms(), 2);
  EXPECT_DOUBLE_EQ(l.p50_ms(), 2);
  EXPECT_DOUBLE_EQ(l.p99_ms(), 1500);
  EXPECT_NEAR(l.mean_ms(), (960 * 2 + 40 * 1500) / 1000.0, 1e-9);
}

TEST(LatencyStats, AllEqualAndSingleSample) {
  const auto same = latency_stats(std::vector<uint32_t>(10, 3000));
  EXPECT_DOUBLE_EQ(same.mean_below_p95_ms(), 3);  // nothing below p95: the p95 value
  EXPECT_DOUBLE_EQ(same.p999_ms(), 3);
  const auto one = latency_stats(std::vector<uint32_t>{1234});
  EXPECT_DOUBLE_EQ(one.p50_ms(), 1.234);
  EXPECT_DOUBLE_EQ(one.max_ms(), 1.234);
  EXPECT_DOUBLE_EQ(one.mean_below_p95_ms(), 1.234);
}

TEST(LatencyStats, NearestRank) {
  const std::vector<uint32_t> sorted = {10, 20, 30, 40};
  EXPECT_EQ(nearest_rank(sorted, 25), 10u);  // rank 1
  EXPECT_EQ(nearest_rank(sorted, 26), 20u);  // rank ceil(1.04) = 2
  EXPECT_EQ(nearest_rank(sorted, 50), 20u);
  EXPECT_EQ(nearest_rank(sorted, 100), 40u);
  EXPECT_EQ(nearest_rank(sorted, 0.001), 10u);
}

}  // namespace
}  // namespace fogm2m::results
