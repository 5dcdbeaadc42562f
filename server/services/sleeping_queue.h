// The bus requests that wait on the owning node for a sleeping queue-mode
// device (LwM2M 1.1 TS-Core 6.5): one bounded FIFO per device, each request
// with its own deadline. A plain data structure without timers or clock:
// Presence (presence.h) drives it with the time, and tests with any times.
//
// Order: take() hands a device's requests back in the order they were
// pushed, so they reach the device as they reached the node. expire()
// hands back, across all devices, the requests whose deadline has come
// (deadline <= now), earliest deadline first (pushed order among equal
// deadlines). A request leaves the queue exactly once, by take(), expire()
// or drop().
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "bus/request.h"

namespace fogm2m::server {

class SleepingQueue {
 public:
  using Clock = std::chrono::steady_clock;
  struct Waiting {
    std::string endpoint;
    bus::Request request;
    Clock::time_point deadline;
  };

  // At most `per_device` requests wait for one device (at least 1).
  explicit SleepingQueue(size_t per_device) : per_device_(per_device ? per_device : 1) {}

  // Queues `request` for `endpoint` until `deadline`; false (and nothing
  // queued) when that device already has per_device requests waiting.
  bool push(const std::string& endpoint, bus::Request request, Clock::time_point deadline);
  // Every request waiting for `endpoint`, in pushed order; none remain.
  std::vector<Waiting> take(const std::string& endpoint);
  // Same as take(): the device is gone, its requests are to be answered.
  std::vector<Waiting> drop(const std::string& endpoint) { return take(endpoint); }
  // The requests whose deadline is at or before `now`, earliest first.
  std::vector<Waiting> expire(Clock::time_point now);

  // The earliest deadline of any waiting request; nullopt when none waits.
  std::optional<Clock::time_point> next_deadline() const;
  size_t size() const { return deadlines_.size(); }
  size_t size(const std::string& endpoint) const;
  size_t per_device() const { return per_device_; }

 private:
  using Deadlines = std::multimap<Clock::time_point, std::pair<std::string, uint64_t>>;
  struct Entry {
    uint64_t id;
    bus::Request request;
    Deadlines::iterator deadline;
  };

  size_t per_device_;
  uint64_t next_id_ = 0;
  std::unordered_map<std::string, std::deque<Entry>> by_endpoint_;
  Deadlines deadlines_;  // -> (endpoint, id); multimap keeps insertion order among equals
};

}  // namespace fogm2m::server
