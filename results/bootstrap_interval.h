// The percentile bootstrap 95 % interval of a mean: resample the values with
// replacement, take each resample's mean, keep the 2.5th and 97.5th
// percentiles of those means. Seeded, so the same values give the same
// interval on every machine; the report's analysis/fogm2m_analysis/spread.py
// does the same (with numpy's generator, so its bounds differ in the last
// digits). One value, or equal values, have no spread: low = high = value.
#pragma once

#include <cstdint>
#include <vector>

namespace fogm2m::results {

struct Interval {
  double low = 0, high = 0;
};

constexpr int kBootstrapResamples = 2000;
constexpr uint64_t kBootstrapSeed = 20261207;

// {0, 0} for no values.
Interval bootstrap_mean_interval(const std::vector<double>& values,
                                 int resamples = kBootstrapResamples,
                                 uint64_t seed = kBootstrapSeed);

}  // namespace fogm2m::results
