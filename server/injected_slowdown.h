// A seam for proving the performance gate works: the node calls
// injected_slowdown() once for every message that reaches it (a device's
// request or notification, a request on the bus).
//
// In the shipped node it does nothing: the definition here is weak and
// empty. Only the gate's power test links a strong definition beside it
// (bench/injected_slowdown_spin.cc, into node_path_bench_slowed and
// fogm2m_slowed, never into `fogm2m`), which spins for a known share of a
// message's cost. The call itself costs a few instructions.
#pragma once

namespace fogm2m::server {

void injected_slowdown();

}  // namespace fogm2m::server
