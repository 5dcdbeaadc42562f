// Helpers shared by the io tests: running an io_context until a condition
// holds, CPU time of the calling thread, free loopback ports, open fds.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>

namespace fogm2m::test {

// Runs `io` one handler at a time until `done()` is true or `timeout`
// passes; returns done(). Restarts the io_context if it ran out of work.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return true;
}

// User plus system CPU time consumed so far by the calling thread.
inline std::chrono::microseconds thread_cpu_time() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  auto us = [](const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

// A loopback port of the given socket type (SOCK_STREAM, SOCK_DGRAM) that was
// free a moment ago; 0 on failure.
inline uint16_t free_loopback_port(int type) {
  int s = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(s);
  return port;
}

// Number of open file descriptors of this process.
inline int open_fd_count() {
  int n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
    n -= 3;  // ".", ".." and the directory's own descriptor
  }
  return n;
}

}  // namespace fogm2m::test
