// `fogm2m sim`: the discrete-event simulator on the command line.
//   fogm2m sim SCENARIO.yaml [--out DIR] [--params FILE] [--threads N]
//       simulates every point of the scenario's sweep and writes the same
//       records.jsonl / records.csv / latency files / metadata.json as
//       `fogm2m run` (mode MODE_SIM).
//   fogm2m sim calibrate RESULTS_DIR [--out params.yaml|json] [--params PRIOR]
//       fits the model's costs to testbed records and writes a parameter file.
//   fogm2m sim validate RESULTS_DIR [--params FILE] [--threads N]
//       simulates every testbed point and prints the errors.
//   fogm2m sim validate RESULTS_DIR --against SECOND_RESULTS_DIR
//       compares two testbed runs of one scenario the same way: the
//       testbed's repeatability, the floor under any validation error.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/git_revision.h"
#include "results/record_reader.h"
#include "scenario/loader.h"
#include "sim/calibration.h"
#include "sim/sim_params.h"
#include "sim/simulate.h"
#include "sim/validation.h"

namespace fogm2m::cli {

namespace {

struct SimArgs {
  std::string scenario;
  std::string out;
  std::string params;
  unsigned threads = 0;
  std::string results_dir;
  std::vector<std::string> calibrate_dirs;  // calibrate: one testbed run or more
  std::string against;  // validate: a second testbed run instead of the simulator
  std::string calibrate_out = "sim-params.yaml";
};

int run_scenario(const SimArgs& args) {
  auto scenario = scenario::load_scenario_file(args.scenario);
  if (!scenario) {
    std::cerr << "fogm2m sim: " << scenario.error().message << "\n";
    return 2;
  }
  auto params = sim::resolve_sim_params(args.params, scenario->sim_params(), args.scenario);
  if (!params) {
    std::cerr << "fogm2m sim: " << params.error().message << "\n";
    return 2;
  }
  sim::SimulationOptions options;
  options.scenario_file = args.scenario;
  options.scenario = std::move(*scenario);
  options.output_dir = args.out;
  options.params = *params;
  options.threads = args.threads;
  options.git_revision = git_revision();
  auto summary = sim::simulate_scenario(options);
  if (!summary) {
    std::cerr << "fogm2m sim: " << summary.error().message << "\n";
    return 1;
  }
  std::printf("sim: %zu runs (%zu failed) in %.2f s wall, %.3g events, %.3g events/s -> %s\n",
              summary->runs, summary->failed, summary->wall_s, static_cast<double>(summary->events),
              static_cast<double>(summary->events) / summary->wall_s, summary->output_dir.c_str());
  return summary->failed ? 1 : 0;
}

int run_calibrate(const SimArgs& args) {
  std::vector<sim::MeasuredRun> runs;
  for (const std::string& dir : args.calibrate_dirs) {
    auto records = results::read_records(dir);
    if (!records) {
      std::cerr << "fogm2m sim calibrate: " << records.error().message << "\n";
      return 2;
    }
    sim::MeasuredRun run;
    run.scenario = sim::measured_scenario(dir, *records);
    run.records = std::move(*records);
    runs.push_back(std::move(run));
  }
  auto prior = sim::resolve_sim_params(args.params, "", "");
  if (!prior) {
    std::cerr << "fogm2m sim calibrate: " << prior.error().message << "\n";
    return 2;
  }
  auto report = sim::calibrate_runs(runs, *prior);
  if (!report) {
    std::cerr << "fogm2m sim calibrate: " << report.error().message << "\n";
    return 1;
  }
  if (auto s = sim::save_sim_params(report->params, args.calibrate_out); !s) {
    std::cerr << "fogm2m sim calibrate: " << s.error().message << "\n";
    return 1;
  }
  std::printf(
      "calibrate: %zu node measurements, CPU fit R^2 %.4f, RMS %.4g s; %zu low-load points for "
      "latency\n",
      report->cpu_samples, report->cpu_r_squared, report->cpu_rms_error_s, report->latency_points);
  std::string fitted, kept;
  for (const auto& f : report->fitted) fitted += " " + f;
  for (const auto& k : report->kept) kept += " " + k;
  std::printf("fitted:%s\nkept at prior:%s\n", fitted.c_str(),
              kept.empty() ? " (none)" : kept.c_str());
  if (!report->slowed.empty())
    std::printf("left out, measured on a slowed machine: %s\n", report->slowed.c_str());
  std::fputs(sim::format_sim_params(report->params, "yaml").c_str(), stdout);
  std::printf("wrote %s\n", args.calibrate_out.c_str());
  return 0;
}

int run_validate(const SimArgs& args) {
  auto records = results::read_records(args.results_dir);
  if (!records) {
    std::cerr << "fogm2m sim validate: " << records.error().message << "\n";
    return 2;
  }
  if (!args.against.empty()) {
    auto second = results::read_records(args.against);
    if (!second) {
      std::cerr << "fogm2m sim validate: " << second.error().message << "\n";
      return 2;
    }
    auto report = sim::validate_against(*records, *second);
    if (!report) {  // not two runs of one scenario
      std::cerr << "fogm2m sim validate: " << report.error().message << "\n";
      return 2;
    }
    std::fputs(sim::format_validation(*report).c_str(), stdout);
    return 0;
  }
  const schema::Scenario scenario = sim::measured_scenario(args.results_dir, *records);
  auto params = sim::resolve_sim_params(args.params, scenario.sim_params(), "");
  if (!params) {
    std::cerr << "fogm2m sim validate: " << params.error().message << "\n";
    return 2;
  }
  auto report = sim::validate(*records, scenario, *params, args.threads);
  if (!report) {
    std::cerr << "fogm2m sim validate: " << report.error().message << "\n";
    std::printf("validation: no points compared\n");
    return 0;
  }
  std::fputs(sim::format_validation(*report).c_str(), stdout);
  return 0;
}

}  // namespace

void add_sim_command(CLI::App& app) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand(
      "sim", "Discrete-event simulation of a scenario; calibrate and validate the model");
  cmd->require_subcommand(0, 1);
  cmd->add_option("scenario", args->scenario, "Scenario file (YAML) to simulate")
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output directory (default: the scenario's output_dir)");
  cmd->add_option("--params", args->params,
                  "Model parameter file (YAML/JSON; default: the scenario's sim_params)");
  cmd->add_option("--threads", args->threads, "Worker threads over points (0: one per CPU)")
      ->capture_default_str();

  auto* cal = cmd->add_subcommand(
      "calibrate", "Fit the model's costs to testbed records; write a parameter file");
  cal->add_option("results_dirs", args->calibrate_dirs,
                  "Output directories of testbed runs, fitted together (e.g. a plain and a DTLS "
                  "sweep, which tells the DTLS record's cost apart)")
      ->required()
      ->check(CLI::ExistingDirectory);
  cal->add_option("--out", args->calibrate_out, "Parameter file to write (.yaml or .json)")
      ->capture_default_str();
  cal->add_option("--params", args->params, "Prior parameters (default: built-in)");
  cal->callback([args] {
    if (int code = run_calibrate(*args); code != 0) throw CLI::RuntimeError(code);
  });

  auto* val = cmd->add_subcommand("validate",
                                  "Simulate every testbed point and print the errors (or compare "
                                  "with a second run: --against)");
  val->add_option("results_dir", args->results_dir, "Output directory of a testbed run")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* val_params =
      val->add_option("--params", args->params,
                      "Model parameter file (default: the run's sim_params, else built-in)");
  val->add_option(
         "--against", args->against,
         "A second testbed run of the same scenario to compare with instead of the simulator "
         "(the testbed's repeatability)")
      ->check(CLI::ExistingDirectory)
      ->excludes(val_params);
  val->add_option("--threads", args->threads, "Worker threads (0: one per CPU)");
  val->callback([args] {
    if (int code = run_validate(*args); code != 0) throw CLI::RuntimeError(code);
  });

  cmd->callback([cmd, args] {
    if (!cmd->get_subcommands().empty()) return;
    if (args->scenario.empty()) throw CLI::RequiredError("scenario");
    if (int code = run_scenario(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
