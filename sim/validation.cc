// Simulated against measured (see validation.h).
#include "sim/validation.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

#include "sim/sweep_runner.h"

namespace fogm2m::sim {

namespace {

double relative(double simulated, double measured) {
  if (measured == 0) return simulated == 0 ? 0 : 1;
  return std::abs(simulated - measured) / std::abs(measured);
}

double memory_sum(const schema::ResultRecord& r) {
  double s = 0;
  for (const auto& n : r.nodes()) s += n.memory_mean_bytes();
  return s;
}

double bytes_sum(const schema::ResultRecord& r) {
  double s = 0;
  for (const auto& n : r.nodes()) s += n.rx_bytes() + n.tx_bytes();
  return s;
}

double max_throttling(const schema::ResultRecord& r) {
  double m = 0;
  for (const auto& n : r.nodes()) m = std::max(m, n.throttling_ratio());
  return m;
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

using CurveKey = std::tuple<uint32_t, uint32_t, bool>;
CurveKey curve_of(const schema::ResultRecord& r) {
  return {r.point().devices(), r.point().nodes(), r.point().dtls()};
}

}  // namespace

double knee_rate(std::vector<std::pair<double, double>> curve, bool* has_knee) {
  *has_knee = false;
  if (curve.empty()) return 0;
  std::sort(curve.begin(), curve.end());
  const double base = curve.front().second;
  for (const auto& [rate, latency] : curve)
    if (latency > 2 * base) {
      *has_knee = true;
      return rate;
    }
  const double step = curve.size() >= 2 ? curve.back().first - curve[curve.size() - 2].first : curve.back().first;
  return curve.back().first + step;
}

Result<ValidationReport> validate(const std::vector<schema::ResultRecord>& measured,
                                  const schema::Scenario& scenario, const SimParams& params, unsigned threads) {
  std::vector<SweepRun> runs;
  std::vector<const schema::ResultRecord*> sources;
  for (const auto& r : measured) {
    if (!r.error().empty() || r.point().nodes() == 0) continue;
    runs.push_back({r.point_index(), r.repetition(), r.point()});
    sources.push_back(&r);
  }
  if (runs.empty()) return make_error(ErrorKind::kInvalidArgument, "validate: no measured records without error");

  ValidationReport report;
  size_t i = 0;
  auto status = run_sweep(scenario, runs, params, threads, [&](const SweepRun&, Result<PointOutcome>& out) -> Status {
    if (!out) return out.error();
    PointComparison c;
    c.measured = *sources[i++];
    c.simulated = std::move(out->record);
    c.mean_latency_error = relative(c.simulated.latency().mean_ms(), c.measured.latency().mean_ms());
    c.p99_error = relative(c.simulated.latency().p99_ms(), c.measured.latency().p99_ms());
    c.throttling_error = std::abs(max_throttling(c.simulated) - max_throttling(c.measured));
    c.memory_error = relative(memory_sum(c.simulated), memory_sum(c.measured));
    c.bytes_error = relative(bytes_sum(c.simulated), bytes_sum(c.measured));
    report.points.push_back(std::move(c));
    return {};
  });
  if (!status) return status.error();

  // Knees per curve (repetitions averaged by rate).
  std::map<CurveKey, std::map<double, std::pair<std::vector<double>, std::vector<double>>>> curves;
  for (const auto& c : report.points) {
    auto& at = curves[curve_of(c.measured)][c.measured.point().request_rate()];
    at.first.push_back(c.measured.latency().mean_ms());
    at.second.push_back(c.simulated.latency().mean_ms());
  }
  std::map<CurveKey, double> measured_knees;
  std::vector<double> knee_errors;
  for (const auto& [key, by_rate] : curves) {
    std::vector<std::pair<double, double>> m, s;
    for (const auto& [rate, values] : by_rate) {
      m.emplace_back(rate, mean(values.first));
      s.emplace_back(rate, mean(values.second));
    }
    CurveKnee k;
    std::tie(k.devices, k.nodes, k.dtls) = key;
    k.measured_knee = knee_rate(m, &k.measured_has_knee);
    k.simulated_knee = knee_rate(s, &k.simulated_has_knee);
    k.error = relative(k.simulated_knee, k.measured_knee);
    measured_knees[key] = k.measured_has_knee ? k.measured_knee : INFINITY;
    if (k.measured_has_knee || k.simulated_has_knee) knee_errors.push_back(k.error);
    if (k.measured_has_knee) ++report.curves_with_knee;
    report.knees.push_back(k);
  }
  std::vector<double> below, all, p99, thr, mem, bytes;
  for (auto& c : report.points) {
    c.below_knee = c.measured.point().request_rate() < measured_knees[curve_of(c.measured)];
    if (c.below_knee) below.push_back(c.mean_latency_error);
    all.push_back(c.mean_latency_error);
    p99.push_back(c.p99_error);
    thr.push_back(c.throttling_error);
    mem.push_back(c.memory_error);
    bytes.push_back(c.bytes_error);
  }
  report.mean_latency_error_below_knee = mean(below);
  report.mean_latency_error = mean(all);
  report.p99_error = mean(p99);
  report.throttling_error = mean(thr);
  report.memory_error = mean(mem);
  report.bytes_error = mean(bytes);
  report.knee_error = mean(knee_errors);
  return report;
}

std::string format_validation(const ValidationReport& r) {
  std::string out;
  char line[400];
  std::snprintf(line, sizeof line, "%6s %4s %7s %5s %4s %9s %9s %7s %7s %7s %7s %7s\n", "point", "rep", "devices",
                "nodes", "dtls", "rate", "mean_ms", "sim_ms", "mean%", "p99%", "thr", "mem%");
  out += line;
  for (const auto& c : r.points) {
    const auto& p = c.measured.point();
    std::snprintf(line, sizeof line, "%6u %4u %7u %5u %4s %9.1f %9.3f %7.3f %6.1f%% %6.1f%% %7.3f %6.1f%% bytes %.1f%%\n",
                  c.measured.point_index(), c.measured.repetition(), p.devices(), p.nodes(), p.dtls() ? "yes" : "no",
                  p.request_rate(), c.measured.latency().mean_ms(), c.simulated.latency().mean_ms(),
                  100 * c.mean_latency_error, 100 * c.p99_error, c.throttling_error, 100 * c.memory_error,
                  100 * c.bytes_error);
    out += line;
  }
  out += "knees (first rate with mean latency > 2x its lowest-rate value):\n";
  for (const auto& k : r.knees) {
    std::snprintf(line, sizeof line, "  devices %u nodes %u dtls %s: measured %s%.1f, simulated %s%.1f, error %.1f%%\n",
                  k.devices, k.nodes, k.dtls ? "yes" : "no", k.measured_has_knee ? "" : "none, >", k.measured_knee,
                  k.simulated_has_knee ? "" : "none, >", k.simulated_knee, 100 * k.error);
    out += line;
  }
  std::snprintf(line, sizeof line,
                "overall: mean latency %.1f%%, p99 %.1f%%, throttling ratio %.3f (absolute), memory %.1f%%, bytes %.1f%%, "
                "%zu points, %zu of %zu curves with a measured knee\n",
                100 * r.mean_latency_error, 100 * r.p99_error, r.throttling_error, 100 * r.memory_error,
                100 * r.bytes_error, r.points.size(), r.curves_with_knee, r.knees.size());
  out += line;
  std::snprintf(line, sizeof line, "validation: mean latency error below knee %.1f%%, knee error %.1f%%\n",
                100 * r.mean_latency_error_below_knee, 100 * r.knee_error);
  out += line;
  return out;
}

}  // namespace fogm2m::sim
