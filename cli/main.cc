// fogm2m: a clustered LwM2M server for industrial IoT fog nodes, and the
// testbed that measures it. One executable, one subcommand per job.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "fogm2m: clustered LwM2M server, device-fleet emulator, scalability testbed and simulator"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("fogm2m ") + FOGM2M_VERSION);
  fogm2m::cli::add_version_command(app);
  fogm2m::cli::add_node_command(app);
  fogm2m::cli::add_gateway_command(app);
  fogm2m::cli::add_bootstrap_command(app);
  fogm2m::cli::add_cluster_command(app);
  fogm2m::cli::add_fleet_command(app);
  fogm2m::cli::add_run_command(app);
  fogm2m::cli::add_report_command(app);
  fogm2m::cli::add_sim_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
