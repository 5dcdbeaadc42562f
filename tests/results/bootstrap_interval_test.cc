// The bootstrap 95 % interval of a mean: it holds the mean, lies within the
// values, widens with their spread and repeats exactly.
#include "results/bootstrap_interval.h"

#include <gtest/gtest.h>

namespace fogm2m::results {
namespace {

TEST(BootstrapInterval, HoldsTheMeanWithinTheValues) {
  const std::vector<double> v{9, 10, 11, 10.5, 9.5};
  const Interval i = bootstrap_mean_interval(v);
  EXPECT_LT(i.low, 10);
  EXPECT_GT(i.high, 10);
  EXPECT_GE(i.low, 9);
  EXPECT_LE(i.high, 11);
}

TEST(BootstrapInterval, RepeatsExactlyAndWidensWithTheSpread) {
  const std::vector<double> narrow{10, 10.1, 9.9, 10.05, 9.95};
  const std::vector<double> wide{10, 12, 8, 11, 9};
  const Interval a = bootstrap_mean_interval(narrow), b = bootstrap_mean_interval(narrow);
  EXPECT_EQ(a.low, b.low);
  EXPECT_EQ(a.high, b.high);
  const Interval w = bootstrap_mean_interval(wide);
  EXPECT_LT(a.high - a.low, w.high - w.low);
}

TEST(BootstrapInterval, NoSpreadWithOneOrEqualValues) {
  const Interval one = bootstrap_mean_interval({4.2});
  EXPECT_EQ(one.low, 4.2);
  EXPECT_EQ(one.high, 4.2);
  const Interval same = bootstrap_mean_interval({7, 7, 7});
  EXPECT_EQ(same.low, 7);
  EXPECT_EQ(same.high, 7);
  const Interval none = bootstrap_mean_interval({});
  EXPECT_EQ(none.low, 0);
  EXPECT_EQ(none.high, 0);
}

}  // namespace
}  // namespace fogm2m::results
