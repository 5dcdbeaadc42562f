// The discrete-event kernel the simulator runs on (sim/simulator.h with its
// calendar queue), in the hold model (hold_model.h), with a small event list
// (the calendar's heap form) and a large one (its calendar form). Gate benchmarks
// (gate_iterations.h): the performance gate counts instructions per 100,000 events.
#include "bench/gate_iterations.h"
#include "bench/hold_model.h"
#include "sim/calendar_queue.h"

namespace fogm2m::sim {
namespace {

void BM_KernelHold(benchmark::State& state) {
  hold_model<CalendarQueue>(state);
}
BENCHMARK(BM_KernelHold)->Arg(1000)->Arg(100000)->Apply(bench::gate<2>);

}  // namespace
}  // namespace fogm2m::sim
