#include "io/coalescing_loop.h"

#include <thread>

namespace fogm2m::io {

void run_coalescing(boost::asio::io_context& io, const CoalescingOptions& options) {
  if (options.interval.count() <= 0) {
    io.run();
    return;
  }
  using Clock = std::chrono::steady_clock;
  auto last_wakeup = Clock::time_point{};
  bool busy = false;
  while (!io.stopped()) {
    if (busy) {
      std::this_thread::sleep_for(options.interval);  // let events gather
      // Nothing came in a whole interval: quiet again, block from now on.
      busy = io.poll() >= options.busy_handlers;
      continue;
    }
    if (io.run_one() == 0) return;  // blocks for the next event
    io.poll();                      // and whatever it brought along
    // Two wakeups within one interval: events come faster than the
    // interval, so gather them from now on.
    const auto now = Clock::now();
    busy = now - last_wakeup < options.interval;
    last_wakeup = now;
  }
}

}  // namespace fogm2m::io
