#include "sim/request_kinds.h"

namespace fogm2m::sim {

RequestClass request_class(std::string_view kind) {
  if (kind == "write" || kind == "write_attributes" || kind == "create" || kind == "delete" ||
      kind == "write_composite")
    return RequestClass::kWrite;
  if (kind == "execute") return RequestClass::kExecute;
  return RequestClass::kRead;
}

double owned_cost_factor(RequestClass c, const SimParams& params) {
  switch (c) {
    case RequestClass::kWrite:
      return params.node_cpu_write_factor;
    case RequestClass::kExecute:
      return params.node_cpu_execute_factor;
    case RequestClass::kRead:
      break;
  }
  return 1.0;
}

std::array<double, 3> class_shares(const schema::Scenario& scenario) {
  std::array<double, 3> shares{};
  double total = 0;
  for (const auto& m : scenario.mix()) {
    if (!(m.weight() > 0)) continue;
    shares[static_cast<size_t>(request_class(m.kind()))] += m.weight();
    total += m.weight();
  }
  if (total <= 0) return {1.0, 0.0, 0.0};
  for (double& s : shares) s /= total;
  return shares;
}

double mean_owned_cost_factor(const schema::Scenario& scenario, const SimParams& params) {
  const auto shares = class_shares(scenario);
  double mean = 0;
  for (size_t c = 0; c < shares.size(); ++c)
    mean += shares[c] * owned_cost_factor(static_cast<RequestClass>(c), params);
  return mean;
}

}  // namespace fogm2m::sim
