// Fits the simulator's parameters to measured result records.
//
// CPU: for every node of every record whose CPU is the work it was given
// (throttling ratio below 0.5; or wakeups measured and the cluster kept up:
// every request answered, latency far below the window, so a throttled
// node's cheaper batched work is in the row through its fewer wakeups),
// the operations it performed in the window are derived from the record:
//   share s      = node registrations / registered devices
//   notifications = fleet notifications_sent * s
//   owned        = requests_sent * s
//   ignored      = requests_sent * (1 - s)      (broadcast bus; 0 routed)
//   updates      = node registrations * window / (0.9 * lifetime)
//   DTLS records = notifications * (1 + 1/notify_con_every) + 2 owned + 2 updates   (DTLS points)
//   wakeups      = the node's measured voluntary context switches
// and cpu_s = A x is solved by least squares (Eigen, column-pivoting QR) for
// the per-operation costs x. A cost whose column is zero or collinear with
// the ones before it (e.g. updates vs notifications when every point has the
// same lifetime and sampling interval) keeps its prior value, its share
// subtracted first; a negative fit is fixed at 0 and the rest refitted.
// Memory: node memory_mean_bytes = base + k * registrations; k is split
// between per-registration and per-observation in the prior's proportion.
// (node_cpu_background stays at its prior: with equal windows its column is
// a constant that soaks up noise rather than measuring idle work.)
// Latency: at every point where no node was throttled, the mean latency
// minus the modelled service times along the request path, divided by its
// 8 network hops, is one estimate of the hop latency; the median of the
// estimates is the fitted one (robust to the odd stalled point).
// Redis round trip (with the scenario): a node's PUBLISH gets a reply, which
// wakes the node when it lands after the busy stretch that sent it; the
// round trip is bisected, with even job costs (cv 0) whatever the prior's,
// until the simulated wakeups of the unthrottled points equal the measured
// ones.
// Cost variation (with the scenario): node_cpu_cv from 0 to 4 in steps of
// 0.25, the one whose simulated throttling ratios are nearest the measured
// ones (mean absolute difference over every node of every usable record).
// Uneven per-job costs are why a real node throttles in some periods before
// its mean use reaches the quota; they set the knee.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "schema/result.pb.h"
#include "schema/scenario.pb.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

struct CalibrationReport {
  SimParams params;
  size_t cpu_samples = 0;      // node rows used in the CPU fit
  double cpu_rms_error_s = 0;  // residual RMS of the CPU fit
  double cpu_r_squared = 0;
  std::vector<std::string> fitted;  // names of the parameters the data determined
  std::vector<std::string> kept;    // names left at the prior (not identifiable)
  size_t latency_points = 0;
  std::string
      slowed;  // records left out as measured on a slowed machine (results/slowed_machine.h)
};

// Fits `prior`'s parameters to `records` (records with an error, and those
// measured on a slowed machine, are skipped). With the `scenario` the records were measured with,
// also fits the node's Redis round trip by simulating the unthrottled points. kInvalidArgument when
// no record can be used.
Result<CalibrationReport> calibrate(const std::vector<schema::ResultRecord>& records,
                                    const SimParams& prior,
                                    const schema::Scenario* scenario = nullptr);

// One testbed run: its records and the scenario they were measured with
// (without one, its points are not simulated).
struct MeasuredRun {
  std::vector<schema::ResultRecord> records;
  std::optional<schema::Scenario> scenario;
};
// The same over several runs at once: one fit of every record of every run,
// each simulated with its own run's scenario. Costs no single sweep can
// tell apart may be told apart by two (a plain sweep and a DTLS one give
// the DTLS record's cost its own column).
Result<CalibrationReport> calibrate_runs(const std::vector<MeasuredRun>& runs,
                                         const SimParams& prior);

// The modelled zero-load request latency without network hops: service
// times along a request's path (Redis twice, the owner twice, the device).
double modelled_service_s(const SimParams& params, uint32_t nodes, bool dtls);
// Network hops a request crosses (LG->Redis->owner->LB->device and back).
int request_hops(const SimParams& params);

}  // namespace fogm2m::sim
