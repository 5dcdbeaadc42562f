// How the simulator classes the request kinds of a scenario's mix: what a
// request moves and costs at its owner depends on whether it reads (read,
// discover, observe, read_composite, ...), writes (write, write_attributes,
// create, delete, write_composite) or executes. Its owned CPU is the read's
// (node_cpu_request_owned_s) times the class's factor (sim_params.h).
#pragma once

#include <array>
#include <string_view>

#include "schema/scenario.pb.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

enum class RequestClass : uint8_t { kRead, kWrite, kExecute };

RequestClass request_class(std::string_view kind);
double owned_cost_factor(RequestClass c, const SimParams& params);

// The share of each class in the scenario's mix, by weight (a read only
// without a mix).
std::array<double, 3> class_shares(const schema::Scenario& scenario);
// The mix's mean owned-cost factor: what one request of the load costs its
// owner over a read.
double mean_owned_cost_factor(const schema::Scenario& scenario, const SimParams& params);

}  // namespace fogm2m::sim
