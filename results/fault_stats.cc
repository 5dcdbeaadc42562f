#include "results/fault_stats.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "results/latency_stats.h"

namespace fogm2m::results {

schema::FaultStats fault_stats(const std::vector<LoadSecond>& timeline,
                               const std::vector<DeviceNotifications>& devices,
                               const std::vector<double>& injected_s, double run_s) {
  schema::FaultStats stats;
  double first_fault_s = run_s;
  for (double at : injected_s)
    if (at >= 0) first_fault_s = std::min(first_fault_s, at);

  std::vector<uint32_t> before;
  for (size_t s = 1; s < timeline.size() && static_cast<double>(s + 1) <= first_fault_s; ++s)
    before.insert(before.end(), timeline[s].latencies_us.begin(), timeline[s].latencies_us.end());
  const double allowed_p99_ms = std::max(5.0, 2 * percentile_ms(before, 99));

  std::vector<const DeviceNotifications*> observed;
  for (const auto& d : devices)
    if (d.first_s < first_fault_s) observed.push_back(&d);

  for (size_t f = 0; f < injected_s.size(); ++f) {
    schema::FaultOutcome* out = stats.add_faults();
    out->set_recovery_s(-1);
    const double at = injected_s[f];
    if (at < 0) continue;
    // When every observed device had notified since the fault.
    double all_notified_s = 0;
    for (const auto* d : observed) {
      const double since = f < d->first_since_fault_s.size() ? d->first_since_fault_s[f] : -1;
      all_notified_s =
          std::max(all_notified_s, since < 0 ? std::numeric_limits<double>::infinity() : since);
    }
    size_t last = timeline.size();  // exclusive: the seconds the fault cost
    for (size_t s = static_cast<size_t>(at); s < timeline.size(); ++s) {
      const LoadSecond& sec = timeline[s];
      const bool failures = sec.err_replies + sec.timed_out > 0;
      const bool slow = percentile_ms(sec.latencies_us, 99) > allowed_p99_ms;
      const bool silent = all_notified_s >= static_cast<double>(s + 1);
      if (!failures && !slow && !silent) {
        out->set_recovery_s(std::max(0.0, static_cast<double>(s) - at));
        last = s;
        break;
      }
    }
    for (size_t s = static_cast<size_t>(at); s < last; ++s) {
      out->set_requests_sent(out->requests_sent() + timeline[s].sent);
      out->set_requests_err(out->requests_err() + timeline[s].err_replies);
      out->set_requests_timed_out(out->requests_timed_out() + timeline[s].timed_out);
      out->set_requests_resent(out->requests_resent() + timeline[s].resent);
    }
  }

  std::vector<double> longest;
  uint32_t reestablished = 0, lost = 0;
  for (const auto* d : observed) {
    const double trailing = run_s - d->last_s;
    longest.push_back(std::max(d->max_gap_s, trailing));
    if (trailing > kObservationGapS) {
      ++lost;
    } else if (d->broke) {
      ++reestablished;
    }
  }
  stats.set_observed_devices(static_cast<uint32_t>(observed.size()));
  stats.set_observations_reestablished(reestablished);
  stats.set_observations_lost(lost);
  stats.set_notification_gap_max_s(
      longest.empty() ? 0.0 : *std::max_element(longest.begin(), longest.end()));
  stats.set_notification_gap_p99_s(percentile_of(std::move(longest), 99));
  return stats;
}

}  // namespace fogm2m::results
