// A FIFO of timers whose due times never decrease: what every "the same
// delay after now" timer of many entities is (a device's next sample one
// sampling interval after this one, its registration update 0.9 lifetimes
// after it registered). Such timers need no heap: the lane holds them in
// push order and keeps exactly one event (its head) in the kernel's event
// list, so a million devices sampling cost O(1) per timer and the event list
// stays small. Pushing a time earlier than the tail is a bug the lane
// refuses (returns false).
#pragma once

#include <cstdint>
#include <deque>

#include "sim/simulator.h"

namespace fogm2m::sim {

class TimerLane {
 public:
  // `event_type` is the type of the head event the lane keeps scheduled;
  // `lane_id` goes in its entity field.
  TimerLane(uint16_t event_type, uint32_t lane_id) : type_(event_type), id_(lane_id) {}

  // Adds a timer for `entity` due at `at`. False (nothing added) when `at`
  // is before the last timer pushed.
  template <class Queue>
  bool push(BasicSimulator<Queue>& sim, SimTime at, uint32_t entity) {
    if (!timers_.empty() && at < timers_.back().at) return false;
    timers_.push_back({at, entity});
    if (!head_scheduled_) schedule_head(sim);
    return true;
  }

  // Called by the model when the lane's head event runs: returns the entity
  // whose timer is due and schedules the next head.
  template <class Queue>
  uint32_t pop_due(BasicSimulator<Queue>& sim) {
    const uint32_t entity = timers_.front().entity;
    timers_.pop_front();
    head_scheduled_ = false;
    if (!timers_.empty()) schedule_head(sim);
    return entity;
  }

  size_t size() const { return timers_.size(); }
  uint16_t event_type() const { return type_; }

 private:
  struct Timer {
    SimTime at;
    uint32_t entity;
  };
  template <class Queue>
  void schedule_head(BasicSimulator<Queue>& sim) {
    sim.schedule_at(timers_.front().at, type_, id_);
    head_scheduled_ = true;
  }

  uint16_t type_;
  uint32_t id_;
  bool head_scheduled_ = false;
  std::deque<Timer> timers_;
};

}  // namespace fogm2m::sim
