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
#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/git_revision.h"
#include "results/latency_file.h"
#include "results/record_reader.h"
#include "results/record_writer.h"
#include "results/run_metadata.h"
#include "scenario/loader.h"
#include "scenario/sweep.h"
#include "sim/calibration.h"
#include "sim/sim_params.h"
#include "sim/sweep_runner.h"
#include "sim/validation.h"

namespace fogm2m::cli {

namespace {

namespace fs = std::filesystem;

struct SimArgs {
  std::string scenario;
  std::string out;
  std::string params;
  unsigned threads = 0;
  std::string results_dir;
  std::string against;  // validate: a second testbed run instead of the simulator
  std::string calibrate_out = "sim-params.yaml";
};

double unix_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

// --params, else the scenario's sim_params (as given, else beside the
// scenario file), else the defaults.
Result<sim::SimParams> resolve_params(const std::string& flag, const std::string& from_scenario,
                                      const std::string& scenario_file) {
  if (!flag.empty()) return sim::load_sim_params(flag);
  if (from_scenario.empty()) return sim::SimParams{};
  fs::path p(from_scenario);
  if (p.is_relative() && !fs::exists(p) && !scenario_file.empty()) p = fs::path(scenario_file).parent_path() / p;
  return sim::load_sim_params(p.string());
}

int run_scenario(const SimArgs& args) {
  auto scenario = scenario::load_scenario_file(args.scenario);
  if (!scenario) {
    std::cerr << "fogm2m sim: " << scenario.error().message << "\n";
    return 2;
  }
  auto params = resolve_params(args.params, scenario->sim_params(), args.scenario);
  if (!params) {
    std::cerr << "fogm2m sim: " << params.error().message << "\n";
    return 2;
  }
  const std::string out = args.out.empty() ? scenario->output_dir() : args.out;
  auto writer = results::RecordWriter::open(out);
  if (!writer) {
    std::cerr << "fogm2m sim: " << writer.error().message << "\n";
    return 1;
  }
  if (auto meta = results::describe_run(args.scenario, git_revision(), *scenario); meta) {
    meta->set_cgroup_version("none");
    if (auto s = results::write_metadata(out, *meta); !s) std::cerr << "fogm2m sim: " << s.error().message << "\n";
  }
  const auto points = scenario::expand_points(*scenario);
  const auto runs = sim::all_runs(points, scenario->repetitions());
  uint64_t events = 0;
  size_t failed = 0, done = 0;
  const auto started = std::chrono::steady_clock::now();
  auto status = sim::run_sweep(*scenario, runs, *params, args.threads,
                               [&](const sim::SweepRun& run, Result<sim::PointOutcome>& outcome) -> Status {
                                 schema::ResultRecord record;
                                 if (outcome) {
                                   events += outcome->events;
                                   record = std::move(outcome->record);
                                   auto file = results::write_latency_samples(out, run.point_index, run.repetition,
                                                                              outcome->latency_us);
                                   if (!file) return file.error();
                                   record.set_latency_file(*file);
                                 } else {
                                   ++failed;
                                   record.set_scenario(scenario->name());
                                   record.set_mode(schema::MODE_SIM);
                                   record.set_point_index(run.point_index);
                                   record.set_repetition(run.repetition);
                                   *record.mutable_point() = run.point;
                                   record.set_error(outcome.error().message);
                                 }
                                 record.set_started_unix_s(unix_now());
                                 ++done;
                                 return (*writer)->append(record);
                               });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!status) {
    std::cerr << "fogm2m sim: " << status.error().message << "\n";
    return 1;
  }
  std::printf("sim: %zu runs (%zu failed) in %.2f s wall, %.3g events, %.3g events/s -> %s\n", done, failed, wall,
              static_cast<double>(events), static_cast<double>(events) / wall, out.c_str());
  return failed ? 1 : 0;
}

// The scenario a results directory was measured with (metadata.json), or
// settings that match the testbed's defaults when it has none.
schema::Scenario scenario_of(const std::string& dir, const std::vector<schema::ResultRecord>& records) {
  std::ifstream in(fs::path(dir) / "metadata.json");
  if (in) {
    std::stringstream buf;
    buf << in.rdbuf();
    schema::RunMetadata meta;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    if (google::protobuf::util::JsonStringToMessage(buf.str(), &meta, options).ok() && meta.has_scenario())
      return meta.scenario();
  }
  schema::Scenario s;
  s.set_name(records.empty() ? "validate" : records.front().scenario());
  s.set_window_s(records.empty() || records.front().window_s() <= 0 ? 60 : records.front().window_s());
  s.set_warmup_s(5);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(1);
  return s;
}

int run_calibrate(const SimArgs& args) {
  auto records = results::read_records(args.results_dir);
  if (!records) {
    std::cerr << "fogm2m sim calibrate: " << records.error().message << "\n";
    return 2;
  }
  auto prior = resolve_params(args.params, "", "");
  if (!prior) {
    std::cerr << "fogm2m sim calibrate: " << prior.error().message << "\n";
    return 2;
  }
  const schema::Scenario scenario = scenario_of(args.results_dir, *records);
  auto report = sim::calibrate(*records, *prior, &scenario);
  if (!report) {
    std::cerr << "fogm2m sim calibrate: " << report.error().message << "\n";
    return 1;
  }
  if (auto s = sim::save_sim_params(report->params, args.calibrate_out); !s) {
    std::cerr << "fogm2m sim calibrate: " << s.error().message << "\n";
    return 1;
  }
  std::printf("calibrate: %zu node measurements, CPU fit R^2 %.4f, RMS %.4g s; %zu low-load points for latency\n",
              report->cpu_samples, report->cpu_r_squared, report->cpu_rms_error_s, report->latency_points);
  std::string fitted, kept;
  for (const auto& f : report->fitted) fitted += " " + f;
  for (const auto& k : report->kept) kept += " " + k;
  std::printf("fitted:%s\nkept at prior:%s\n", fitted.c_str(), kept.empty() ? " (none)" : kept.c_str());
  if (!report->slowed.empty()) std::printf("left out, measured on a slowed machine: %s\n", report->slowed.c_str());
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
  const schema::Scenario scenario = scenario_of(args.results_dir, *records);
  auto params = resolve_params(args.params, scenario.sim_params(), "");
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
  auto* cmd = app.add_subcommand("sim", "Discrete-event simulation of a scenario; calibrate and validate the model");
  cmd->require_subcommand(0, 1);
  cmd->add_option("scenario", args->scenario, "Scenario file (YAML) to simulate")->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output directory (default: the scenario's output_dir)");
  cmd->add_option("--params", args->params, "Model parameter file (YAML/JSON; default: the scenario's sim_params)");
  cmd->add_option("--threads", args->threads, "Worker threads over points (0: one per CPU)")->capture_default_str();

  auto* cal = cmd->add_subcommand("calibrate", "Fit the model's costs to testbed records; write a parameter file");
  cal->add_option("results_dir", args->results_dir, "Output directory of a testbed run")->required()->check(CLI::ExistingDirectory);
  cal->add_option("--out", args->calibrate_out, "Parameter file to write (.yaml or .json)")->capture_default_str();
  cal->add_option("--params", args->params, "Prior parameters (default: built-in)");
  cal->callback([args] {
    if (int code = run_calibrate(*args); code != 0) throw CLI::RuntimeError(code);
  });

  auto* val = cmd->add_subcommand(
      "validate", "Simulate every testbed point and print the errors (or compare with a second run: --against)");
  val->add_option("results_dir", args->results_dir, "Output directory of a testbed run")->required()->check(CLI::ExistingDirectory);
  auto* val_params =
      val->add_option("--params", args->params, "Model parameter file (default: the run's sim_params, else built-in)");
  val->add_option("--against", args->against,
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
