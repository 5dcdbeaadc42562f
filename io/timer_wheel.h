// A hierarchical timing wheel: many one-shot timers (CON retransmissions,
// exchange lifetimes, request timeouts) behind one OS timer.
//
// Deadlines are kept in ticks of a fixed duration (1 ms by default) counted
// from an origin. Eleven levels of 64 slots cover every 64-bit tick value: a
// timer sits in the level of the highest 6-bit digit in which its tick differs
// from the wheel's current tick, and drops one level each time the wheel
// reaches the start of its slot ("cascading"). schedule() and cancel() are
// O(1); run_until() is O(timers fired + timers cascaded + levels), whatever the
// number of pending timers, and skips empty stretches of time without walking
// them. Timers never fire early and at most one tick late (relative to the
// time passed to run_until()).
//
// The wheel owns no OS timer and reads no clock: its owner passes the current
// time to run_until() and asks next_wakeup() when to call it again, so tests
// drive it with a fake time. Not thread-safe; callbacks run inside
// run_until(), on the caller's thread.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <vector>

namespace fogm2m::io {

class TimerWheel {
 public:
  using Clock = std::chrono::steady_clock;
  // Callbacks that capture at most two pointers (or a pointer and an integer)
  // are stored without a heap allocation by std::function.
  using Callback = std::function<void()>;

  // Identifies one scheduled timer. A default-constructed id is valid to pass
  // to cancel() and pending() (it names no timer). Ids are not reused while
  // their timer is pending; a stale id never cancels another timer.
  struct TimerId {
    uint32_t index = std::numeric_limits<uint32_t>::max();
    uint32_t generation = 0;
    bool valid() const { return index != std::numeric_limits<uint32_t>::max(); }
  };

  // `origin`: time of tick 0 (deadlines before it fire at the first
  // run_until()). `tick`: the resolution, > 0.
  explicit TimerWheel(Clock::time_point origin,
                      Clock::duration tick = std::chrono::milliseconds(1));
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // Schedules `callback` to run in the first run_until(now) with
  // now >= deadline (rounded up to a tick). A deadline in the past fires at
  // the next tick. May be called from inside a callback.
  TimerId schedule(Clock::time_point deadline, Callback callback);

  // Removes a pending timer without running it. Returns false when `id` is
  // not pending (already fired, cancelled, or default). May be called from
  // inside a callback, also for the timer that is running (returns false).
  bool cancel(TimerId id);

  bool pending(TimerId id) const;

  // Runs every timer due at `now`, in deadline order (ties in scheduling
  // order), including timers that callbacks schedule for a time <= now.
  // Returns the number of callbacks run. Calls from inside a callback do
  // nothing and return 0.
  size_t run_until(Clock::time_point now);

  // A time at or before the earliest pending deadline such that calling
  // run_until() then makes progress (fires or moves timers towards firing);
  // nullopt when no timer is pending. Exact for timers due within the
  // current 64-tick block, a lower bound for later ones.
  std::optional<Clock::time_point> next_wakeup() const;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Drops every pending timer without running it (their callbacks are
  // destroyed). Not from inside a callback.
  void clear();

 private:
  static constexpr int kBits = 6;
  static constexpr int kSlots = 1 << kBits;
  static constexpr int kLevels = 11;  // 11 * 6 >= 64 bits of tick
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

  struct Node {
    uint64_t tick = 0;
    uint32_t prev = kNone;
    uint32_t next = kNone;  // also links the free list
    uint32_t generation = 0;
    uint16_t bucket = 0;
    bool in_use = false;
    Callback callback;
  };

  uint64_t to_tick(Clock::time_point t) const;
  void place(uint32_t index);
  void link(uint32_t index, uint16_t bucket);
  void unlink(uint32_t index);
  void release(uint32_t index);
  void cascade(int level);
  // The smallest tick >= `from` at which a timer fires or a slot cascades;
  // max() when nothing is pending.
  uint64_t next_event_tick(uint64_t from) const;

  Clock::time_point origin_;
  Clock::duration tick_;
  uint64_t current_ = 0;  // next tick to process; every timer < current_ has fired
  size_t size_ = 0;
  bool running_ = false;
  std::vector<Node> nodes_;
  uint32_t free_ = kNone;
  std::array<uint32_t, kLevels * kSlots> heads_;
  std::array<uint32_t, kLevels * kSlots> tails_;
  std::array<uint64_t, kLevels> occupied_{};  // bit s of level l: slot s non-empty
};

}  // namespace fogm2m::io
