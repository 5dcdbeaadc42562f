// The kernel's event list for large models: a calendar of time buckets with
// an unsorted overflow, after the ladder queue (Tang, Goh, Thng 2005), so
// that push and pop cost O(1) amortised whatever the number of pending
// events, where a heap pays log n cache misses.
//
//   current   the bucket being run, sorted once when it is reached, read in
//             order; events scheduled into it meanwhile go to a small 4-ary
//             heap (`near_`) and the earlier of the two runs first
//   buckets   the rest of the calendar, each an unsorted vector covering
//             2^width_shift_ of time
//   top       events beyond the calendar's end, appended unsorted; when the
//             calendar is used up they are spread over a new calendar sized
//             to hold a few (small) to a few hundred (large) events per bucket
//
// Small lists stay a plain 4-ary heap (`near_` alone), which is faster below
// a few thousand events; past kCalendarFrom the events move to a calendar,
// and a calendar laid out for fewer than kHeapBelow goes back to the heap.
//
// Order is exactly (time, seq), as runs_before() says and the heap gives:
// buckets partition time, and within a bucket the sort and the heap order
// by (time, seq). A calendar whose events all share one time degrades to one
// sorted bucket plus the heap: correct, and no slower than the heap.
// Figures in bench/sim_bench.cc (BM_Hold at 1k / 100k / 1M pending).
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "sim/event.h"
#include "sim/quaternary_heap_queue.h"

namespace fogm2m::sim {

class CalendarQueue {
 public:
  void reserve(size_t n) { top_.reserve(n); }

  void push(const Event& e) {
    if (heap_mode_) {
      near_.push(e);
      if (near_.size() > kCalendarFrom) [[unlikely]]
        to_calendar();
      return;
    }
    ++size_;
    if (e.time < bucket_end_) {
      near_.push(e);
    } else if (e.time < calendar_end_) {
      buckets_[static_cast<size_t>((e.time - calendar_start_) >> width_shift_)].push_back(e);
    } else {
      top_min_ = std::min(top_min_, e.time);
      top_max_ = std::max(top_max_, e.time);
      top_.push_back(e);
    }
    if (size_ == 1) refill();
  }

  // The earliest event. Precondition: !empty().
  const Event& top() const {
    if (heap_mode_) return near_.top();
    if (position_ < current_.size() &&
        (near_.empty() || runs_before(current_[position_], near_.top())))
      return current_[position_];
    return near_.top();
  }

  // Removes the earliest event. Precondition: !empty().
  void pop() {
    if (heap_mode_) {
      near_.pop();
      return;
    }
    if (position_ < current_.size() &&
        (near_.empty() || runs_before(current_[position_], near_.top())))
      ++position_;
    else
      near_.pop();
    --size_;
    refill();
  }

  bool empty() const { return heap_mode_ ? near_.empty() : size_ == 0; }
  size_t size() const { return heap_mode_ ? near_.size() : size_; }

 private:
  static constexpr size_t kCalendarFrom = 8192;
  static constexpr size_t kHeapBelow = 2048;
  static constexpr SimTime kNever = std::numeric_limits<SimTime>::max();
  static constexpr SimTime kDawn = std::numeric_limits<SimTime>::min();

  // Events per bucket of a new calendar: few for small calendars (short
  // sorts), more for large ones (fewer buckets: their tails stay in cache).
  static size_t per_bucket(size_t n) { return std::clamp<size_t>(n / 4096, 4, 256); }

  // Makes the earliest pending event reachable from top(): moves on to the
  // next non-empty bucket, or lays out a new calendar from the overflow.
  [[gnu::noinline]] void refill() {
    while (size_ > 0 && position_ >= current_.size() && near_.empty()) {
      current_.clear();
      position_ = 0;
      if (next_bucket_ < buckets_in_use_) {
        const size_t b = next_bucket_++;
        bucket_end_ = calendar_start_ + (static_cast<SimTime>(b + 1) << width_shift_);
        if (buckets_[b].empty()) continue;
        current_.swap(buckets_[b]);
        std::sort(current_.begin(), current_.end(),
                  [](const Event& a, const Event& x) { return runs_before(a, x); });
      } else {
        new_calendar();
      }
    }
  }

  // The heap grew large: its events become the overflow of a first calendar.
  [[gnu::noinline]] void to_calendar() {
    size_ = near_.size();
    top_ = near_.take_all();
    for (const Event& e : top_) {
      top_min_ = std::min(top_min_, e.time);
      top_max_ = std::max(top_max_, e.time);
    }
    heap_mode_ = false;
    bucket_end_ = calendar_end_ = kDawn;
    next_bucket_ = buckets_in_use_ = 0;
    refill();
  }

  // Spreads the overflow over a fresh calendar covering [min, max] of its
  // times, or back into the heap when few are left. Every bucket is empty
  // here (all were consumed).
  void new_calendar() {
    const size_t n = top_.size();
    if (n < kHeapBelow) {
      heap_mode_ = true;
      bucket_end_ = calendar_end_ = kNever;
      next_bucket_ = buckets_in_use_ = 0;
      for (const Event& e : top_) near_.push(e);
      top_.clear();
      top_min_ = kNever;
      top_max_ = kDawn;
      return;
    }
    const size_t buckets = std::max<size_t>(1, n / per_bucket(n));
    // The width is a power of two (a shift finds the bucket), at least
    // span / buckets, so the calendar covers the whole span.
    const SimTime span = top_max_ - top_min_;
    width_shift_ = 0;
    while ((static_cast<SimTime>(buckets) << width_shift_) <= span) ++width_shift_;
    calendar_start_ = top_min_;
    calendar_end_ = calendar_start_ + (static_cast<SimTime>(buckets) << width_shift_);
    bucket_end_ = calendar_start_;
    next_bucket_ = 0;
    if (buckets_.size() < buckets) buckets_.resize(buckets);
    buckets_in_use_ = buckets;
    // Spread the overflow; the calendar covers all of it (width * buckets > span).
    for (const Event& e : top_)
      buckets_[static_cast<size_t>((e.time - calendar_start_) >> width_shift_)].push_back(e);
    top_.clear();
    top_min_ = kNever;
    top_max_ = kDawn;
  }

  size_t size_ = 0;             // in calendar mode (the heap counts its own)
  std::vector<Event> current_;  // the running bucket, sorted
  size_t position_ = 0;         // next event of current_
  QuaternaryHeapQueue near_;    // scheduled into the running bucket after it was sorted
  std::vector<std::vector<Event>> buckets_;
  size_t next_bucket_ = 0;
  size_t buckets_in_use_ = 0;  // buckets_ beyond these belong to no calendar (and are empty)
  int width_shift_ = 0;        // a bucket covers 2^width_shift_ of time
  SimTime calendar_start_ = 0;
  bool heap_mode_ = true;        // everything in near_ (small lists)
  SimTime bucket_end_ = kNever;  // end of the running bucket
  SimTime calendar_end_ = kNever;
  std::vector<Event> top_;  // beyond the calendar, unsorted
  SimTime top_min_ = kNever;
  SimTime top_max_ = kDawn;
};

}  // namespace fogm2m::sim
