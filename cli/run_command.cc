// `fogm2m run SCENARIO.yaml`: the product's main job. Runs a scenario's sweep
// on a real cluster of this machine (a `mode: sim` scenario is simulated, as
// `fogm2m sim` does) and writes result records; Ctrl-C stops cleanly and
// keeps the finished points.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/git_revision.h"
#include "runner/scenario_runner.h"
#include "scenario/loader.h"
#include "scenario/sweep.h"
#include "sim/simulate.h"

namespace fogm2m::cli {

namespace {

struct RunArgs {
  std::string scenario;
  std::string out;
  bool resume = false;
  bool keep_work = false;
  std::string shard = "1/1";
  std::string log_level = "warn";
  std::string backend;  // empty: the scenario's
  std::string engine;
  std::string image;
  std::string redis_image;
};

std::string self_executable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("fogm2m") : p.string();
}

// A `mode: sim` scenario: the same records, in simulated time (as `fogm2m sim`).
int run_simulated(const RunArgs& args, schema::Scenario scenario) {
  auto params = sim::resolve_sim_params("", scenario.sim_params(), args.scenario);
  if (!params) {
    std::cerr << "fogm2m run: " << params.error().message << "\n";
    return 2;
  }
  sim::SimulationOptions options;
  options.scenario_file = args.scenario;
  options.scenario = std::move(scenario);
  options.output_dir = args.out;
  options.params = *params;
  options.git_revision = git_revision();
  auto summary = sim::simulate_scenario(options);
  if (!summary) {
    std::cerr << "fogm2m run: " << summary.error().message << "\n";
    return 1;
  }
  std::cout << "fogm2m run: " << summary->runs << " simulated runs recorded";
  if (summary->failed) std::cout << ", " << summary->failed << " failed";
  std::cout << "; records in " << summary->output_dir << "/records.jsonl and records.csv\n";
  return summary->failed ? 1 : 0;
}

int run(const RunArgs& args) {
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  auto shard = scenario::parse_shard(args.shard);
  if (!shard) {
    std::cerr << "fogm2m run: --shard: " << shard.error().message << "\n";
    return 2;
  }
  auto loaded = scenario::load_scenario_file(args.scenario);
  if (!loaded) {
    std::cerr << "fogm2m run: " << loaded.error().message << "\n";
    return 2;
  }
  if (loaded->mode() == schema::MODE_SIM) return run_simulated(args, std::move(*loaded));
  // SIGINT/SIGTERM go to one thread that asks the runner to stop; a second
  // one ends the process at once (the next `fogm2m cluster down` cleans up).
  static std::atomic<bool> cancel{false};
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([signals] {
    int signo = 0;
    while (sigwait(&signals, &signo) == 0) {
      if (cancel.exchange(true)) {
        std::cerr << "\nfogm2m run: stopping now; `fogm2m cluster down` removes what is left\n";
        _exit(130);
      }
      std::cerr << "\nfogm2m run: stopping after tearing the cluster down (again to abort)\n";
    }
  }).detach();

  runner::RunnerOptions options;
  options.scenario_file = args.scenario;
  options.output_dir = args.out;
  options.resume = args.resume;
  options.keep_work = args.keep_work;
  options.shard = *shard;
  options.fogm2m_binary = self_executable();
  if (!args.backend.empty()) options.backend = testbed::parse_backend(args.backend).value();
  options.containers.engine = args.engine;
  options.containers.fogm2m_image = args.image;
  options.containers.redis_image = args.redis_image;
  options.git_revision = git_revision();
  options.cancel = &cancel;
  options.on_progress = [](const std::string& line) { std::cout << line << std::endl; };
  auto summary = runner::run_scenario(options);
  if (!summary) {
    std::cerr << "fogm2m run: " << summary.error().message << "\n";
    return 2;
  }
  std::cout << "fogm2m run: " << summary->completed << " of " << summary->planned
            << " runs recorded";
  if (summary->skipped) std::cout << " (" << summary->skipped << " already done)";
  if (summary->failed) std::cout << ", " << summary->failed << " failed";
  std::cout << "; records in " << summary->output_dir << "/records.jsonl and records.csv\n";
  if (summary->interrupted) {
    std::cout << "fogm2m run: interrupted; `--resume` continues where it stopped\n";
    return 130;
  }
  return summary->failed ? 1 : 0;
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand(
      "run", "Run a scenario's sweep on a real cluster of this machine (as root)");
  cmd->add_option("scenario", args->scenario, "Scenario file (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out, "Output directory (default: the scenario's output_dir)");
  cmd->add_flag("--resume", args->resume, "Skip runs already recorded in the output directory");
  cmd->add_flag("--keep-work", args->keep_work,
                "Keep <out>/work at the end: the last deployment's node, fleet and Redis logs");
  cmd->add_option("--shard", args->shard, "Run shard K of N (K/N): every N-th group of points")
      ->capture_default_str();
  cmd->add_option("--backend", args->backend,
                  "Deploy as namespaces (processes in the testbed's own network namespaces and "
                  "cgroups) or container (podman/docker containers; scripts/container-run.sh "
                  "makes the images); overrides the scenario's backend:")
      ->check(CLI::IsMember({"namespaces", "container"}));
  cmd->add_option("--container-engine", args->engine,
                  "podman or docker (default: $FOGM2M_CONTAINER_ENGINE, else podman when "
                  "installed, else docker)");
  cmd->add_option("--image", args->image,
                  "Container backend: the fogm2m image (default: $FOGM2M_IMAGE)");
  cmd->add_option("--redis-image", args->redis_image,
                  "Container backend: the Redis image (default: $REDIS_IMAGE)");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->callback([args] {
    if (int code = run(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
