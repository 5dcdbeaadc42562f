#include "sim/simulate.h"

#include <chrono>
#include <filesystem>

#include "results/latency_file.h"
#include "results/record_writer.h"
#include "results/run_metadata.h"
#include "scenario/sweep.h"
#include "sim/cluster_model.h"
#include "sim/sweep_runner.h"

namespace fogm2m::sim {

namespace {

namespace fs = std::filesystem;

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<SimParams> resolve_sim_params(const std::string& params_file,
                                     const std::string& scenario_sim_params,
                                     const std::string& scenario_file) {
  if (!params_file.empty()) return load_sim_params(params_file);
  if (scenario_sim_params.empty()) return SimParams{};
  fs::path p(scenario_sim_params);
  if (p.is_relative() && !fs::exists(p) && !scenario_file.empty())
    p = fs::path(scenario_file).parent_path() / p;
  return load_sim_params(p.string());
}

Result<SimulationSummary> simulate_scenario(const SimulationOptions& options) {
  const schema::Scenario& scenario = options.scenario;
  // A kill_node the model cannot simulate refuses the scenario, before any output.
  if (Status s = check_sim_faults(scenario); !s) return s.error();
  SimulationSummary summary;
  summary.output_dir = options.output_dir.empty() ? scenario.output_dir() : options.output_dir;
  auto writer = results::RecordWriter::open(summary.output_dir);
  if (!writer) return writer.error();
  if (auto meta = results::describe_run(options.scenario_file, options.git_revision, scenario);
      meta) {
    meta->set_cgroup_version("none");
    if (Status s = results::write_metadata(summary.output_dir, *meta); !s) return s.error();
  }
  const auto runs = all_runs(scenario::expand_points(scenario), scenario.repetitions());
  const auto started = std::chrono::steady_clock::now();
  Status status =
      run_sweep(scenario, runs, options.params, options.threads,
                [&](const SweepRun& run, Result<PointOutcome>& outcome) -> Status {
                  schema::ResultRecord record;
                  if (outcome) {
                    summary.events += outcome->events;
                    record = std::move(outcome->record);
                    auto file = results::write_latency_samples(summary.output_dir, run.point_index,
                                                               run.repetition, outcome->latency_us);
                    if (!file) return file.error();
                    record.set_latency_file(*file);
                  } else {
                    ++summary.failed;
                    record.set_scenario(scenario.name());
                    record.set_mode(schema::MODE_SIM);
                    record.set_point_index(run.point_index);
                    record.set_repetition(run.repetition);
                    *record.mutable_point() = run.point;
                    record.set_error(outcome.error().message);
                  }
                  record.set_started_unix_s(unix_now());
                  ++summary.runs;
                  return (*writer)->append(record);
                });
  summary.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!status) return status.error();
  return summary;
}

schema::Scenario measured_scenario(const std::string& results_dir,
                                   const std::vector<schema::ResultRecord>& records) {
  if (auto meta = results::read_metadata(results_dir); meta && meta->has_scenario())
    return meta->scenario();
  schema::Scenario s;
  s.set_name(records.empty() ? "validate" : records.front().scenario());
  s.set_window_s(records.empty() || records.front().window_s() <= 0 ? 60
                                                                    : records.front().window_s());
  s.set_warmup_s(5);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(1);
  return s;
}

}  // namespace fogm2m::sim
