// Least-squares calibration of the model's costs (see calibration.h).
#include "sim/calibration.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "results/median.h"
#include "results/slowed_machine.h"
#include "sim/cluster_model.h"
#include "sim/request_kinds.h"

namespace fogm2m::sim {

namespace {

struct CpuColumn {
  const char* name;
  double SimParams::*field;
};

// In order of preference when columns are collinear.
constexpr CpuColumn kColumns[] = {
    {"node_cpu_notification_s", &SimParams::node_cpu_notification_s},
    {"node_cpu_request_owned_s", &SimParams::node_cpu_request_owned_s},
    {"node_cpu_request_ignored_s", &SimParams::node_cpu_request_ignored_s},
    {"node_cpu_dtls_datagram_s", &SimParams::node_cpu_dtls_datagram_s},
    {"node_cpu_wakeup_s", &SimParams::node_cpu_wakeup_s},
    {"node_cpu_registration_s", &SimParams::node_cpu_registration_s},
};
constexpr int kNumColumns = sizeof(kColumns) / sizeof(kColumns[0]);

bool usable(const schema::ResultRecord& r) {
  return r.error().empty() && r.window_s() > 0 && r.nodes_size() > 0 && r.point().nodes() > 0;
}

// The cluster did the work it was given in the window: every request was
// answered in time and every notification got through, with latencies far
// below the window (no backlog carried out of it).
bool kept_up(const schema::ResultRecord& r) {
  const double sent = r.fleet().notifications_sent();
  return r.requests_answered() >= 0.99 * r.requests_sent() &&
         r.notifications_received() >= 0.98 * sent &&
         r.latency().mean_ms() < 0.02 * 1000 * r.window_s();
}

// A node's CPU in the window is the work it was given: it was not throttled
// much, or its wakeups were measured (so batching under throttling is in the
// row) and the cluster kept up.
bool cpu_is_work(const schema::ResultRecord& r, const schema::NodeStats& n) {
  return n.throttling_ratio() < 0.5 || (n.wakeups() > 0 && kept_up(r));
}

// The rank of the columns `cols` of `a` (scaled to unit norm).
int rank_of(const Eigen::MatrixXd& a, const std::vector<int>& cols) {
  if (cols.empty()) return 0;
  Eigen::MatrixXd m(a.rows(), static_cast<Eigen::Index>(cols.size()));
  for (size_t j = 0; j < cols.size(); ++j) {
    const double norm = a.col(cols[j]).norm();
    m.col(static_cast<Eigen::Index>(j)) = a.col(cols[j]) / (norm > 0 ? norm : 1);
  }
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(m);
  // Columns closer than this to the span of the others cannot be told apart
  // by measured data: on a testbed sweep where every point has the same
  // lifetime and sampling, updates are ~proportional to notifications, and a
  // 1e-3 threshold let the fit put the notifications' cost on the updates.
  qr.setThreshold(0.05);
  return static_cast<int>(qr.rank());
}

// A measured record, the scenario of its run (null: not simulated) and the
// mix's mean owned-cost factor.
struct Sample {
  const schema::ResultRecord* record;
  const schema::Scenario* scenario;
  double owned_factor = 1.0;
};

bool throttled(const schema::ResultRecord& r) {
  for (const auto& n : r.nodes())
    if (n.throttling_ratio() > 0.05) return true;
  return false;
}

std::vector<Sample> unthrottled(const std::vector<Sample>& samples) {
  std::vector<Sample> out;
  for (const Sample& s : samples)
    if (s.record->requests_answered() > 0 && !throttled(*s.record)) out.push_back(s);
  return out;
}

// The samples that can be simulated (their run's scenario is known).
std::vector<Sample> simulable(const std::vector<Sample>& samples) {
  std::vector<Sample> out;
  for (const Sample& s : samples)
    if (s.scenario != nullptr) out.push_back(s);
  return out;
}

// Simulates every sample's point with `params` and hands each measured
// record with its simulated one to `use` (points the model rejects skipped).
template <class Use>
void for_each_simulated(const std::vector<Sample>& points, const SimParams& params, Use use) {
  for (const Sample& s : points) {
    const schema::ResultRecord& r = *s.record;
    auto outcome = simulate_point(*s.scenario, r.point(), r.point_index(), r.repetition(), params);
    if (outcome) use(r, outcome->record);
  }
}

// Total node wakeups of the records, simulated with `params`.
double simulated_wakeups(const std::vector<Sample>& points, const SimParams& params) {
  double total = 0;
  for_each_simulated(points, params,
                     [&](const schema::ResultRecord&, const schema::ResultRecord& sim) {
                       for (const auto& n : sim.nodes()) total += n.wakeups();
                     });
  return total;
}

// The round trip at which the simulated wakeups of the unthrottled points
// equal the measured ones (bisection on a log scale; more wakeups the longer
// a reply takes, as fewer replies land inside the busy stretch that sent
// them). nullopt without measured wakeups.
std::optional<double> fit_round_trip(const std::vector<Sample>& samples, const SimParams& params) {
  const auto points = unthrottled(samples);
  double measured = 0;
  for (const Sample& s : points)
    for (const auto& n : s.record->nodes()) measured += n.wakeups();
  if (measured <= 0) return std::nullopt;
  SimParams p = params;
  double lo = 1e-6, hi = 10e-3;
  for (int i = 0; i < 14; ++i) {
    const double mid = std::sqrt(lo * hi);
    p.node_redis_round_trip_s = mid;
    (simulated_wakeups(points, p) < measured ? lo : hi) = mid;
  }
  return std::sqrt(lo * hi);
}

// Mean absolute difference of the nodes' throttling ratios, simulated with
// `params` against measured, over every node of the records.
double throttling_error(const std::vector<Sample>& points, const SimParams& params) {
  double total = 0;
  size_t n = 0;
  for_each_simulated(
      points, params, [&](const schema::ResultRecord& measured, const schema::ResultRecord& sim) {
        for (int i = 0; i < measured.nodes_size() && i < sim.nodes_size(); ++i) {
          total += std::abs(sim.nodes(i).throttling_ratio() - measured.nodes(i).throttling_ratio());
          ++n;
        }
      });
  return n ? total / static_cast<double>(n) : 0;
}

// The coefficient of variation of job costs (0..4 in steps of 0.25) whose
// simulated throttling ratios are closest to the measured ones. nullopt
// when no node of the records was ever throttled (nothing to fit).
std::optional<double> fit_cost_variation(const std::vector<Sample>& points,
                                         const SimParams& params) {
  bool any_throttled = false;
  for (const Sample& s : points) any_throttled |= throttled(*s.record);
  if (!any_throttled) return std::nullopt;
  SimParams p = params;
  double best_cv = 0, best = INFINITY;
  for (int k = 0; k <= 16; ++k) {
    p.node_cpu_cv = 0.25 * k;
    const double e = throttling_error(points, p);
    if (e < best - 1e-9) {
      best = e;
      best_cv = p.node_cpu_cv;
    }
  }
  return best_cv;
}

}  // namespace

int request_hops(const SimParams& params) {
  return params.bus_mode == BusMode::kRouted ? 10 : 8;
}

double modelled_service_s(const SimParams& p, uint32_t nodes, bool dtls) {
  const double subscribers = p.bus_mode == BusMode::kBroadcast ? nodes : 1;
  double s = p.redis_command_s + subscribers * p.redis_per_subscriber_s;  // PUBLISH LWM2M_REQ
  s += p.node_cpu_request_owned_s + p.device_request_delay_s;  // owner, in and out; device
  s += 2 * p.node_cpu_wakeup_s;                                // the owner is idle both times
  s += p.redis_command_s + p.redis_per_subscriber_s;           // PUBLISH rep
  if (dtls) s += 2 * p.node_cpu_dtls_datagram_s;
  if (p.bus_mode == BusMode::kRouted) s += p.redis_command_s;  // owner lookup
  return s;
}

Result<CalibrationReport> calibrate(const std::vector<schema::ResultRecord>& measured,
                                    const SimParams& prior, const schema::Scenario* scenario) {
  std::vector<MeasuredRun> runs(1);
  runs[0].records = measured;
  if (scenario != nullptr) runs[0].scenario = *scenario;
  return calibrate_runs(runs, prior);
}

Result<CalibrationReport> calibrate_runs(const std::vector<MeasuredRun>& runs,
                                         const SimParams& prior) {
  CalibrationReport report;
  report.params = prior;
  // Every run's usable records, each with its run's scenario and mix factor
  // (a list of lists: the samples point into it, so it never reallocates).
  std::vector<std::vector<schema::ResultRecord>> kept(runs.size());
  std::vector<Sample> samples;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::string slowed;
    kept[i] = results::without_slowed(runs[i].records, &slowed);
    if (!slowed.empty()) report.slowed += (report.slowed.empty() ? "" : "; ") + slowed;
    const schema::Scenario* scenario = runs[i].scenario ? &*runs[i].scenario : nullptr;
    const double factor = scenario ? mean_owned_cost_factor(*scenario, prior) : 1.0;
    for (const auto& r : kept[i])
      if (usable(r)) samples.push_back({&r, scenario, factor});
  }
  SimParams& out = report.params;

