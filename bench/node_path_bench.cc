// The node's own work per message, without sockets or Redis: a whole
// `Node` on in-memory stores and the in-memory bus, its devices played by a
// transport that answers at once. What is left is exactly the node's code
// on the two paths a message takes:
//
// BM_NodeRequest: a read request arrives on the bus -> routed to the
//   device's owner (this node) -> CoAP GET to the device -> its 2.05 ->
//   the reply published on the bus.
// BM_NodeNotification: an Observe notification of /3313/0 arrives from the
//   device -> matched to its observation -> published on the bus.
//
// Gate benchmarks (gate_iterations.h): the performance gate counts their
// instructions per iteration, and links this file once more with
// injected_slowdown.cc's spinning twin to prove it sees +5%.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/gate_iterations.h"
#include "bench/node_under_test.h"

namespace fogm2m::server {
namespace {

using bench::gate;
namespace opt = lwm2m::coap_option;

using bench_support::fail;
using bench_support::NodeUnderTest;

void BM_NodeRequest(benchmark::State& state) {
  NodeUnderTest t;
  std::string read = t.request_message(bus::RequestKind::kRead, lwm2m::Path(3313, 0, 5702));
  const size_t tail = NodeUnderTest::ticket_tail(read);
  uint64_t n = 0;
  const size_t answers = t.request(read);
  if (answers == 0) fail("a read got no answer");
  for (auto _ : state) {
    NodeUnderTest::next_ticket(read, tail, ++n);
    if (t.request(read) != answers) fail("a read got another answer than the first");
  }
  state.counters["published_per_request"] = static_cast<double>(answers);
}
BENCHMARK(BM_NodeRequest)->Apply(gate<2000>);

void BM_NodeNotification(benchmark::State& state) {
  NodeUnderTest t;
  if (t.request(t.request_message(bus::RequestKind::kObserve, lwm2m::Path(3313, 0))) == 0 ||
      t.devices.observation_token.empty())
    fail("the observe got no answer");
  lwm2m::CoapMessage n;
  n.type = lwm2m::CoapType::kNon;
  n.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
  n.token = t.devices.observation_token;
  n.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(lwm2m::ContentFormat::kTlv));
  n.payload = t.devices.tlv_at("/3313/0");
  uint32_t sequence = 2;
  for (auto _ : state) {
    n.remove_option(opt::kObserve);
    n.add_uint_option(opt::kObserve, 0x10000 + sequence++);  // three bytes, every time
    const size_t before = t.published;
    if (!t.devices.notify(t.device, n)) fail("the notification was reset");
    t.settle();
    if (t.published != before + 1) fail("the notification was not published once");
  }
}
BENCHMARK(BM_NodeNotification)->Apply(gate<5000>);

}  // namespace
}  // namespace fogm2m::server
