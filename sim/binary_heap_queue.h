// The baseline event list: std::priority_queue (a binary heap). Kept to
// measure the chosen queue against (bench/sim_bench.cc); the kernel uses
// QuaternaryHeapQueue (quaternary_heap_queue.h).
#pragma once

#include <cstddef>
#include <queue>
#include <vector>

#include "sim/event.h"

namespace fogm2m::sim {

class BinaryHeapQueue {
 public:
  void push(const Event& e) { heap_.push(e); }
  // The earliest event. Precondition: !empty().
  const Event& top() const { return heap_.top(); }
  void pop() { heap_.pop(); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return runs_before(b, a); }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
};

}  // namespace fogm2m::sim
