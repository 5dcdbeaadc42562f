// The median of a set of figures: the middle value, or the mean of the two
// middle values for an even count; 0 for none. Used wherever one disturbed
// run or point must not move a summary (validation, calibration, the
// slowed-machine check).
#pragma once

#include <algorithm>
#include <vector>

namespace fogm2m::results {

inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace fogm2m::results
