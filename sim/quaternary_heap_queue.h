// The kernel's event list: an implicit 4-ary min-heap of 32-byte events in
// one vector. Against a binary heap it halves the depth (log4 n levels) and
// the four children of a node share two cache lines, so a pop touches about
// half as many lines; sift-down moves a hole instead of swapping. Figures in
// bench/sim_bench.cc (hold model at 1k / 100k / 1M pending events).
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "sim/event.h"

namespace fogm2m::sim {

class QuaternaryHeapQueue {
 public:
  void reserve(size_t n) { heap_.reserve(n); }

  void push(const Event& e) {
    size_t i = heap_.size();
    heap_.push_back(e);
    while (i > 0) {
      const size_t parent = (i - 1) / 4;
      if (!runs_before(e, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = e;
  }

  // The earliest event. Precondition: !empty().
  const Event& top() const { return heap_.front(); }

  // Removes the earliest event. Precondition: !empty().
  void pop() {
    const Event last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();
    if (n == 0) return;
    size_t i = 0;
    for (;;) {
      const size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = first + 4 < n ? first + 4 : n;
      for (size_t c = first + 1; c < end; ++c)
        if (runs_before(heap_[c], heap_[best])) best = c;
      if (!runs_before(heap_[best], last)) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = last;
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

  // Every event, in no particular order; the queue is left empty.
  std::vector<Event> take_all() { return std::exchange(heap_, {}); }

 private:
  std::vector<Event> heap_;
};

}  // namespace fogm2m::sim
