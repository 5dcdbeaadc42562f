// Runs an io_context the way a NIC moderates interrupts: while busy, it
// wakes at most once per interval and handles everything that came
// meanwhile in one pass; while idle, it blocks and wakes at once.
//
// Why: on the testbed a node's CPU goes mostly to the kernel, and most of
// that to waking up (a context switch per epoll_wait that blocked; interrupt
// re-enabling is expensive under this VM's hypervisor) rather than to the
// work each wakeup does. At 3,000 bus requests/s a node blocked and woke
// about 4,700 times a second, about one wakeup per event. Handling a
// millisecond of events per wakeup trades up to `interval` of added latency
// for fewer wakeups, and its writes leave in fewer, larger batches (Redis
// publishes coalesce in hiredis' buffer).
//
// The loop blocks for each event while events come less often than once
// per `interval` (a quiet node answers as fast as with io_context::run());
// two wakeups within one interval switch it to gathering: sleep an
// interval, run every ready handler, again, until a gathering pass runs
// fewer than `busy_handlers` handlers. Timers fire at most `interval` late
// while it gathers.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>

namespace fogm2m::io {

struct CoalescingOptions {
  std::chrono::microseconds interval{0};  // 0: io_context::run(), no coalescing
  size_t busy_handlers = 1;               // a gathering pass running fewer ends gathering
};

// Runs `io` until it is stopped or out of work, like io_context::run().
void run_coalescing(boost::asio::io_context& io, const CoalescingOptions& options);

}  // namespace fogm2m::io
