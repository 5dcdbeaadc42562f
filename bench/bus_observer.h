// Observes X (/3313/0/5702) of the devices "bench-0".."bench-<n-1>" through
// the bus, as a client of the cluster would, for the capacity benchmarks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "bus/request.h"
#include "tests/support/bus_peer.h"
#include "tests/support/test_util.h"

namespace fogm2m::bench {

class BusObserver {
 public:
  explicit BusObserver(boost::asio::io_context& io) : io_(io), peer_(io) {}

  // Sends the observes and runs the io_context until every device has
  // answered (notifications aside) or `timeout` has passed; returns how many
  // answered.
  uint64_t observe(const std::string& redis_host, uint16_t redis_port, uint64_t devices,
                   std::chrono::seconds timeout) {
    const bool up = peer_.start(redis_host, redis_port, {peer_.channels().responses},
                                [this](std::string_view, std::string_view m) {
                                  if (m.find("\"rep\"") != std::string_view::npos &&
                                      m.find("\"notification\":true") == std::string_view::npos)
                                    ++replies_;
                                });
    if (!up) {
      std::fprintf(stderr, "bus: cannot subscribe on %s:%u\n", redis_host.c_str(), redis_port);
      return 0;
    }
    bus::Request request;
    request.kind = bus::RequestKind::kObserve;
    request.path = lwm2m::Path(3313, 0, 5702);
    request.content_format = lwm2m::ContentFormat::kText;
    // In batches, each sent when the one before is nearly answered: a node
    // handed a million requests at once would fall behind its Redis
    // subscription (Redis drops a subscriber whose output buffer overflows).
    constexpr uint64_t kBatch = 2000;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (uint64_t i = 0; i < devices; ++i) {
      if (i % kBatch == 0 && i >= kBatch) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) break;
        test::run_until(
            io_, [&] { return replies_ + kBatch / 2 >= i; },
            std::chrono::duration_cast<std::chrono::milliseconds>(left));
      }
      request.endpoint = "bench-" + std::to_string(i);
      request.ticket = "obs-" + std::to_string(i);
      peer_.publish(peer_.channels().requests, bus::format_request(request));
    }
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left > std::chrono::steady_clock::duration::zero())
      test::run_until(
          io_, [&] { return replies_ >= devices; },
          std::chrono::duration_cast<std::chrono::milliseconds>(left));
    return replies_;
  }

  // The bus peer's command connection, for other commands (INFO, ...).
  io::RedisLink& commands() { return peer_.commands(); }

 private:
  boost::asio::io_context& io_;
  test::BusPeer peer_;
  uint64_t replies_ = 0;
};

}  // namespace fogm2m::bench
