// Completion callbacks that pile up: stop() called again while a device is
// still stopping must call every caller's callback, in call order.
#pragma once

#include <functional>
#include <utility>

namespace fogm2m::emulated {

// Makes `slot` call what it held, then `more` (either may be empty).
inline void append_callback(std::function<void()>& slot, std::function<void()> more) {
  if (!more) return;
  if (!slot) {
    slot = std::move(more);
    return;
  }
  slot = [first = std::move(slot), second = std::move(more)] {
    first();
    second();
  };
}

}  // namespace fogm2m::emulated
