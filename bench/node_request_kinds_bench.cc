// The node's own CPU per request, kind by kind: the same whole node as
// node_path_bench (bench/node_under_test.h), asked to read, write and
// execute on the emulated accelerometer's device. The simulator's
// per-kind cost factors (sim/sim_params.h, node_cpu_write_factor and
// node_cpu_execute_factor) are these times divided by the read's:
//
//   build/bench/node_request_kinds_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true     (one command line)
//
// Not a gate benchmark: it prints times, which the gate never compares.
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>
#include <string>

#include "bench/node_under_test.h"

namespace fogm2m::server {
namespace {

using bench_support::fail;
using bench_support::NodeUnderTest;

// A request of `kind` through the node, with a new ticket each time.
void run(benchmark::State& state, std::string message, const char* what) {
  NodeUnderTest t;
  const size_t tail = NodeUnderTest::ticket_tail(message);
  uint64_t n = 0;
  const size_t answers = t.request(message);
  if (answers == 0) fail(std::string("a ") + what + " got no answer");
  for (auto _ : state) {
    NodeUnderTest::next_ticket(message, tail, ++n);
    if (t.request(message) != answers) fail(std::string("a ") + what + " got another answer");
  }
}

void BM_Read(benchmark::State& state) {
  NodeUnderTest t;
  run(state, t.request_message(bus::RequestKind::kRead, lwm2m::Path(3313, 0, 5702)), "read");
}
BENCHMARK(BM_Read);

// Write (replace) of the device's UTC offset, a string, in TLV.
void BM_Write(benchmark::State& state) {
  NodeUnderTest t;
  bus::Request r = t.request(bus::RequestKind::kWrite, lwm2m::Path(3, 0, 14));
  r.node = boost::json::parse(R"({"id":14,"type":"STRING","value":"+02:00"})");
  run(state, bus::format_request(r), "write");
}
BENCHMARK(BM_Write);

void BM_Execute(benchmark::State& state) {
  NodeUnderTest t;
  bus::Request r = t.request(bus::RequestKind::kExecute, lwm2m::Path(3, 0, 4));
  r.content_format.reset();
  run(state, bus::format_request(r), "execute");
}
BENCHMARK(BM_Execute);

}  // namespace
}  // namespace fogm2m::server
