// Node capacity: messages handled per node CPU-second and node memory per
// registered device, measured on a real `fogm2m node` process with a real
// redis-server and emulated IPSO 3313 devices (this process) that all get
// observed. Prints one table; not a ctest.
//
//   build/bench/node_capacity_bench [devices=1000] [seconds=10] [sample_ms=50,20,10]
//
// The devices' sampling period sets the offered load (each sample of an
// observed X value is one notification); one window is measured per period
// given, on the same node. A lightly loaded node pays a sleep and a wakeup
// for every few datagrams; a busier one reads bigger batches per wakeup, so
// the figure per CPU-second rises with the load.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bus_observer.h"
#include "bench/process_usage.h"
#include "emulated_clients/udp_device.h"
#include "io/redis_asio.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

using namespace fogm2m;
using bench::cpu_seconds;
using bench::rss_kb;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int devices = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int seconds = argc > 2 ? std::atoi(argv[2]) : 10;
  std::vector<int> sample_periods_ms;
  {
    std::istringstream list(argc > 3 ? argv[3] : "50,20,10");
    for (std::string item; std::getline(list, item, ',');)
      if (const int ms = std::atoi(item.c_str()); ms > 0) sample_periods_ms.push_back(ms);
  }
  if (devices <= 0 || seconds <= 0 || sample_periods_ms.empty()) {
    std::fprintf(stderr, "usage: node_capacity_bench [devices>0] [seconds>0] [sample_ms,...]\n");
    return 2;
  }

  auto redis_server = test::RedisServer::start();
  if (!redis_server) {
    std::fprintf(stderr, "redis: %s\n", redis_server.error().message.c_str());
    return 1;
  }
  const uint16_t coap_port = test::free_loopback_port(SOCK_DGRAM);
  const std::string fogm2m = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";
  const pid_t node = fork();
  if (node == 0) {
    const std::string redis =
        (*redis_server)->host() + ":" + std::to_string((*redis_server)->port());
    const std::string port = std::to_string(coap_port);
    execl(fogm2m.c_str(), "fogm2m", "node", "--redis", redis.c_str(), "--bind", "127.0.0.1",
          "--coap-port", port.c_str(), "--no-dtls", "--log-level", "warn",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const long rss_empty = rss_kb(node);

  boost::asio::io_context io;
  auto config = std::make_shared<emulated::DeviceConfig>();
  config->lifetime_s = 3600;
  config->sample_period = std::chrono::milliseconds(sample_periods_ms.front());
  config->notify_con_every = 0;  // NON notifications, as the reference study's load
  std::vector<std::unique_ptr<emulated::UdpDevice>> fleet;
  const boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                              coap_port);
  emulated::UdpDeviceOptions options;
  options.bind_address = boost::asio::ip::make_address("127.0.0.1");
  for (int i = 0; i < devices; ++i) {
    fleet.push_back(std::make_unique<emulated::UdpDevice>(
        io, server,
        emulated::Device(config, emulated::DeviceIdentity{"bench-" + std::to_string(i),
                                                          uint64_t(i + 1), "", ""}),
        options));
    (void)fleet.back()->start();
  }
  const auto reg_start = Clock::now();
  test::run_until(
      io,
      [&] {
        for (const auto& d : fleet)
          if (!d->device().registered()) return false;
        return true;
      },
      std::chrono::seconds(120));
  int registered = 0;
  for (const auto& d : fleet) registered += d->device().registered();
  const double reg_seconds = std::chrono::duration<double>(Clock::now() - reg_start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long rss_registered = rss_kb(node);

  // Observe every device's X value through the bus.
  bench::BusObserver client(io);
  const uint64_t replies = client.observe((*redis_server)->host(), (*redis_server)->port(), devices,
                                          std::chrono::seconds(60));
  const long rss_observed = rss_kb(node);

  std::printf("devices registered          %d of %d in %.1f s\n", registered, devices, reg_seconds);
  std::printf("observed devices            %llu of %d answered the observe\n",
              static_cast<unsigned long long>(replies), devices);
  std::printf("node RSS                    empty %ld KiB, registered %ld KiB, observed %ld KiB\n",
              rss_empty, rss_registered, rss_observed);
  std::printf("node memory per device      %.0f B registered, %.0f B registered+observed\n",
              1024.0 * static_cast<double>(rss_registered - rss_empty) / devices,
              1024.0 * static_cast<double>(rss_observed - rss_empty) / devices);
  std::printf(
      "messages per node CPU-s: forwarded notifications (CoAP in + bus PUBLISH out each) / node "
      "CPU seconds\n");
  std::printf("%9s %9s %9s %11s %8s %10s %16s\n", "sample_ms", "offered/s", "sent/s", "forwarded/s",
              "lost", "node_core", "msgs/node_CPU-s");
  // What the node published, counted by Redis itself (INFO commandstats):
  // independent of how fast this process's subscriber keeps up.
  const auto published = [&] {
    long long calls = -1;
    bool done = false;
    client.commands().command({"INFO", "commandstats"}, [&](Result<io::RedisReply> reply) {
      done = true;
      if (!reply || !reply->is_string()) return;
      const auto at = reply->str.find("cmdstat_publish:calls=");
      if (at != std::string::npos)
        calls = std::atoll(reply->str.c_str() + at + std::strlen("cmdstat_publish:calls="));
    });
    test::run_until(
        io, [&] { return done; }, std::chrono::seconds(10));
    return calls;
  };
  const auto sent_by_fleet = [&] {
    uint64_t sent = 0;
    for (const auto& d : fleet) sent += d->device().counters().notifications_sent;
    return sent;
  };
  for (const int period_ms : sample_periods_ms) {
    config->sample_period = std::chrono::milliseconds(period_ms);
    const auto settle = Clock::now();  // every device has sampled at the new period
    test::run_until(
        io, [&] { return Clock::now() - settle >= std::chrono::seconds(1); },
        std::chrono::seconds(6));

    const uint64_t s0 = sent_by_fleet();
    const long long p0 = published();
    const double cpu0 = cpu_seconds(node);
    const auto t0 = Clock::now();
    test::run_until(
        io, [&] { return Clock::now() - t0 >= std::chrono::seconds(seconds); },
        std::chrono::seconds(seconds + 5));
    const uint64_t sent = sent_by_fleet() - s0;
    const long long forwarded = published() - p0;
    const double cpu = cpu_seconds(node) - cpu0;
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    // lost: sent but not published in the same window; the datagrams in
    // flight at its two ends (about a millisecond's worth) roughly cancel.
    std::printf("%9d %9.0f %9.0f %11.0f %8lld %9.0f%% %16.0f\n", period_ms,
                1000.0 * devices / period_ms, static_cast<double>(sent) / wall,
                static_cast<double>(forwarded) / wall, static_cast<long long>(sent) - forwarded,
                100.0 * cpu / wall, cpu > 0 ? static_cast<double>(forwarded) / cpu : 0.0);
  }

  kill(node, SIGTERM);
  waitpid(node, nullptr, 0);
  fleet.clear();
  io.poll();
  return 0;
}
