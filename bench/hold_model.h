// The classic hold model on the simulator's kernel: with `pending` events
// in the list (state.range(0)), each event run schedules one more at an
// exponential offset (mean: pending microseconds, so the list stays the same
// size). One iteration runs 100,000 events; items/s = kernel events per
// second, dispatch included. Used by sim_bench (binary against 4-ary heap)
// and des_kernel_bench (the gate's count of the kernel's instructions).
#pragma once

#include <benchmark/benchmark.h>

#include <vector>

#include "sim/random_stream.h"
#include "sim/simulator.h"

namespace fogm2m::sim {

template <class Queue>
void hold_model(benchmark::State& state) {
  const auto pending = static_cast<size_t>(state.range(0));
  // Pre-drawn offsets so the RNG is not what we measure.
  std::vector<SimTime> offsets(1 << 16);
  RandomStream rng(1, 1);
  for (auto& o : offsets)
    o = 1 + from_seconds(rng.exponential(static_cast<double>(pending) * 1e-6));
  BasicSimulator<Queue> sim;
  size_t k = 0;
  for (size_t i = 0; i < pending; ++i)
    sim.schedule_at(offsets[k++ & 0xffff], 0, static_cast<uint32_t>(i));
  constexpr int64_t kBatch = 100000;
  for (auto _ : state) {
    const uint64_t before = sim.events_processed();
    SimTime end = sim.now();
    // Run until kBatch events happened.
    while (sim.events_processed() - before < static_cast<uint64_t>(kBatch)) {
      end += static_cast<SimTime>(pending) * kMicrosecond / 10 + 1;
      sim.run_until(end,
                    [&](const Event& e) { sim.schedule_in(offsets[k++ & 0xffff], 0, e.entity); });
    }
    state.SetItemsProcessed(state.items_processed() +
                            static_cast<int64_t>(sim.events_processed() - before));
  }
  state.counters["pending"] = static_cast<double>(sim.pending());
}
}  // namespace fogm2m::sim
