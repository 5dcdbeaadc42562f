// Simulated against measured (see validation.h).
#include "sim/validation.h"

#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <tuple>

#include "results/bootstrap_interval.h"
#include "results/median.h"
#include "results/slowed_machine.h"
#include "sim/sweep_runner.h"

namespace fogm2m::sim {

namespace {

double relative(double compared, double measured) {
  if (measured == 0) return compared == 0 ? 0 : 1;
  return std::abs(compared - measured) / std::abs(measured);
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

double cpu_sum(const schema::ResultRecord& r) {
  double s = 0;
  for (const auto& n : r.nodes()) s += n.cpu_s();
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

using Figure = double (*)(const schema::ResultRecord&);

// `figure` of each repetition.
std::vector<double> values_of(const std::vector<const schema::ResultRecord*>& reps, Figure figure) {
  std::vector<double> values;
  values.reserve(reps.size());
  for (const auto* r : reps) values.push_back(figure(*r));
  return values;
}

double median_of(const std::vector<const schema::ResultRecord*>& reps, Figure figure) {
  return results::median(values_of(reps, figure));
}

double mean_latency(const schema::ResultRecord& r) {
  return r.latency().mean_ms();
}
double p99_latency(const schema::ResultRecord& r) {
  return r.latency().p99_ms();
}

PointFigures figures_of(const std::vector<const schema::ResultRecord*>& reps) {
  PointFigures f;
  f.mean_ms = median_of(reps, mean_latency);
  f.p99_ms = median_of(reps, p99_latency);
  f.throttling = median_of(reps, max_throttling);
  f.memory_bytes = median_of(reps, memory_sum);
  f.bytes = median_of(reps, bytes_sum);
  f.node_cpu_s = median_of(reps, cpu_sum);
  return f;
}

double mean_of(const std::vector<const schema::ResultRecord*>& reps, Figure figure) {
  return mean(values_of(reps, figure));
}

// The criterion's tolerances (validation.h).
constexpr double kRelativeTolerance = 0.10;
constexpr double kThrottlingTolerance = 0.10;  // absolute

// The wider of the measured 95 % interval of the mean and centre +- `tolerance`
// (relative, or absolute when `absolute`).
AcceptanceBand band_of(const std::vector<const schema::ResultRecord*>& reps, Figure figure,
                       double tolerance, bool absolute) {
  const std::vector<double> values = values_of(reps, figure);
  AcceptanceBand b;
  b.centre = mean(values);
  const results::Interval ci = results::bootstrap_mean_interval(values);
  const double half = absolute ? tolerance : tolerance * std::abs(b.centre);
  b.low = std::min(ci.low, b.centre - half);
  b.high = std::max(ci.high, b.centre + half);
  return b;
}

// A knee's position on a curve's grid of rates: its index, or the grid's
// size for "beyond the last rate".
int grid_index(const std::vector<double>& rates, double knee, bool has_knee) {
  if (!has_knee) return static_cast<int>(rates.size());
  const auto at = std::lower_bound(rates.begin(), rates.end(), knee);
  return static_cast<int>(at - rates.begin());
}

double spread_of_mean_latency(const std::vector<const schema::ResultRecord*>& reps, double centre) {
  if (reps.size() < 2) return 0;
  std::vector<double> deviations;
  for (const auto* r : reps) deviations.push_back(relative(r->latency().mean_ms(), centre));
  return mean(deviations);
}

using CurveKey = std::tuple<uint32_t, uint32_t, bool>;
CurveKey curve_of(const schema::Point& p) {
  return {p.devices(), p.nodes(), p.dtls()};
}

bool comparable(const schema::ResultRecord& r) {
  return r.error().empty() && r.point().nodes() > 0;
}

// Every repetition of a point, measured and compared, by point index.
struct Repetitions {
  schema::Point point;
  std::vector<const schema::ResultRecord*> measured, compared;
};

// Fills `report`'s points, knees and means from repetitions paired by point.
ValidationReport compare_points(const std::map<uint32_t, Repetitions>& by_point,
                                ValidationReport report) {
  for (const auto& [index, reps] : by_point) {
    PointComparison c;
    c.point_index = index;
    c.point = reps.point;
    c.repetitions = static_cast<uint32_t>(reps.measured.size());
    c.measured = figures_of(reps.measured);
    c.compared = figures_of(reps.compared);
    c.measured_spread = spread_of_mean_latency(reps.measured, c.measured.mean_ms);
    c.mean_latency_error = relative(c.compared.mean_ms, c.measured.mean_ms);
    c.p99_error = relative(c.compared.p99_ms, c.measured.p99_ms);
    c.throttling_error = std::abs(c.compared.throttling - c.measured.throttling);
    c.memory_error = relative(c.compared.memory_bytes, c.measured.memory_bytes);
    c.bytes_error = relative(c.compared.bytes, c.measured.bytes);
    c.node_cpu_error = relative(c.compared.node_cpu_s, c.measured.node_cpu_s);
    c.latency_band = band_of(reps.measured, mean_latency, kRelativeTolerance, false);
    c.node_cpu_band = band_of(reps.measured, cpu_sum, kRelativeTolerance, false);
    c.throttling_band = band_of(reps.measured, max_throttling, kThrottlingTolerance, true);
    c.accepted = c.latency_band.contains(mean_of(reps.compared, mean_latency)) &&
                 c.node_cpu_band.contains(mean_of(reps.compared, cpu_sum)) &&
                 c.throttling_band.contains(mean_of(reps.compared, max_throttling));
    report.points.push_back(std::move(c));
  }

  // Knees per curve. Points of equal rate in one curve (a scenario that
  // lists a point twice) are averaged.
  std::map<CurveKey, std::map<double, std::pair<std::vector<double>, std::vector<double>>>> curves;
  for (const auto& c : report.points) {
    auto& at = curves[curve_of(c.point)][c.point.request_rate()];
    at.first.push_back(c.measured.mean_ms);
    at.second.push_back(c.compared.mean_ms);
  }
  std::map<CurveKey, double> measured_knees;
  std::vector<double> knee_errors;
  for (const auto& [key, by_rate] : curves) {
    std::vector<std::pair<double, double>> m, s;
    std::vector<double> rates;
    for (const auto& [rate, values] : by_rate) {
      m.emplace_back(rate, mean(values.first));
      s.emplace_back(rate, mean(values.second));
      rates.push_back(rate);
    }
    CurveKnee k;
    std::tie(k.devices, k.nodes, k.dtls) = key;
    k.measured_knee = knee_rate(m, &k.measured_has_knee);
    k.compared_knee = knee_rate(s, &k.compared_has_knee);
    k.error = relative(k.compared_knee, k.measured_knee);
    k.grid_steps = std::abs(grid_index(rates, k.compared_knee, k.compared_has_knee) -
                            grid_index(rates, k.measured_knee, k.measured_has_knee));
    k.accepted = k.grid_steps <= 1;
    measured_knees[key] = k.measured_has_knee ? k.measured_knee : INFINITY;
    if (k.measured_has_knee || k.compared_has_knee) knee_errors.push_back(k.error);
    if (k.measured_has_knee) ++report.curves_with_knee;
    report.knees.push_back(k);
  }
  std::vector<double> below, all, p99, thr, mem, bytes, cpu, spread;
  for (auto& c : report.points) {
    c.below_knee = c.point.request_rate() < measured_knees[curve_of(c.point)];
    if (c.below_knee) below.push_back(c.mean_latency_error);
    if (c.repetitions > 1) spread.push_back(c.measured_spread);
    all.push_back(c.mean_latency_error);
    p99.push_back(c.p99_error);
    thr.push_back(c.throttling_error);
    mem.push_back(c.memory_error);
    bytes.push_back(c.bytes_error);
    cpu.push_back(c.node_cpu_error);
  }
  report.mean_latency_error_below_knee = mean(below);
  report.mean_latency_error = mean(all);
  report.p99_error = mean(p99);
  report.throttling_error = mean(thr);
  report.memory_error = mean(mem);
  report.bytes_error = mean(bytes);
  report.node_cpu_error = mean(cpu);
  report.knee_error = mean(knee_errors);
  report.measured_spread = mean(spread);
  report.points_repeated = spread.size();
  return report;
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
  const double step =
      curve.size() >= 2 ? curve.back().first - curve[curve.size() - 2].first : curve.back().first;
  return curve.back().first + step;
}

Result<ValidationReport> validate(const std::vector<schema::ResultRecord>& all_measured,
                                  const schema::Scenario& scenario, const SimParams& params,
                                  unsigned threads) {
  ValidationReport report;
  const std::vector<schema::ResultRecord> measured =
      results::without_slowed(all_measured, &report.slowed);
  std::vector<SweepRun> runs;
  std::vector<const schema::ResultRecord*> sources;
  for (const auto& r : measured) {
    if (!comparable(r)) continue;
    runs.push_back({r.point_index(), r.repetition(), r.point()});
    sources.push_back(&r);
  }
  if (runs.empty())
    return make_error(ErrorKind::kInvalidArgument, "validate: no measured records without error");

  std::map<uint32_t, Repetitions> by_point;
  std::deque<schema::ResultRecord> simulated;  // stable addresses for by_point
  size_t i = 0;
  auto status = run_sweep(scenario, runs, params, threads,
                          [&](const SweepRun& run, Result<PointOutcome>& out) -> Status {
                            if (!out) return out.error();
                            auto& reps = by_point[run.point_index];
                            reps.point = run.point;
                            reps.measured.push_back(sources[i++]);
                            simulated.push_back(std::move(out->record));
                            reps.compared.push_back(&simulated.back());
                            return {};
                          });
  if (!status) return status.error();
  return compare_points(by_point, std::move(report));
}

Result<ValidationReport> validate_against(const std::vector<schema::ResultRecord>& all_measured,
                                          const std::vector<schema::ResultRecord>& all_second) {
  ValidationReport report;
  report.second_sweep = true;
  std::string slowed_first, slowed_second;
  const std::vector<schema::ResultRecord> measured =
      results::without_slowed(all_measured, &slowed_first);
  const std::vector<schema::ResultRecord> second =
      results::without_slowed(all_second, &slowed_second);
  if (!slowed_first.empty()) report.slowed = "first run: " + slowed_first;
  if (!slowed_second.empty())
    report.slowed += (report.slowed.empty() ? "" : "; ") + ("second run: " + slowed_second);

  std::map<uint32_t, Repetitions> by_point;
  for (const auto& r : measured) {
    if (!comparable(r)) continue;
    auto& reps = by_point[r.point_index()];
    reps.point = r.point();
    reps.measured.push_back(&r);
  }
  for (const auto& r : second) {
    if (!comparable(r)) continue;
    auto it = by_point.find(r.point_index());
    if (it == by_point.end()) continue;
    if (!google::protobuf::util::MessageDifferencer::Equals(it->second.point, r.point()))
      return make_error(
          ErrorKind::kInvalidArgument,
          "validate: point " + std::to_string(r.point_index()) +
              " is a different point in the two runs; they are not of the same scenario");
    it->second.compared.push_back(&r);
  }
  for (auto it = by_point.begin(); it != by_point.end();) {
    if (it->second.compared.empty()) {
      ++report.points_in_one_sweep_only;
      it = by_point.erase(it);
    } else {
      ++it;
    }
  }
  if (by_point.empty())
    return make_error(ErrorKind::kInvalidArgument,
                      "validate: the two runs have no point in common");
  return compare_points(by_point, std::move(report));
}

std::string format_validation(const ValidationReport& r) {
  std::string out;
  char line[400];
  std::snprintf(line, sizeof line, "%6s %4s %7s %5s %4s %9s %9s %7s %7s %7s %7s %7s %7s %7s %4s\n",
                "point", "reps", "devices", "nodes", "dtls", "rate", "mean_ms",
                r.second_sweep ? "2nd_ms" : "sim_ms", "spread", "mean%", "p99%", "thr", "mem%",
                "cpu%", "ok");
  out += line;
  for (const auto& c : r.points) {
    const auto& p = c.point;
    std::snprintf(line, sizeof line,
                  "%6u %4u %7u %5u %4s %9.1f %9.3f %7.3f %6.1f%% %6.1f%% %6.1f%% %7.3f %6.1f%% "
                  "%6.1f%% %4s bytes %.1f%%\n",
                  c.point_index, c.repetitions, p.devices(), p.nodes(), p.dtls() ? "yes" : "no",
                  p.request_rate(), c.measured.mean_ms, c.compared.mean_ms, 100 * c.measured_spread,
                  100 * c.mean_latency_error, 100 * c.p99_error, c.throttling_error,
                  100 * c.memory_error, 100 * c.node_cpu_error, c.accepted ? "yes" : "NO",
                  100 * c.bytes_error);
    out += line;
  }
  out += "knees (first rate with mean latency > 2x its lowest-rate value):\n";
  for (const auto& k : r.knees) {
    std::snprintf(line, sizeof line,
                  "  devices %u nodes %u dtls %s: measured %s%.1f, %s %s%.1f, error %.1f%%, "
                  "%d grid step%s apart\n",
                  k.devices, k.nodes, k.dtls ? "yes" : "no", k.measured_has_knee ? "" : "none, >",
                  k.measured_knee, r.second_sweep ? "second run" : "simulated",
                  k.compared_has_knee ? "" : "none, >", k.compared_knee, 100 * k.error,
                  k.grid_steps, k.grid_steps == 1 ? "" : "s");
    out += line;
  }
  std::snprintf(line, sizeof line,
                "overall: mean latency %.1f%%, p99 %.1f%%, throttling ratio %.3f (absolute), "
                "memory %.1f%%, bytes %.1f%%, node CPU %.1f%%, "
                "%zu points, %zu of %zu curves with a measured knee\n",
                100 * r.mean_latency_error, 100 * r.p99_error, r.throttling_error,
                100 * r.memory_error, 100 * r.bytes_error, 100 * r.node_cpu_error, r.points.size(),
                r.curves_with_knee, r.knees.size());
  out += line;
  if (!r.slowed.empty()) out += "left out, measured on a slowed machine: " + r.slowed + "\n";
  if (r.points_in_one_sweep_only > 0)
    out += "skipped, measured in one run only: " + std::to_string(r.points_in_one_sweep_only) +
           " points\n";
  if (r.points_repeated > 0) {
    std::snprintf(
        line, sizeof line,
        "measurement spread: repetitions deviate %.1f%% from their point's median mean latency "
        "(%zu repeated points)\n",
        100 * r.measured_spread, r.points_repeated);
    out += line;
  }
  if (r.second_sweep)
    std::snprintf(
        line, sizeof line,
        "repeatability: mean latency difference below knee %.1f%%, knee difference %.1f%%\n",
        100 * r.mean_latency_error_below_knee, 100 * r.knee_error);
  else
    std::snprintf(line, sizeof line,
                  "validation: mean latency error below knee %.1f%%, knee error %.1f%%\n",
                  100 * r.mean_latency_error_below_knee, 100 * r.knee_error);
  out += line;
  std::snprintf(line, sizeof line,
                "criterion: %zu of %zu points within the wider of the measured 95%% interval and "
                "+-10%% (mean latency, node CPU; throttling +-0.1), %zu of %zu knees within one "
                "grid step: %s\n",
                r.points_accepted(), r.points.size(), r.knees_accepted(), r.knees.size(),
                r.accepted() ? "PASS" : "FAIL");
  out += line;
  return out;
}

}  // namespace fogm2m::sim
