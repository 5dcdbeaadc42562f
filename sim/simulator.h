// The discrete-event kernel: a simulated clock and an event list.
//
// A model schedules plain Event structs (event.h) and runs the kernel with a
// handler it passes by template, so dispatch costs a switch, not a
// std::function call or an allocation:
//
//   Simulator sim;
//   sim.schedule_at(5 * kMillisecond, kArrival, /*entity=*/3);
//   sim.run_until(kSecond, [&](const Event& e) { ... sim.schedule_in(...); });
//
// Guarantees: events run in (time, insertion order); the clock never goes
// backwards (an event scheduled in the past runs at the current time, after
// the events already due); with the same seeds and the same calls a run is
// identical bit for bit. Cancellation: schedule_cancellable() returns a
// handle that cancel() removes; events scheduled without it cost nothing
// extra. Not thread-safe: one Simulator per thread (sweeps run one per point).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_set>

#include "sim/calendar_queue.h"
#include "sim/event.h"
#include "sim/quaternary_heap_queue.h"
#include "sim/sim_time.h"

namespace fogm2m::sim {

// Names a cancellable scheduled event. Default-constructed: names nothing.
struct EventHandle {
  uint64_t seq = 0;  // 0: none (real sequence numbers start at 1)
  explicit operator bool() const { return seq != 0; }
};

template <class Queue>
class BasicSimulator {
 public:
  SimTime now() const { return now_; }
  size_t pending() const { return queue_.size() - cancelled_pending_; }
  uint64_t events_processed() const { return processed_; }
  Queue& queue() { return queue_; }

  // Schedules an event at absolute time `at` (clamped to now()).
  void schedule_at(SimTime at, uint16_t type, uint32_t entity, uint32_t data = 0,
                   uint32_t data2 = 0) {
    push(at, type, entity, data, data2, 0);
  }
  void schedule_in(SimTime delay, uint16_t type, uint32_t entity, uint32_t data = 0,
                   uint32_t data2 = 0) {
    push(now_ + delay, type, entity, data, data2, 0);
  }

  // As schedule_at, and the event can be cancelled through the handle.
  EventHandle schedule_cancellable(SimTime at, uint16_t type, uint32_t entity, uint32_t data = 0,
                                   uint32_t data2 = 0) {
    const uint64_t seq = push(at, type, entity, data, data2, kCancellable);
    live_cancellable_.insert(seq);
    return EventHandle{seq};
  }

  // Removes a scheduled event. True when it was pending; false when it has
  // run, was cancelled already, or the handle names nothing.
  bool cancel(EventHandle handle) {
    if (!handle || live_cancellable_.erase(handle.seq) == 0) return false;
    ++cancelled_pending_;  // still in the heap; skipped when it surfaces
    return true;
  }

  // Runs every event due at or before `end` in order, calling handler(event)
  // (which may schedule more); then the clock reads `end` (if later). Returns
  // the number of events run.
  template <class Handler>
  uint64_t run_until(SimTime end, Handler&& handler) {
    const uint64_t before = processed_;
    while (!queue_.empty() && queue_.top().time <= end) {
      const Event e = queue_.top();
      queue_.pop();
      if ((e.flags & kCancellable) && live_cancellable_.erase(e.seq) == 0) {
        --cancelled_pending_;
        continue;
      }
      now_ = e.time;
      ++processed_;
      handler(e);
    }
    if (end > now_) now_ = end;
    return processed_ - before;
  }

 private:
  static constexpr uint16_t kCancellable = 1;

  uint64_t push(SimTime at, uint16_t type, uint32_t entity, uint32_t data, uint32_t data2,
                uint16_t flags) {
    Event e;
    e.time = at < now_ ? now_ : at;
    e.seq = ++seq_;
    e.entity = entity;
    e.type = type;
    e.flags = flags;
    e.data = data;
    e.data2 = data2;
    queue_.push(e);
    return e.seq;
  }

  Queue queue_;
  SimTime now_ = 0;
  uint64_t seq_ = 0;
  uint64_t processed_ = 0;
  size_t cancelled_pending_ = 0;
  std::unordered_set<uint64_t> live_cancellable_;
};

// The calendar queue: a heap below a few thousand pending events, O(1)
// buckets above (bench/sim_bench.cc: BM_Hold, BM_ClusterModel).
using Simulator = BasicSimulator<CalendarQueue>;

}  // namespace fogm2m::sim
