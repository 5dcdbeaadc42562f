// Wall-clock time in Unix milliseconds, as the cluster records it
// (registration dates, expiry, heartbeats). Injected where it is read, so
// tests run the node's services and the membership on a fake clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace fogm2m::io {

using UnixClock = std::function<int64_t()>;

// The system's clock.
inline int64_t system_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace fogm2m::io
