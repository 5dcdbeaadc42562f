// Simulating a scenario file end to end, as `fogm2m sim` and a `mode: sim`
// scenario of `fogm2m run` do: the model's parameters, every point of the
// sweep, and the same output directory a testbed run writes
// (records.jsonl, records.csv, latency files, metadata.json; MODE_SIM).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "schema/result.pb.h"
#include "schema/scenario.pb.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

// The parameters to simulate with: `params_file` when given; else the
// scenario's sim_params (a path as given, else beside `scenario_file`);
// else the defaults.
Result<SimParams> resolve_sim_params(const std::string& params_file,
                                     const std::string& scenario_sim_params,
                                     const std::string& scenario_file);

struct SimulationOptions {
  std::string scenario_file;  // what metadata.json names
  schema::Scenario scenario;  // loaded from it
  std::string output_dir;     // empty: the scenario's output_dir
  SimParams params;
  unsigned threads = 0;  // 0: one per hardware thread
  std::string git_revision;
};

struct SimulationSummary {
  std::string output_dir;
  size_t runs = 0;
  size_t failed = 0;  // runs whose record carries an error
  uint64_t events = 0;
  double wall_s = 0;
};

// Simulates every (point, repetition) of the scenario and writes the output
// directory. A run the model cannot simulate is recorded with its error;
// errors here are of the output (kIo).
Result<SimulationSummary> simulate_scenario(const SimulationOptions& options);

// The scenario a testbed results directory was measured with (its
// metadata.json); when it has none, settings that match the testbed's
// defaults (window from the records, 5 s warm-up, /3313/0 observed).
schema::Scenario measured_scenario(const std::string& results_dir,
                                   const std::vector<schema::ResultRecord>& records);

}  // namespace fogm2m::sim
