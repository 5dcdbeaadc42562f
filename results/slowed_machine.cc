// Records measured on a slowed machine; see slowed_machine.h.
#include "results/slowed_machine.h"

#include <cstdio>

#include "results/median.h"

namespace fogm2m::results {
namespace {

double probe_median(const std::vector<schema::ResultRecord>& records) {
  std::vector<double> probes;
  for (const auto& r : records)
    if (r.host().speed_probe_us() > 0) probes.push_back(r.host().speed_probe_us());
  return median(std::move(probes));
}

}  // namespace

std::vector<bool> measured_on_slowed_machine(const std::vector<schema::ResultRecord>& records) {
  const double median = probe_median(records);
  std::vector<bool> slowed;
  slowed.reserve(records.size());
  for (const auto& r : records) {
    const bool probe_slow = median > 0 && r.host().speed_probe_us() > kSlowedProbeFactor * median;
    slowed.push_back(probe_slow || r.host().steal_ratio() > kSlowedStealRatio);
  }
  return slowed;
}

std::vector<schema::ResultRecord> without_slowed(const std::vector<schema::ResultRecord>& records,
                                                 std::string* described) {
  const auto slowed = measured_on_slowed_machine(records);
  std::vector<schema::ResultRecord> kept;
  for (size_t i = 0; i < records.size(); ++i)
    if (!slowed[i]) kept.push_back(records[i]);
  if (described != nullptr) *described = describe_slowed(records, slowed);
  return kept;
}

std::string describe_slowed(const std::vector<schema::ResultRecord>& records,
                            const std::vector<bool>& slowed) {
  const double median = probe_median(records);
  std::string out;
  char item[120];
  for (size_t i = 0; i < records.size() && i < slowed.size(); ++i) {
    if (!slowed[i]) continue;
    const auto& r = records[i];
    std::snprintf(item, sizeof item, "%spoint %u rep %u (probe %.2fx, steal %.1f%%)",
                  out.empty() ? "" : ", ", r.point_index(), r.repetition(),
                  median > 0 ? r.host().speed_probe_us() / median : 0.0,
                  100 * r.host().steal_ratio());
    out += item;
  }
  return out;
}

}  // namespace fogm2m::results
