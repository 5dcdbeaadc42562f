// Node capacity: messages handled per node CPU-second and node memory per
// registered device, measured on a real `fogm2m node` process with a real
// redis-server and emulated IPSO 3313 devices (this process) that all get
// observed. Prints one table; not a ctest.
//
//   build/bench/node_capacity_bench [devices=1000] [seconds=10] [sample_ms=50]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "emulated_clients/udp_device.h"
#include "bench/process_usage.h"
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
  const int sample_ms = argc > 3 ? std::atoi(argv[3]) : 50;

  auto redis_server = test::RedisServer::start();
  if (!redis_server) {
    std::fprintf(stderr, "redis: %s\n", redis_server.error().message.c_str());
    return 1;
  }
  const uint16_t coap_port = test::free_loopback_port(SOCK_DGRAM);
  const std::string fogm2m = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";
  const pid_t node = fork();
  if (node == 0) {
    const std::string redis = (*redis_server)->host() + ":" + std::to_string((*redis_server)->port());
    const std::string port = std::to_string(coap_port);
    execl(fogm2m.c_str(), "fogm2m", "node", "--redis", redis.c_str(), "--bind", "127.0.0.1", "--coap-port",
          port.c_str(), "--no-dtls", "--log-level", "warn", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  const long rss_empty = rss_kb(node);

  boost::asio::io_context io;
  auto config = std::make_shared<emulated::DeviceConfig>();
  config->lifetime_s = 3600;
  config->sample_period = std::chrono::milliseconds(sample_ms);
  config->notify_con_every = 0;  // NON notifications, as the reference study's load
  std::vector<std::unique_ptr<emulated::UdpDevice>> fleet;
  const boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"), coap_port);
  emulated::UdpDeviceOptions options;
  options.bind_address = boost::asio::ip::make_address("127.0.0.1");
  for (int i = 0; i < devices; ++i) {
    fleet.push_back(std::make_unique<emulated::UdpDevice>(
        io, server,
        emulated::Device(config, emulated::DeviceIdentity{"bench-" + std::to_string(i), uint64_t(i + 1), "", ""}),
        options));
    (void)fleet.back()->start();
  }
  const auto reg_start = Clock::now();
  test::run_until(io, [&] {
    for (const auto& d : fleet)
      if (!d->device().registered()) return false;
    return true;
  }, std::chrono::seconds(120));
  int registered = 0;
  for (const auto& d : fleet) registered += d->device().registered();
  const double reg_seconds = std::chrono::duration<double>(Clock::now() - reg_start).count();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long rss_registered = rss_kb(node);

  // Observe every device's X value through the bus.
  io::RedisConnection pub(io), sub(io);
  bool up = false;
  int ready = 0;
  std::atomic<uint64_t> notifications{0}, replies{0};
  sub.set_message_handler([&](std::string_view, std::string_view m) {
    if (m.find("\"notification\":true") != std::string_view::npos) ++notifications;
    else if (m.find("\"rep\"") != std::string_view::npos) ++replies;
  });
  pub.connect((*redis_server)->host(), (*redis_server)->port(), [&](Status) { ++ready; });
  sub.connect((*redis_server)->host(), (*redis_server)->port(), [&](Status) {
    (void)sub.subscribe({"LWM2M_RESP"}, [&](Status) { up = true; });
  });
  test::run_until(io, [&] { return up && ready == 1; });
  for (int i = 0; i < devices; ++i)
    (void)pub.command({"PUBLISH", "LWM2M_REQ",
                       R"({"ep":"bench-)" + std::to_string(i) + R"(","ticket":"obs-)" + std::to_string(i) +
                           R"(","req":{"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"}})"},
                      [](Result<io::RedisReply>) {});
  test::run_until(io, [&] { return replies >= static_cast<uint64_t>(devices); }, std::chrono::seconds(60));
  const long rss_observed = rss_kb(node);

  const uint64_t n0 = notifications;
  const double cpu0 = cpu_seconds(node);
  const auto t0 = Clock::now();
  test::run_until(io, [&] { return Clock::now() - t0 >= std::chrono::seconds(seconds); },
                  std::chrono::seconds(seconds + 5));
  const double cpu = cpu_seconds(node) - cpu0;
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t forwarded = notifications - n0;

  std::printf("devices registered          %d of %d in %.1f s\n", registered, devices, reg_seconds);
  std::printf("node RSS                    empty %ld KiB, registered %ld KiB, observed %ld KiB\n", rss_empty,
              rss_registered, rss_observed);
  std::printf("node memory per device      %.0f B registered, %.0f B registered+observed\n",
              1024.0 * static_cast<double>(rss_registered - rss_empty) / devices,
              1024.0 * static_cast<double>(rss_observed - rss_empty) / devices);
  std::printf("notifications forwarded     %llu in %.1f s (%.0f/s)\n", static_cast<unsigned long long>(forwarded), wall,
              static_cast<double>(forwarded) / wall);
  std::printf("node CPU                    %.2f s (%.0f%% of a core)\n", cpu, 100.0 * cpu / wall);
  std::printf("messages per node CPU-s     %.0f (notification in + bus publish out each)\n",
              cpu > 0 ? static_cast<double>(forwarded) / cpu : 0.0);

  kill(node, SIGTERM);
  waitpid(node, nullptr, 0);
  fleet.clear();
  pub.disconnect();
  sub.disconnect();
  io.poll();
  return 0;
}
