#include "results/bootstrap_interval.h"

#include <algorithm>
#include <random>

namespace fogm2m::results {

namespace {

// Linear interpolation between closest ranks (numpy's default percentile).
double percentile_sorted(const std::vector<double>& sorted, double p) {
  const double rank = p / 100 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<size_t>(rank);
  const size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (rank - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, uint64_t seed) {
  if (values.empty()) return {};
  if (std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); }))
    return {values.front(), values.front()};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> means(static_cast<size_t>(std::max(resamples, 1)));
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < values.size(); ++i) sum += values[pick(rng)];
    m = sum / static_cast<double>(values.size());
  }
  std::sort(means.begin(), means.end());
  return {percentile_sorted(means, 2.5), percentile_sorted(means, 97.5)};
}

}  // namespace fogm2m::results
