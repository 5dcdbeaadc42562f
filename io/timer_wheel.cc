#include "io/timer_wheel.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace fogm2m::io {

TimerWheel::TimerWheel(Clock::time_point origin, Clock::duration tick)
    : origin_(origin), tick_(tick) {
  assert(tick_.count() > 0);
  heads_.fill(kNone);
  tails_.fill(kNone);
}

uint64_t TimerWheel::to_tick(Clock::time_point t) const {
  if (t <= origin_) return 0;
  const auto d = static_cast<uint64_t>((t - origin_).count());
  const auto tc = static_cast<uint64_t>(tick_.count());
  return d / tc + (d % tc != 0 ? 1 : 0);  // round up: never fire early
}

// ---------------------------------------------------------------------------
// Slot lists: doubly linked through Node::prev/next, heads_/tails_ per bucket
// (level * 64 + slot), occupied_ mirrors which buckets are non-empty.

void TimerWheel::link(uint32_t index, uint16_t bucket) {
  Node& n = nodes_[index];
  n.bucket = bucket;
  n.next = kNone;
  n.prev = tails_[bucket];
  if (n.prev == kNone) {
    heads_[bucket] = index;
  } else {
    nodes_[n.prev].next = index;
  }
  tails_[bucket] = index;
  occupied_[bucket / kSlots] |= uint64_t{1} << (bucket % kSlots);
}

void TimerWheel::unlink(uint32_t index) {
  Node& n = nodes_[index];
  if (n.prev == kNone) {
    heads_[n.bucket] = n.next;
  } else {
    nodes_[n.prev].next = n.next;
  }
  if (n.next == kNone) {
    tails_[n.bucket] = n.prev;
  } else {
    nodes_[n.next].prev = n.prev;
  }
  if (heads_[n.bucket] == kNone)
    occupied_[n.bucket / kSlots] &= ~(uint64_t{1} << (n.bucket % kSlots));
  n.prev = n.next = kNone;
}

// Puts a linked-out node into the bucket its tick belongs to relative to
// current_: the level of the highest 6-bit digit where they differ. The
// node's slot index at that level is then greater than current_'s digit
// (equal only at level 0), so no slot ever holds timers of a later rotation.
void TimerWheel::place(uint32_t index) {
  const uint64_t t = std::max(nodes_[index].tick, current_);
  const uint64_t x = t ^ current_;
  const int level = x == 0 ? 0 : (63 - std::countl_zero(x)) / kBits;
  const auto slot = static_cast<int>((t >> (level * kBits)) & (kSlots - 1));
  link(index, static_cast<uint16_t>(level * kSlots + slot));
}

void TimerWheel::release(uint32_t index) {
  Node& n = nodes_[index];
  n.in_use = false;
  ++n.generation;
  n.callback = nullptr;
  n.next = free_;
  free_ = index;
  --size_;
}

// Moves every timer of the level's slot that starts at current_ down.
void TimerWheel::cascade(int level) {
  const auto slot = static_cast<int>((current_ >> (level * kBits)) & (kSlots - 1));
  const auto bucket = static_cast<uint16_t>(level * kSlots + slot);
  uint32_t index = heads_[bucket];
  heads_[bucket] = tails_[bucket] = kNone;
  occupied_[level] &= ~(uint64_t{1} << slot);
  while (index != kNone) {
    const uint32_t next = nodes_[index].next;
    place(index);
    index = next;
  }
}

uint64_t TimerWheel::next_event_tick(uint64_t from) const {
  uint64_t best = std::numeric_limits<uint64_t>::max();
  for (int level = 0; level < kLevels; ++level) {
    if (occupied_[level] == 0) continue;
    const int shift = level * kBits;
    const auto digit = static_cast<int>((from >> shift) & (kSlots - 1));
    const uint64_t ahead = occupied_[level] & (~uint64_t{0} << digit);
    if (ahead == 0) continue;
    const int slot = std::countr_zero(ahead);
    const int upper = shift + kBits;
    const uint64_t base = upper >= 64 ? 0 : (from >> upper) << upper;
    const uint64_t start = std::max(from, base | (static_cast<uint64_t>(slot) << shift));
    best = std::min(best, start);
  }
  return best;
}

// ---------------------------------------------------------------------------
// Public operations.

TimerWheel::TimerId TimerWheel::schedule(Clock::time_point deadline, Callback callback) {
  uint32_t index;
  if (free_ != kNone) {
    index = free_;
    free_ = nodes_[index].next;
  } else {
    index = static_cast<uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  Node& n = nodes_[index];
  n.tick = to_tick(deadline);
  n.in_use = true;
  n.callback = std::move(callback);
  ++size_;
  place(index);
  return TimerId{index, n.generation};
}

bool TimerWheel::pending(TimerId id) const {
  return id.index < nodes_.size() && nodes_[id.index].in_use &&
         nodes_[id.index].generation == id.generation;
}

bool TimerWheel::cancel(TimerId id) {
  if (!pending(id)) return false;
  unlink(id.index);
  release(id.index);
  return true;
}

size_t TimerWheel::run_until(Clock::time_point now) {
  if (running_ || now < origin_) return 0;
  running_ = true;
  const uint64_t target =
      static_cast<uint64_t>((now - origin_).count()) / static_cast<uint64_t>(tick_.count());
  size_t fired = 0;
  while (current_ <= target) {
    if (size_ > 0) {
      // Higher levels first: a timer cascading from level 2 may land in the
      // level-1 slot that also starts now.
      const int top =
          current_ == 0 ? kLevels - 1 : std::min(kLevels - 1, std::countr_zero(current_) / kBits);
      for (int level = top; level >= 1; --level) {
        const auto slot = (current_ >> (level * kBits)) & (kSlots - 1);
        if (occupied_[level] & (uint64_t{1} << slot)) cascade(level);
      }
      // Everything in this level-0 slot is due exactly now. Timers that
      // callbacks schedule for <= now join the same list and run too.
      const auto bucket = static_cast<uint16_t>(current_ & (kSlots - 1));
      while (heads_[bucket] != kNone) {
        const uint32_t index = heads_[bucket];
        unlink(index);
        Callback callback = std::move(nodes_[index].callback);
        release(index);
        ++fired;
        callback();
      }
    }
    if (current_ == target) {
      ++current_;
      break;
    }
    current_ = std::min(next_event_tick(current_ + 1), target + 1);
  }
  running_ = false;
  return fired;
}

std::optional<TimerWheel::Clock::time_point> TimerWheel::next_wakeup() const {
  if (size_ == 0) return std::nullopt;
  const uint64_t tick = next_event_tick(current_);
  const auto tc = static_cast<uint64_t>(tick_.count());
  const auto room = static_cast<uint64_t>((Clock::time_point::max() - origin_).count()) / tc;
  if (tick >= room) return Clock::time_point::max();
  return origin_ + Clock::duration(static_cast<Clock::duration::rep>(tick * tc));
}

void TimerWheel::clear() {
  assert(!running_);
  // Release node by node so generations move on and old ids stay stale.
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].in_use) release(i);
  }
  heads_.fill(kNone);
  tails_.fill(kNone);
  occupied_.fill(0);
  size_ = 0;
}

}  // namespace fogm2m::io
