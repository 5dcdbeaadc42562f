// Subcommands of the fogm2m executable. Each registers itself on the CLI11
// app and, when selected, turns its flags into the options of a library
// call (the libraries do the work).
#pragma once

#include <CLI/CLI.hpp>

namespace fogm2m::cli {

// `fogm2m version`: the program's version, git revision and the versions of
// the libraries it was built with.
void add_version_command(CLI::App& app);

// `fogm2m node`: one server node of a cluster.
void add_node_command(CLI::App& app);

// `fogm2m gateway`: the REST/WebSocket gateway and web UI in front of the bus.
void add_gateway_command(CLI::App& app);

// `fogm2m bootstrap`: a minimal LwM2M bootstrap server.
void add_bootstrap_command(CLI::App& app);

// `fogm2m fleet`: N emulated IPSO 3313 devices.
void add_fleet_command(CLI::App& app);

// `fogm2m run`: a scenario's sweep on a real cluster of this machine.
void add_run_command(CLI::App& app);

// `fogm2m report`: the HTML report of a results directory (runs
// analysis/report.py).
void add_report_command(CLI::App& app);

// `fogm2m cluster up|down|status`: an emulated cluster (Redis, nodes under
// cgroup quotas, nftables load balancer, fleets) in network namespaces.
void add_cluster_command(CLI::App& app);

// `fogm2m sim`: simulate a scenario; `sim calibrate` / `sim validate`
// against testbed records.
void add_sim_command(CLI::App& app);

}  // namespace fogm2m::cli
