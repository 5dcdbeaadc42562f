// The fault kinds of a scenario's `faults:` list (schema::Fault), and how a
// fault's target is read. Shared by the loader (which validates), the
// testbed runner (which injects) and the simulator (which models).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"
#include "schema/scenario.pb.h"

namespace fogm2m::scenario {

// Every kind, in the order the docs list them.
const std::vector<std::string>& fault_kinds();
bool is_fault_kind(std::string_view kind);
// The one target of a kind not aimed at a node ("redis" for
// restart_redis, "fleets" for rebind_devices; a fault may also leave it
// out); empty for the node kinds.
std::string_view fault_fixed_target(std::string_view kind);
// Kinds aimed at a node (those without a fixed target).
bool fault_targets_node(std::string_view kind);
// Kinds that last duration_s (stop_node, partition_node).
bool fault_has_duration(std::string_view kind);

// The 1-based node index of "node-<i>", "node<i>" or "<i>"; kInvalidArgument
// for anything else.
Result<int> fault_node_index(std::string_view target);

}  // namespace fogm2m::scenario
