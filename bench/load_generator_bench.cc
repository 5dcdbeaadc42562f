// Load generator cost: CPU time of the load generator's thread per request
// it sends and per bus message it reads, against a real
// redis-server and a responder thread that answers like a node (an ack, then
// a rep with a read's content) and streams notifications for the devices the
// load generator observed. Prints one line per run; not a ctest.
//
//   build/bench/load_generator_bench [rate=2000] [seconds=10] [notifications_per_s=20000] [runs=3]
//
// The load generator shares this machine with the cluster it measures, so
// what it spends per message is taken from the cluster; the figure to watch
// is "us/msg" (CPU microseconds per message read: replies and notifications).
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bus/reply.h"
#include "bus/request.h"
#include "io/redis_asio.h"
#include "lwm2m/coap_code.h"
#include "runner/load_generator.h"
#include "tests/support/bus_peer.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

using namespace fogm2m;
using Clock = std::chrono::steady_clock;

namespace {

// Answers requests on LWM2M_REQ as a node would and, once started, publishes
// notifications of the observations it acknowledged at a fixed rate.
class Responder {
 public:
  Responder(boost::asio::io_context& io, double notifications_per_s)
      : io_(io), peer_(io), timer_(io), per_ms_(notifications_per_s / 1000.0) {}

  bool start(const std::string& host, uint16_t port) {
    return peer_.start(host, port, {peer_.channels().requests},
                       [this](std::string_view, std::string_view m) { on_request(m); });
  }

  void start_notifications() {
    io_.post([this] { tick(); });
  }
  void stop() {
    io_.post([this] {
      stopped_ = true;
      timer_.cancel();
    });
  }
  uint64_t notifications() const { return notifications_; }

 private:
  void publish(std::string m) { peer_.publish(peer_.channels().responses, std::move(m)); }

  void on_request(std::string_view message) {
    bus::ParsedRequest parsed = bus::parse_request(message);
    if (!parsed.request) return;
    const bus::Request& r = *parsed.request;
    publish(bus::format_ack(r.ticket));
    if (r.kind == bus::RequestKind::kObserve) observe_tickets_.push_back(r.ticket);
    // What the node answers a read of one float resource with.
    bus::DeviceResponse rep;
    rep.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
    rep.content_format = lwm2m::ContentFormat::kTlv;
    rep.content = lwm2m::Resource::single(5702, 1.25);
    publish(bus::format_rep(r.ticket, rep));
  }

  void tick() {
    if (stopped_) return;
    const auto now = Clock::now();
    if (last_ == Clock::time_point{}) last_ = now;
    budget_ += per_ms_ * std::chrono::duration<double, std::milli>(now - last_).count();
    last_ = now;
    bus::DeviceResponse notification;
    notification.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
    notification.content_format = lwm2m::ContentFormat::kTlv;
    notification.content = lwm2m::ObjectInstance{
        0,
        {lwm2m::Resource::single(5603, -20.0), lwm2m::Resource::single(5604, 20.0),
         lwm2m::Resource::single(5701, std::string("m/s2")), lwm2m::Resource::single(5702, 1.25),
         lwm2m::Resource::single(5703, -0.5), lwm2m::Resource::single(5704, 9.8125)}};
    const lwm2m::Path path(3313, 0);
    while (budget_ >= 1 && !observe_tickets_.empty()) {
      budget_ -= 1;
      const std::string& ticket = observe_tickets_[next_++ % observe_tickets_.size()];
      publish(
          bus::format_notification(ticket, notification, bus::NotificationSource{"dev-1", path}));
      ++notifications_;
    }
    timer_.expires_after(std::chrono::milliseconds(1));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) tick();
    });
  }

  boost::asio::io_context& io_;
  test::BusPeer peer_;
  boost::asio::steady_timer timer_;
  double per_ms_;
  double budget_ = 0;
  Clock::time_point last_{};
  std::vector<std::string> observe_tickets_;
  size_t next_ = 0;
  bool stopped_ = false;
  std::atomic<uint64_t> notifications_{0};
};

}  // namespace

