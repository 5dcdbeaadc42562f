// The simulator's hot paths.
//
// BM_Hold/<queue>/<pending>: the classic hold model on the kernel: with
// `pending` events in the list, each event run schedules one more at an
// exponential offset (mean: pending microseconds, so the list stays the same
// size). Items/s = kernel events per second, dispatch included. Binary heap
// (std::priority_queue), 4-ary heap, and the calendar queue the kernel uses.
// This VM, 2026-12-07: 1k / 100k / 1M pending: heap-4 18 / 9.6 / 4.3 M
// events/s, calendar 38 / 19 / 11 M events/s.
//
// BM_ClusterModel/<devices>/<nodes>/<rate>: one point of the cluster model
// (60 s window, 2 s warm-up, observe all), items/s = model events per
// second on one core.
#include <benchmark/benchmark.h>

#include <vector>

#include "bench/hold_model.h"
#include "sim/binary_heap_queue.h"
#include "sim/calendar_queue.h"
#include "sim/cluster_model.h"
#include "sim/quaternary_heap_queue.h"
#include "sim/random_stream.h"
#include "sim/simulator.h"

namespace fogm2m::sim {
namespace {

template <class Queue>
void BM_Hold(benchmark::State& state) {
  hold_model<Queue>(state);
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
BENCHMARK_TEMPLATE(BM_Hold, CalendarQueue)
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
