// The simulator's hot paths.
//
// BM_Hold/<queue>/<pending>: the classic hold model on the kernel: with
// `pending` events in the list, each event run schedules one more at an
// exponential offset (mean: pending microseconds, so the list stays the same
// size). Items/s = kernel events per second, dispatch included. Binary heap
// (std::priority_queue) against the 4-ary heap the kernel uses.
//
// BM_ClusterModel/<devices>/<nodes>/<rate>: one point of the cluster model
// (60 s window, 2 s warm-up, observe all), items/s = model events per
// second on one core.
#include <benchmark/benchmark.h>

#include <vector>

#include "sim/binary_heap_queue.h"
#include "sim/cluster_model.h"
#include "sim/quaternary_heap_queue.h"
#include "sim/random_stream.h"
#include "sim/simulator.h"

namespace fogm2m::sim {
namespace {

template <class Queue>
void BM_Hold(benchmark::State& state) {
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
BENCHMARK_TEMPLATE(BM_Hold, BinaryHeapQueue)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Hold, QuaternaryHeapQueue)
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

void BM_ClusterModel(benchmark::State& state) {
  schema::Scenario s;
  s.set_name("bench");
  s.set_warmup_s(2);
  s.set_window_s(60);
  s.set_observe_all(true);
  s.set_observe_path("/3313/0");
  s.set_seed(1);
  schema::Point p;
  p.set_devices(static_cast<uint32_t>(state.range(0)));
  p.set_nodes(static_cast<uint32_t>(state.range(1)));
  p.set_request_rate(static_cast<double>(state.range(2)));
  p.set_cpu_quota_us(25000);
  p.set_cpu_period_us(100000);
  p.set_fleets(1);
  p.set_sampling_interval_ms(50);
  p.set_lifetime_s(300);
  uint64_t events = 0;
  for (auto _ : state) {
    auto r = simulate_point(s, p, 0, 0, SimParams{});
    if (!r) {
      state.SkipWithError(r.error().message.c_str());
      return;
    }
    events += r->events;
  }
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_ClusterModel)
    ->Args({50, 1, 100})
    ->Args({225, 2, 300})
    ->Args({225, 5, 300})
    ->Args({10000, 20, 1000})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fogm2m::sim
