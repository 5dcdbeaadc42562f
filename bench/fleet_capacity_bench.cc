// Fleet capacity: emulator memory per registered device and notifications
// sent per emulator CPU-second, measured on real `fogm2m fleet` processes
// registering with a real `fogm2m node` on a real redis-server. The node
// observes X of `observed` devices through the bus. Also reports what the
// registrations cost the node (RSS, CPU) and Redis (used_memory). Prints
// one table; not a ctest.
//
//   build/bench/fleet_capacity_bench [devices=10000] [observed=2000] [seconds=10]
//                                    [sample_ms=50] [per_process=18000] [ramp_s=devices/2000]
//
// per_process > 0: one socket per device, so a fleet process holds at most
// the file-descriptor limit's worth of devices and larger fleets are split
// over processes. per_process = 0: ONE fleet process whose devices share a
// socket per thread (--source-range 127.64.0.0/10, 2 threads), the way to a
// million devices.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bus_observer.h"
#include "bench/process_usage.h"
#include "io/redis_asio.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

using namespace fogm2m;
using bench::cpu_seconds;
using bench::rss_kb;
using Clock = std::chrono::steady_clock;

namespace {

boost::json::object read_stats(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

uint64_t stat_of(const boost::json::object& o, const char* key) {
  return o.contains(key) ? o.at(key).to_number<uint64_t>() : 0;
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  const uint32_t devices = argc > 1 ? std::stoul(argv[1]) : 10000;
  const uint32_t observed = std::min<uint32_t>(devices, argc > 2 ? std::stoul(argv[2]) : 2000);
  const int seconds = argc > 3 ? std::atoi(argv[3]) : 10;
  const int sample_ms = argc > 4 ? std::atoi(argv[4]) : 50;
  const uint32_t per_process_arg = argc > 5 ? std::stoul(argv[5]) : 18000;
  const bool shared = per_process_arg == 0;
  const uint32_t per_process = shared ? devices : per_process_arg;
  const double ramp_s = argc > 6 ? std::atof(argv[6]) : devices / 2000.0;

  auto redis_server = test::RedisServer::start();
  if (!redis_server) {
    std::fprintf(stderr, "redis: %s\n", redis_server.error().message.c_str());
    return 1;
  }
  const std::string redis = (*redis_server)->host() + ":" + std::to_string((*redis_server)->port());
  const uint16_t coap_port = test::free_loopback_port(SOCK_DGRAM);
  const std::string fogm2m = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";
  const pid_t node = spawn({fogm2m, "node", "--redis", redis, "--bind", "127.0.0.1", "--coap-port",
                            std::to_string(coap_port), "--no-dtls", "--log-level", "warn"});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));

