// Latency statistics (definitions in latency_stats.h).
#include "results/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fogm2m::results {

uint32_t nearest_rank(std::span<const uint32_t> sorted_us, double p) {
  if (sorted_us.empty()) return 0;
  const double n = static_cast<double>(sorted_us.size());
  // ceil() of a product that should be whole (p95 of 100 samples) must not
  // become the next rank through rounding: round to 1e-9 first.
  double rank = std::ceil(std::round(p / 100.0 * n * 1e9) / 1e9);
  rank = std::clamp(rank, 1.0, n);
  return sorted_us[static_cast<size_t>(rank) - 1];
}

schema::Latency latency_stats(std::span<const uint32_t> samples_us) {
  schema::Latency out;
  if (samples_us.empty()) return out;
  std::vector<uint32_t> sorted(samples_us.begin(), samples_us.end());
  std::sort(sorted.begin(), sorted.end());
  constexpr double kMsPerUs = 1e-3;

  double sum = 0;
  for (uint32_t v : sorted) sum += v;
  out.set_mean_ms(sum / static_cast<double>(sorted.size()) * kMsPerUs);

  const uint32_t p95 = nearest_rank(sorted, 95);
  double below_sum = 0;
  size_t below = 0;
  for (uint32_t v : sorted) {
    if (v >= p95) break;
    below_sum += v;
    ++below;
  }
  out.set_mean_below_p95_ms((below > 0 ? below_sum / static_cast<double>(below) : p95) * kMsPerUs);

  out.set_p50_ms(nearest_rank(sorted, 50) * kMsPerUs);
  out.set_p90_ms(nearest_rank(sorted, 90) * kMsPerUs);
  out.set_p99_ms(nearest_rank(sorted, 99) * kMsPerUs);
  out.set_p999_ms(nearest_rank(sorted, 99.9) * kMsPerUs);
  out.set_max_ms(sorted.back() * kMsPerUs);
  return out;
}

namespace {

template <class T>
T nearest_rank_unsorted(std::vector<T>& values, double p) {
  const auto n = static_cast<double>(values.size());
  const size_t rank =
      std::clamp<size_t>(static_cast<size_t>(std::ceil(p / 100.0 * n)), 1, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(rank - 1), values.end());
  return values[rank - 1];
}

}  // namespace

double percentile_ms(std::vector<uint32_t> samples_us, double p) {
  if (samples_us.empty()) return 0;
  return nearest_rank_unsorted(samples_us, p) / 1000.0;
}

double percentile_of(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  return nearest_rank_unsorted(values, p);
}

}  // namespace fogm2m::results
