// Non-blocking readiness probe for a file descriptor (internal to io/).
//
// Asio's epoll reactor registers descriptors edge-triggered, and an
// async_wait only completes on an edge that arrives after it was queued. The
// C libraries we drive (libcoap, hiredis) may leave data unread after one
// call, so before waiting again the drivers ask the kernel directly whether
// the descriptor is still ready and, if so, process again instead of waiting.
#pragma once

#include <poll.h>

#include <cerrno>

namespace fogm2m::io {

// True when `fd` reports any of `events` (POLLIN, POLLOUT), an error or a
// hang-up right now. Never blocks; false for an invalid descriptor.
inline bool fd_ready(int fd, short events) {
  if (fd < 0) return false;
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  if (p.revents & POLLNVAL) return false;
  return (p.revents & (events | POLLERR | POLLHUP)) != 0;
}

}  // namespace fogm2m::io
