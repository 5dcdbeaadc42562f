#include "emulated_clients/fleet_process.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>

#include "io/process_placement.h"

namespace fogm2m::emulated {

namespace {

// Writes `text` to `path` through a temporary file and a rename, so a reader
// never sees half a file.
void write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
}

}  // namespace

int run_fleet_process(const FleetProcessOptions& options) {
  // Placement first: sockets opened later belong to the namespace.
  if (!options.netns.empty())
    if (auto s = io::enter_network_namespace(options.netns); !s) {
      std::cerr << "fleet: " << s.error().message << "\n";
      return 2;
    }
  for (const std::string& dir : options.cgroups)
    if (auto s = io::join_cgroup(dir); !s) {
      std::cerr << "fleet: " << s.error().message << "\n";
      return 2;
    }

  Fleet fleet(options.fleet);
  if (auto s = fleet.start(); !s) {
    std::cerr << "fleet: " << s.error().message << "\n";
    return 2;
  }
  spdlog::info("fleet: {} devices ({}..) towards {}:{} over {} threads, ramp {:.1f} s",
               options.fleet.devices, fleet.endpoint(0), options.fleet.server.address().to_string(),
               options.fleet.server.port(), options.fleet.threads,
               std::chrono::duration<double>(options.fleet.ramp).count());
  if (fleet.shares_sockets())
    spdlog::info(
        "fleet: devices share one socket per thread, sending from {} (address i+1 for "
        "device i)",
        fleet.config().source_range->to_string());

  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  // SIGUSR1: every device moves to a new source port (NAT rebinding).
  boost::asio::signal_set rebind_signal(io, SIGUSR1);
  std::function<void()> await_rebind = [&] {
    rebind_signal.async_wait([&](boost::system::error_code e, int) {
      if (e) return;
      spdlog::info("fleet: SIGUSR1: every device moves to a new source port");
      fleet.rebind();
      await_rebind();
    });
  };
  await_rebind();
  boost::asio::steady_timer stats_timer(io), duration_timer(io);
  const bool live = !options.quiet && options.stats_interval.count() > 0;
  auto report = [&] {
    const FleetStats s = fleet.stats();
    if (!options.stats_file.empty()) write_atomically(options.stats_file, to_json(s));
    if (live)
      std::fprintf(stderr,
                   "fleet: %llu/%llu registered, %llu notifications, %llu requests answered, "
                   "%llu retransmissions, %llu errors\n",
                   (unsigned long long)s.registered, (unsigned long long)s.devices,
                   (unsigned long long)s.notifications_sent,
                   (unsigned long long)s.requests_answered, (unsigned long long)s.retransmissions,
                   (unsigned long long)(s.errors + s.timeouts));
  };
  std::function<void()> tick = [&] {
    stats_timer.expires_after(options.stats_interval);
    stats_timer.async_wait([&](boost::system::error_code e) {
      if (e) return;
      report();
      tick();
    });
  };
  if (options.stats_interval.count() > 0) tick();
  auto finish = [&] {
    signals.cancel();
    rebind_signal.cancel();
    stats_timer.cancel();
    duration_timer.cancel();
  };
  signals.async_wait([&](boost::system::error_code e, int) {
    if (!e) finish();
  });
  if (options.duration.count() > 0) {
    duration_timer.expires_after(options.duration);
    duration_timer.async_wait([&](boost::system::error_code e) {
      if (!e) finish();
    });
  }
  io.run();

  fleet.stop();
  const std::string summary = to_json(fleet.stats());
  if (!options.stats_file.empty()) write_atomically(options.stats_file, summary);
  if (!options.summary_file.empty()) write_atomically(options.summary_file, summary);
  std::cout << summary << std::endl;
  return 0;
}

}  // namespace fogm2m::emulated
