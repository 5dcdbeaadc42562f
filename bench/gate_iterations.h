// What the performance gate needs from a microbenchmark: a fixed iteration
// count, so that running it under valgrind (callgrind) counts the same
// instructions on every machine and every run.
//
//   BENCHMARK(BM_CoapDecode)->Apply(fogm2m::bench::gate<20000>);
//
// Without FOGM2M_GATE_SCALE the benchmark runs as Google Benchmark decides
// (timed, for humans). With FOGM2M_GATE_SCALE=k it runs exactly k * N
// iterations; the gate (gate/fogm2m_gate/instructions.py) runs each one at
// k=1 and k=2 and takes the difference, which leaves out start-up and
// set-up: instructions per iteration, to the instruction. Choose N so one
// run takes about 10 ms natively (a second or two under callgrind).
//
// Every benchmark of a gate binary (the list is in instructions.py) must be
// registered through gate<N>: the gate refuses one whose iteration count did
// not follow the scale.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>

namespace fogm2m::bench {

inline int64_t gate_scale() {
  const char* scale = std::getenv("FOGM2M_GATE_SCALE");
  if (!scale) return 0;
  const long k = std::strtol(scale, nullptr, 10);
  return k > 0 ? k : 0;
}

template <int64_t N>
void gate(benchmark::internal::Benchmark* b) {
  static_assert(N > 0);
  if (const int64_t k = gate_scale(); k > 0) b->Iterations(k * N);
}

}  // namespace fogm2m::bench
