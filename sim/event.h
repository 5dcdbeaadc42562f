// One scheduled event of the discrete-event kernel: a small plain struct (32
// bytes, no heap allocation, no std::function) that a model dispatches on by
// `type`. Order: earlier `time` first; equal times in insertion order (`seq`),
// so ties break deterministically.
#pragma once

#include <cstdint>

#include "sim/sim_time.h"

namespace fogm2m::sim {

struct Event {
  SimTime time = 0;
  uint64_t seq = 0;     // insertion sequence number, unique per simulator
  uint32_t entity = 0;  // which device / node / ... the event is about
  uint16_t type = 0;    // model-defined event kind
  uint16_t flags = 0;   // kernel-private (cancellable)
  uint32_t data = 0;    // model-defined payload (a request id, a job kind ...)
  uint32_t data2 = 0;
};
static_assert(sizeof(Event) == 32);

// True when `a` runs before `b`.
inline bool runs_before(const Event& a, const Event& b) {
  return a.time < b.time || (a.time == b.time && a.seq < b.seq);
}

}  // namespace fogm2m::sim
