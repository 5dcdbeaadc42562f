#include "runner/fault_stats.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "results/latency_stats.h"

namespace fogm2m::runner {

namespace {

double p99_ms(std::vector<uint32_t> values) {
  return results::percentile_ms(std::move(values), 99);
}

// Whether `times` (sorted) holds one in [from, to).
bool any_within(const std::vector<float>& times, double from, double to) {
  auto it = std::lower_bound(times.begin(), times.end(), static_cast<float>(from));
  return it != times.end() && *it < to;
}

}  // namespace

schema::FaultStats fault_stats(const LoadResult& load, const std::vector<InjectedFault>& faults,
                               double run_s) {
  schema::FaultStats stats;
  double first_fault_s = run_s;
  for (const auto& f : faults)
    if (f.injected_s >= 0) first_fault_s = std::min(first_fault_s, f.injected_s);

  // Latency before any fault: what "back to normal" is measured against
  // (2x its p99; at least 5 ms, so a very fast baseline does not make
  // noise look like a failure).
  std::vector<uint32_t> before;
  for (size_t s = 1; s < load.timeline.size() && static_cast<double>(s + 1) <= first_fault_s; ++s)
    before.insert(before.end(), load.timeline[s].latencies_us.begin(),
                  load.timeline[s].latencies_us.end());
  const double allowed_p99_ms = std::max(5.0, 2 * p99_ms(before));

  // Observed devices: those that notified before the first fault.
  std::vector<const std::vector<float>*> observed;
  for (const auto& [ep, times] : load.notifications_by_device)
    if (!times.empty() && times.front() < first_fault_s) observed.push_back(&times);

  for (const auto& f : faults) {
    schema::FaultOutcome* out = stats.add_faults();
    *out->mutable_fault() = f.fault;
    out->set_error(f.error);
    out->set_lb_removed_after_s(f.lb_removed_after_s);
    out->set_recovery_s(-1);
    if (f.injected_s < 0) continue;
    const size_t first = static_cast<size_t>(f.injected_s);
    size_t last = load.timeline.size();  // exclusive: the seconds the fault cost
    for (size_t s = first; s < load.timeline.size(); ++s) {
      const LoadSecond& sec = load.timeline[s];
      const bool failures = sec.err_replies + sec.timed_out > 0;
      const bool slow = p99_ms(sec.latencies_us) > allowed_p99_ms;
      const bool silent = std::any_of(observed.begin(), observed.end(), [&](const auto* times) {
        return !any_within(*times, f.injected_s, static_cast<double>(s + 1));
      });
      if (!failures && !slow && !silent) {
        out->set_recovery_s(std::max(0.0, static_cast<double>(s) - f.injected_s));
        last = s;
        break;
      }
    }
    for (size_t s = first; s < last && s < load.timeline.size(); ++s) {
      out->set_requests_sent(out->requests_sent() + load.timeline[s].sent);
      out->set_requests_err(out->requests_err() + load.timeline[s].err_replies);
      out->set_requests_timed_out(out->requests_timed_out() + load.timeline[s].timed_out);
    }
  }

  std::vector<double> longest;
  uint32_t reestablished = 0, lost = 0;
  for (const auto* times : observed) {
    double max_gap = 0;
    bool broke = false;
    for (size_t i = 1; i < times->size(); ++i) {
      const double gap = (*times)[i] - (*times)[i - 1];
      max_gap = std::max(max_gap, gap);
      if (gap > kObservationGapS && (*times)[i - 1] >= first_fault_s - kObservationGapS)
        broke = true;
    }
    const double trailing = run_s - times->back();
    max_gap = std::max(max_gap, trailing);
    longest.push_back(max_gap);
    if (trailing > kObservationGapS) {
      ++lost;
    } else if (broke) {
      ++reestablished;
    }
  }
  stats.set_observed_devices(static_cast<uint32_t>(observed.size()));
  stats.set_observations_reestablished(reestablished);
  stats.set_observations_lost(lost);
  stats.set_notification_gap_max_s(results::percentile_of(longest, 100));
  stats.set_notification_gap_p99_s(results::percentile_of(longest, 99));
  return stats;
}

uint32_t registrations_lost(const std::set<std::string>& before,
                            const std::set<std::string>& after) {
  uint32_t lost = 0;
  for (const auto& ep : before) lost += after.count(ep) == 0 ? 1 : 0;
  return lost;
}

Status write_timeline_csv(const std::string& path, const LoadResult& load,
                          const std::vector<FaultEvent>& events,
                          const std::vector<OwnershipSample>& ownership) {
  std::map<size_t, std::string> by_second;
  for (const auto& e : events) {
    std::string& text = by_second[static_cast<size_t>(std::max(0.0, e.t_s))];
    if (!text.empty()) text += "; ";
    text += e.what;
  }
  std::set<std::string> nodes;
  std::map<size_t, const OwnershipSample*> owned_at;
  for (const auto& o : ownership) {
    for (const auto& [node, _] : o.by_node) nodes.insert(node);
    owned_at[static_cast<size_t>(std::max(0.0, o.t_s))] = &o;
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out) return make_error(ErrorKind::kIo, "cannot write " + path);
  out << "second,sent,answered,err,timed_out,p99_ms,notifications,events";
  for (const auto& node : nodes) out << ",owned_" << node;
  out << '\n';
  const size_t seconds =
      std::max(load.timeline.size(), by_second.empty() ? 0 : by_second.rbegin()->first + 1);
  for (size_t s = 0; s < seconds; ++s) {
    const LoadSecond none;
    const LoadSecond& sec = s < load.timeline.size() ? load.timeline[s] : none;
    std::string what = by_second.count(s) ? by_second[s] : "";
    std::replace(what.begin(), what.end(), '"', '\'');
    out << s << ',' << sec.sent << ',' << sec.answered << ',' << sec.err_replies << ','
        << sec.timed_out << ',' << p99_ms(sec.latencies_us) << ',' << sec.notifications << ",\""
        << what << '"';
    const auto owned = owned_at.find(s);
    for (const auto& node : nodes) {
      out << ',';
      if (owned != owned_at.end() && owned->second->by_node.count(node))
        out << owned->second->by_node.at(node);
    }
    out << '\n';
  }
  out.flush();
  if (!out) return make_error(ErrorKind::kIo, "cannot write " + path);
  return {};
}

}  // namespace fogm2m::runner