int main(int argc, char** argv) {
  const double rate = argc > 1 ? std::atof(argv[1]) : 2000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 10;
  const double notifications_per_s = argc > 3 ? std::atof(argv[3]) : 20000;
  const int runs = argc > 4 ? std::atoi(argv[4]) : 3;
  if (!(rate > 0) || !(seconds > 0) || notifications_per_s < 0 || runs <= 0) {
    std::fprintf(
        stderr,
        "usage: load_generator_bench [rate>0] [seconds>0] [notifications_per_s>=0] [runs>0]\n");
    return 2;
  }
  auto redis = test::RedisServer::start();
  if (!redis) {
    std::fprintf(stderr, "redis: %s\n", redis.error().message.c_str());
    return 1;
  }

  boost::asio::io_context responder_io;
  Responder responder(responder_io, notifications_per_s);
  if (!responder.start((*redis)->host(), (*redis)->port())) {
    std::fprintf(stderr, "responder: cannot reach redis\n");
    return 1;
  }
  auto work = boost::asio::make_work_guard(responder_io);
  std::thread responder_thread([&] { responder_io.run(); });

  boost::asio::io_context io;
  runner::BusOptions bus;
  bus.host = (*redis)->host();
  bus.port = (*redis)->port();
  runner::LoadGenerator generator(io, bus);
  int exit_code = 0;
  if (Status s = generator.connect(); !s) {
    std::fprintf(stderr, "load generator: %s\n", s.error().message.c_str());
    exit_code = 1;
  }
  std::vector<std::string> endpoints;
  for (int i = 1; i <= 100; ++i) endpoints.push_back("dev-" + std::to_string(i));
  if (exit_code == 0) {
    auto observed = generator.observe_all(endpoints, "/3313/0");
    if (!observed || observed->observed != endpoints.size()) {
      std::fprintf(stderr, "load generator: observe_all failed\n");
      exit_code = 1;
    }
  }
  if (exit_code == 0) {
    responder.start_notifications();
    std::printf("%-8s %-8s %-10s %-12s %-10s %-10s %-10s\n", "rate", "sent", "answered", "notified",
                "cpu_ms", "us/req", "us/msg");
    for (int run = 0; run < runs; ++run) {
      runner::LoadPlan plan;
      plan.endpoints = endpoints;
      schema::RequestSpec read;
      read.set_kind("read");
      read.set_path("/3313/0/{xyz}");
      read.set_content_format("TLV");
      read.set_weight(1);
      plan.mix = {read};
      plan.rate = rate;
      plan.window_s = seconds;
      plan.warmup_s = 1;
      plan.seed = static_cast<uint64_t>(run + 1);
      const auto cpu0 = test::thread_cpu_time();
      auto result = generator.run(plan);
      const auto cpu = test::thread_cpu_time() - cpu0;
      if (!result) {
        std::fprintf(stderr, "run: %s\n", result.error().message.c_str());
        exit_code = 1;
        break;
      }
      // Every request brings an ack and a rep; notifications come on top.
      // CPU covers warm-up and window, so the counts are scaled to both.
      const double scale = (plan.warmup_s + plan.window_s) / plan.window_s;
      const double requests = static_cast<double>(result->sent) * scale;
      const double messages = 2 * requests + static_cast<double>(result->notifications) * scale;
      const double cpu_us = static_cast<double>(cpu.count());
      std::printf("%-8.0f %-8u %-10u %-12llu %-10.1f %-10.2f %-10.3f\n", rate, result->sent,
                  result->answered, static_cast<unsigned long long>(result->notifications),
                  cpu_us / 1000.0, cpu_us / requests, cpu_us / messages);
    }
  }
  responder.stop();
  work.reset();
  responder_io.stop();
  responder_thread.join();
  return exit_code;
}