  const auto dir =
      std::filesystem::temp_directory_path() / ("fleet-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::vector<pid_t> fleets;
  std::vector<std::string> stats_files;
  const auto reg_start = Clock::now();
  for (uint32_t first = 0; first < devices; first += per_process) {
    const uint32_t n = std::min(per_process, devices - first);
    stats_files.push_back((dir / ("stats-" + std::to_string(first) + ".json")).string());
    std::vector<std::string> args = {fogm2m,
                                     "fleet",
                                     "--server",
                                     "127.0.0.1:" + std::to_string(coap_port),
                                     "--devices",
                                     std::to_string(n),
                                     "--first",
                                     std::to_string(first),
                                     "--ep-pattern",
                                     "bench-{n}",
                                     "--lifetime",
                                     "3600",
                                     "--sampling-ms",
                                     std::to_string(sample_ms),
                                     "--notify-con-every",
                                     "0",
                                     "--ramp-s",
                                     std::to_string(ramp_s * n / devices),
                                     "--stats-file",
                                     stats_files.back(),
                                     "--stats-interval",
                                     "0.5",
                                     "--stop-timeout",
                                     "3",
                                     "--quiet"};
    if (shared) {
      for (const char* a : {"--source-range", "127.64.0.0/10", "--threads", "2"}) args.push_back(a);
    } else {
      args.push_back("--bind");
      args.push_back("127.0.0.1");
    }
    fleets.push_back(spawn(args));
  }
  auto total = [&](const char* key) {
    uint64_t sum = 0;
    for (const auto& f : stats_files) sum += stat_of(read_stats(f), key);
    return sum;
  };
  while (total("registered") < devices &&
         Clock::now() - reg_start < std::chrono::seconds(300 + static_cast<int>(2 * ramp_s)))
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double reg_seconds = std::chrono::duration<double>(Clock::now() - reg_start).count();
  const uint64_t registered = total("registered");
  const double node_reg_cpu = cpu_seconds(node);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  long rss = 0;
  size_t descriptors = 0;
  for (pid_t f : fleets) {
    rss += rss_kb(f);
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(f) + "/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++descriptors;
  }
  const long node_rss = rss_kb(node);

  // Observe X of the first `observed` devices through the bus.
  boost::asio::io_context io;
  bench::BusObserver client(io);
  const uint64_t replies = client.observe((*redis_server)->host(), (*redis_server)->port(),
                                          observed, std::chrono::seconds(60 + observed / 2000));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // Redis' memory for the registrations (and the observations just made).
  long long redis_bytes = 0;
  client.commands().command({"INFO", "memory"}, [&](Result<io::RedisReply> r) {
    if (!r || !r->is_string()) return;
    const auto at = r->str.find("used_memory:");
    if (at != std::string::npos) redis_bytes = std::stoll(r->str.substr(at + 12));
  });
  test::run_until(
      io, [&] { return redis_bytes != 0; }, std::chrono::seconds(5));

  double cpu0 = 0;
  for (pid_t f : fleets) cpu0 += cpu_seconds(f);
  const uint64_t sent0 = total("notifications_sent");
  const auto t0 = Clock::now();
  test::run_until(
      io, [&] { return Clock::now() - t0 >= std::chrono::seconds(seconds); },
      std::chrono::seconds(seconds + 5));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // one more stats period
  double cpu = -cpu0;
  for (pid_t f : fleets) cpu += cpu_seconds(f);
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  const uint64_t sent = total("notifications_sent") - sent0;

  std::printf("fleet processes             %zu (at most %u devices each%s), %zu descriptors\n",
              fleets.size(), per_process, shared ? ", sharing sockets" : "", descriptors);
  std::printf("devices registered          %llu of %u in %.1f s\n", (unsigned long long)registered,
              devices, reg_seconds);
  std::printf(
      "fleet RSS                   %ld KiB in all, %.0f B per device, %.0f devices per GB\n", rss,
      1024.0 * rss / devices, devices / (rss / 1024.0 / 1024.0));
  std::printf(
      "node after registration     %ld KiB RSS, %.0f B per registration; %.1f CPU-s, %.0f "
      "registrations per node CPU-s\n",
      node_rss, 1024.0 * node_rss / std::max<uint64_t>(registered, 1), node_reg_cpu,
      node_reg_cpu > 0 ? registered / node_reg_cpu : 0.0);
  std::printf(
      "redis used_memory           %lld B, %.0f B per registration (observations included)\n",
      redis_bytes, static_cast<double>(redis_bytes) / std::max<uint64_t>(registered, 1));
  std::printf("observed devices            %llu of %u answered the observe\n",
              (unsigned long long)replies, observed);
  std::printf("notifications sent          %llu in %.1f s (%.0f/s)\n", (unsigned long long)sent,
              wall, sent / wall);
  std::printf("fleet CPU                   %.2f s (%.0f%% of a core)\n", cpu, 100.0 * cpu / wall);
  std::printf("notifications per fleet CPU-s %.0f\n", cpu > 0 ? sent / cpu : 0.0);

  for (pid_t f : fleets) kill(f, SIGTERM);
  for (pid_t f : fleets) waitpid(f, nullptr, 0);
  kill(node, SIGTERM);
  waitpid(node, nullptr, 0);
  io.poll();
  std::filesystem::remove_all(dir);
  return 0;
}
