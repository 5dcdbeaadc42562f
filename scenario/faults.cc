#include "scenario/faults.h"

#include <algorithm>
#include <charconv>

namespace fogm2m::scenario {

const std::vector<std::string>& fault_kinds() {
  static const std::vector<std::string> kinds = {
      "kill_node",      "stop_node",      "restart_node", "restart_redis",
      "partition_node", "lb_remove_node", "lb_add_node",  "rebind_devices"};
  return kinds;
}

bool is_fault_kind(std::string_view kind) {
  const auto& kinds = fault_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string_view fault_fixed_target(std::string_view kind) {
  if (kind == "restart_redis") return "redis";
  if (kind == "rebind_devices") return "fleets";
  return {};
}

bool fault_targets_node(std::string_view kind) {
  return is_fault_kind(kind) && fault_fixed_target(kind).empty();
}

bool fault_has_duration(std::string_view kind) {
  return kind == "stop_node" || kind == "partition_node";
}

Result<int> fault_node_index(std::string_view target) {
  std::string_view digits = target;
  if (digits.starts_with("node-")) {
    digits.remove_prefix(5);
  } else if (digits.starts_with("node")) {
    digits.remove_prefix(4);
  }
  int index = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || index < 1)
    return make_error(ErrorKind::kInvalidArgument,
                      "target \"" + std::string(target) + "\" is not a node (node-1, node-2, ...)");
  return index;
}

}  // namespace fogm2m::scenario
