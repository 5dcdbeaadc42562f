// Compares the simulator with measured result records: every measured
// (point, repetition) is simulated with the same parameters and the errors
// are reported per point, per curve (knee) and overall. The same comparison
// of two testbed runs of one scenario (validate_against) measures the
// testbed's repeatability: the floor under any simulator's error on that
// machine.
//
// A point's value is the median over its repetitions, measured and
// simulated alike, so repetitions narrow the run-to-run noise and one
// disturbed run does not move the point. The spread of the measured
// repetitions (their mean relative deviation from the point's median) is
// reported as the measurement's own noise.
//
// Errors are relative, |simulated - measured| / measured, except the
// throttling ratio, a ratio itself, whose error is the absolute difference.
// Memory is the nodes' mean memory summed; bytes the nodes' rx + tx summed.
// Knee of a curve (points of equal devices, nodes, dtls, by request rate):
// the first rate whose mean latency exceeds twice the mean latency at the
// curve's lowest rate. A curve without one gets "one step beyond its last
// rate" as its knee, so a knee the model misses still counts as an error.
// "Below the knee" means a rate below the measured knee.
//
// The acceptance criterion (issue 20): a point passes when the compared mean
// latency, node CPU and throttling ratio (each a mean over the compared
// repetitions) lie in the wider of two bands around the measured mean over
// repetitions: the measured bootstrap 95 %
// interval of that mean (results/bootstrap_interval.h), or +-10 % of it
// (for the throttling ratio, a ratio itself, +-0.1 absolute). A curve passes
// when its compared knee is within one step of the measured one on the
// curve's grid of rates. The comparison passes when every point and every
// curve does.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "schema/result.pb.h"
#include "schema/scenario.pb.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

// A point's figures: medians over its repetitions.
struct PointFigures {
  double mean_ms = 0, p99_ms = 0;
  double throttling = 0;    // max over nodes
  double memory_bytes = 0;  // nodes' mean memory summed
  double bytes = 0;         // nodes' rx + tx summed
  double node_cpu_s = 0;    // nodes' CPU time over the window, summed
};

// Where a compared value must lie for the criterion: the wider of the
// measured 95 % interval of the mean and the fixed tolerance around it.
struct AcceptanceBand {
  double centre = 0;  // measured mean over repetitions
  double low = 0, high = 0;
  bool contains(double v) const { return v >= low && v <= high; }
};

struct PointComparison {
  uint32_t point_index = 0;
  schema::Point point;
  uint32_t repetitions = 0;  // measured records of the point
  double measured_spread =
      0;  // mean |rep - median| / median of mean latency; 0 with one repetition
  PointFigures measured;
  PointFigures compared;  // the simulator's figures, or the second sweep's (validate_against)
  double mean_latency_error = 0;
  double p99_error = 0;
  double throttling_error = 0;  // absolute, max over nodes
  double memory_error = 0;
  double bytes_error = 0;
  double node_cpu_error = 0;  // relative
  bool below_knee = true;
  // The criterion: bands of mean latency, node CPU and throttling.
  AcceptanceBand latency_band, node_cpu_band, throttling_band;
  bool accepted = false;  // all three compared values inside their bands
};

struct CurveKnee {
  uint32_t devices = 0, nodes = 0;
  bool dtls = false;
  double measured_knee = 0;  // request rate
  double compared_knee = 0;
  bool measured_has_knee = false, compared_has_knee = false;
  double error = 0;  // relative
  // Steps between the two knees on the curve's grid of measured rates
  // (a knee beyond the last rate is one step beyond it).
  int grid_steps = 0;
  bool accepted = false;  // grid_steps <= 1
};

struct ValidationReport {
  bool second_sweep = false;  // compared with a second testbed run, not the simulator
  std::vector<PointComparison> points;
  std::vector<CurveKnee> knees;
  // Means over points (or curves with a measured knee, for the knee error).
  double mean_latency_error_below_knee = 0;
  double mean_latency_error = 0;
  double p99_error = 0;
  double throttling_error = 0;
  double memory_error = 0;
  double bytes_error = 0;
  double knee_error = 0;
  double node_cpu_error = 0;
  size_t curves_with_knee = 0;
  // The criterion, over points and curves.
  size_t points_accepted() const {
    return static_cast<size_t>(
        std::count_if(points.begin(), points.end(), [](const auto& c) { return c.accepted; }));
  }
  size_t knees_accepted() const {
    return static_cast<size_t>(
        std::count_if(knees.begin(), knees.end(), [](const auto& k) { return k.accepted; }));
  }
  bool accepted() const {
    return points_accepted() == points.size() && knees_accepted() == knees.size();
  }
  // Mean measured_spread over points with more than one repetition; 0 if none.
  double measured_spread = 0;
  size_t points_repeated = 0;
  std::string
      slowed;  // records left out as measured on a slowed machine (results/slowed_machine.h)
  size_t points_in_one_sweep_only =
      0;  // validate_against: points skipped, measured in one run only
};

// The knee of a curve from (rate, mean latency ms) pairs, sorted or not.
// has_knee false: none; the returned rate is one step beyond the last.
double knee_rate(std::vector<std::pair<double, double>> curve, bool* has_knee);

// Simulates every record of `measured` (records with an error, and those
// measured on a slowed machine, are skipped)
// with `scenario`'s run settings and `params`, on `threads` threads, and
// compares point by point (repetitions folded into medians).
Result<ValidationReport> validate(const std::vector<schema::ResultRecord>& measured,
                                  const schema::Scenario& scenario, const SimParams& params,
                                  unsigned threads);

// Compares two testbed runs of the same scenario point by point, `second`
// in the simulator's place: the errors are their differences. Records with
// an error, or measured on a slowed machine, are left out of either; points
// measured in only one are skipped. kInvalidArgument when a point index
// stands for different points in the two (not the same scenario), or when
// no point is in both.
Result<ValidationReport> validate_against(const std::vector<schema::ResultRecord>& measured,
                                          const std::vector<schema::ResultRecord>& second);

// The report as text: one line per point, per curve, and the overall line
// "validation: mean latency error below knee X%, knee error Y%" (against a
// second sweep: "repeatability: mean latency difference below knee X%,
// knee difference Y%"), then the criterion's line: "criterion: N of M
// points ..., K of L knees within one grid step: PASS|FAIL".
std::string format_validation(const ValidationReport& report);

}  // namespace fogm2m::sim
