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

}  // namespace

schema::FaultStats fault_stats(const LoadResult& load, const std::vector<InjectedFault>& faults,
                               double run_s) {
  std::vector<double> injected_s;
  double first_fault_s = run_s;
  for (const auto& f : faults) {
    injected_s.push_back(f.injected_s);
    if (f.injected_s >= 0) first_fault_s = std::min(first_fault_s, f.injected_s);
  }
  // Each device's arrival times, reduced to what the rules need.
  std::vector<results::DeviceNotifications> devices;
  devices.reserve(load.notifications_by_device.size());
  for (const auto& [ep, times] : load.notifications_by_device) {
    if (times.empty()) continue;
    results::DeviceNotifications d;
    d.first_s = times.front();
    d.last_s = times.back();
    for (size_t i = 1; i < times.size(); ++i) {
      const double gap = times[i] - times[i - 1];
      d.max_gap_s = std::max(d.max_gap_s, gap);
      if (gap > results::kObservationGapS &&
          times[i - 1] >= first_fault_s - results::kObservationGapS)
        d.broke = true;
    }
    for (double at : injected_s) {
      auto it = std::lower_bound(times.begin(), times.end(), static_cast<float>(at));
      d.first_since_fault_s.push_back(at >= 0 && it != times.end() ? *it : -1);
    }
    devices.push_back(std::move(d));
  }
  schema::FaultStats stats = results::fault_stats(load.timeline, devices, injected_s, run_s);
  for (size_t i = 0; i < faults.size(); ++i) {
    schema::FaultOutcome* out = stats.mutable_faults(static_cast<int>(i));
    *out->mutable_fault() = faults[i].fault;
    out->set_error(faults[i].error);
    out->set_lb_removed_after_s(faults[i].lb_removed_after_s);
  }
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
