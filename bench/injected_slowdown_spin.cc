// The performance gate's known slowdown (server/injected_slowdown.h): linked
// only into node_path_bench_slowed and fogm2m_slowed, never into a shipped
// binary. Every message the node handles spins for
// FOGM2M_INJECTED_SLOWDOWN_PERCENT percent (0 when unset) of the
// instructions the node spends on a notification (BM_NodeNotification in
// node_path_bench), so "+10%" means +10% on that path, exactly, under
// callgrind; what it does to CPU time and latency the gate measures.
#include <cstdint>
#include <cstdlib>

#include "server/injected_slowdown.h"

namespace fogm2m::server {

namespace {

// BM_NodeNotification's instructions per iteration when this was last set
// (bench/baseline/baseline.json holds today's figure).
constexpr int64_t kNotificationInstructions = 25700;
// One turn of the loop below: add, compare, branch.
constexpr int64_t kInstructionsPerTurn = 3;

int64_t turns_per_message() {
  const char* percent = std::getenv("FOGM2M_INJECTED_SLOWDOWN_PERCENT");
  const double p = percent ? std::strtod(percent, nullptr) : 0.0;
  if (!(p > 0)) return 0;
  return static_cast<int64_t>(p / 100.0 * kNotificationInstructions / kInstructionsPerTurn);
}

}  // namespace

void injected_slowdown() {
  static const int64_t turns = turns_per_message();
  for (int64_t i = 0; i < turns; ++i) asm volatile("" : "+r"(i));
}

}  // namespace fogm2m::server