  // ---- CPU rows ----
  std::vector<std::array<double, kNumColumns>> rows;
  std::vector<double> ys;
  std::vector<std::pair<double, double>> memory;  // (registrations, bytes)
  // The owned column counts requests in reads (the mix's mean factor), so
  // it fits the read's cost.
  for (const Sample& sample : samples) {
    const schema::ResultRecord& r = *sample.record;
    double registered = 0;
    for (const auto& n : r.nodes()) registered += n.registrations();
    if (registered <= 0) continue;
    const schema::Point& pt = r.point();
    const double window = r.window_s();
    const bool broadcast = bus_mode_of(pt, prior) == BusMode::kBroadcast;
    for (const auto& n : r.nodes()) {
      memory.emplace_back(n.registrations(), n.memory_mean_bytes());
      if (!cpu_is_work(r, n)) continue;
      const double share = n.registrations() / registered;
      const double notifications = r.fleet().notifications_sent() * share;
      const double owned = r.requests_sent() * share;
      const double ignored = broadcast ? r.requests_sent() * (1 - share) : 0;
      const double updates =
          pt.lifetime_s() > 0 ? n.registrations() * window / (0.9 * pt.lifetime_s()) : 0;
      const double con = prior.notify_con_every > 0 ? 1.0 / prior.notify_con_every : 0;
      const double dtls = pt.dtls() ? notifications * (1 + con) + 2 * owned + 2 * updates : 0;
      rows.push_back(
          {notifications, owned * sample.owned_factor, ignored, dtls, n.wakeups(), updates});
      ys.push_back(n.cpu_s());
    }
  }
  if (rows.empty())
    return make_error(ErrorKind::kInvalidArgument,
                      "calibrate: no usable node measurements in the records");
  report.cpu_samples = rows.size();

  const Eigen::Index m = static_cast<Eigen::Index>(rows.size());
  Eigen::MatrixXd a(m, kNumColumns);
  Eigen::VectorXd y(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (int j = 0; j < kNumColumns; ++j)
      a(i, j) = rows[static_cast<size_t>(i)][static_cast<size_t>(j)];
    y(i) = ys[static_cast<size_t>(i)];
  }
  // Identifiable columns, greedily in preference order.
  std::vector<int> free_cols;
  std::vector<bool> fixed(kNumColumns, false);
  std::vector<bool> forced_zero(kNumColumns, false);  // fitted negative, fixed at 0
  for (int j = 0; j < kNumColumns; ++j) {
    std::vector<int> trial = free_cols;
    trial.push_back(j);
    if (a.col(j).norm() > 0 && rank_of(a, trial) == static_cast<int>(trial.size()))
      free_cols = trial;
    else
      fixed[static_cast<size_t>(j)] = true;
  }
  // Solve; fix negative costs at 0 and refit.
  Eigen::VectorXd x = Eigen::VectorXd::Zero(kNumColumns);
  for (int j = 0; j < kNumColumns; ++j)
    if (fixed[static_cast<size_t>(j)]) x(j) = out.*kColumns[j].field;
  for (;;) {
    Eigen::VectorXd rhs = y;
    for (int j = 0; j < kNumColumns; ++j)
      if (fixed[static_cast<size_t>(j)]) rhs -= a.col(j) * x(j);
    if (free_cols.empty()) break;
    Eigen::MatrixXd sub(m, static_cast<Eigen::Index>(free_cols.size()));
    Eigen::VectorXd scale(static_cast<Eigen::Index>(free_cols.size()));
    for (size_t k = 0; k < free_cols.size(); ++k) {
      const double norm = a.col(free_cols[k]).norm();
      scale(static_cast<Eigen::Index>(k)) = norm;
      sub.col(static_cast<Eigen::Index>(k)) = a.col(free_cols[k]) / norm;
    }
    const Eigen::VectorXd z = sub.colPivHouseholderQr().solve(rhs);
    int most_negative = -1;
    double worst = 0;
    for (size_t k = 0; k < free_cols.size(); ++k) {
      const double v = z(static_cast<Eigen::Index>(k)) / scale(static_cast<Eigen::Index>(k));
      x(free_cols[k]) = v;
      if (v < worst) {
        worst = v;
        most_negative = static_cast<int>(k);
      }
    }
    if (most_negative < 0) break;
    const int col = free_cols[static_cast<size_t>(most_negative)];
    fixed[static_cast<size_t>(col)] = true;
    forced_zero[static_cast<size_t>(col)] = true;
    x(col) = 0;
    free_cols.erase(free_cols.begin() + most_negative);
  }
  for (int j = 0; j < kNumColumns; ++j) {
    const bool was_free = std::find(free_cols.begin(), free_cols.end(), j) != free_cols.end();
    if (was_free || forced_zero[static_cast<size_t>(j)]) {
      out.*kColumns[j].field = x(j);
      report.fitted.push_back(kColumns[j].name);
    } else {
      report.kept.push_back(kColumns[j].name);
    }
  }
  const Eigen::VectorXd residual = a * x - y;
  report.cpu_rms_error_s = std::sqrt(residual.squaredNorm() / static_cast<double>(m));
  const double mean_y = y.mean();
  const double total = (y.array() - mean_y).square().sum();
  report.cpu_r_squared = total > 0 ? 1 - residual.squaredNorm() / total : 1;

  // ---- Memory ----
  if (memory.size() >= 2) {
    Eigen::MatrixXd am(static_cast<Eigen::Index>(memory.size()), 2);
    Eigen::VectorXd ym(static_cast<Eigen::Index>(memory.size()));
    for (size_t i = 0; i < memory.size(); ++i) {
      am(static_cast<Eigen::Index>(i), 0) = 1;
      am(static_cast<Eigen::Index>(i), 1) = memory[i].first;
      ym(static_cast<Eigen::Index>(i)) = memory[i].second;
    }
    if (rank_of(am, {0, 1}) == 2) {
      const Eigen::VectorXd mx = am.colPivHouseholderQr().solve(ym);
      const double per_device = std::max(0.0, mx(1));
      const double prior_sum =
          prior.node_memory_per_registration_bytes + prior.node_memory_per_observation_bytes;
      const double reg_share =
          prior_sum > 0 ? prior.node_memory_per_registration_bytes / prior_sum : 1;
      out.node_memory_base_bytes = std::max(0.0, mx(0));
      out.node_memory_per_registration_bytes = per_device * reg_share;
      out.node_memory_per_observation_bytes = per_device * (1 - reg_share);
      report.fitted.push_back("node_memory_*");
    }
  }

  // ---- Latency: hop estimate from every unthrottled point ----
  std::vector<double> hops;
  for (const Sample& sample : unthrottled(samples)) {
    const schema::ResultRecord* r = sample.record;
    SimParams measured_with = out;
    measured_with.bus_mode = bus_mode_of(r->point(), out);
    const double service = modelled_service_s(measured_with, r->point().nodes(), r->point().dtls());
    hops.push_back(
        std::max(0.0, (r->latency().mean_ms() * 1e-3 - service) / request_hops(measured_with)));
  }
  if (!hops.empty()) {
    out.network_hop_latency_s = results::median(hops);
    report.latency_points = hops.size();
    report.fitted.push_back("network_hop_latency_s");
  }

  // ---- Redis round trip: the sim's wakeups match the measured ones ----
  // ---- Cost variation: the sim's throttling ratios match the measured ones ----
  // The round trip is fitted with even costs, whatever the prior's cost
  // variation: the wakeups depend on both, and fitting each with the other
  // held at the prior's value made the result follow the prior.
  if (const std::vector<Sample> simulated = simulable(samples); !simulated.empty()) {
    out.node_cpu_cv = 0;
    if (auto rtt = fit_round_trip(simulated, out); rtt) {
      out.node_redis_round_trip_s = *rtt;
      report.fitted.push_back("node_redis_round_trip_s");
    } else {
      report.kept.push_back("node_redis_round_trip_s");
    }
    if (auto cv = fit_cost_variation(simulated, out); cv) {
      out.node_cpu_cv = *cv;
      report.fitted.push_back("node_cpu_cv");
    } else {
      out.node_cpu_cv = prior.node_cpu_cv;
      report.kept.push_back("node_cpu_cv");
    }
  }
  return report;
}

}  // namespace fogm2m::sim
