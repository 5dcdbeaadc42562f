// Queues built from the kernel reproduce closed forms: M/M/1 and M/D/1 mean
// waiting times (Pollaczek-Khinchine), within 2%. Customers are events
// (arrival, departure) on the Simulator, the queue a plain FIFO; the FIFO
// CfsServer without quota must give the same waits job by job.
#include <gtest/gtest.h>

#include <deque>

#include "sim/cfs_server.h"
#include "sim/random_stream.h"
#include "sim/simulator.h"

namespace fogm2m::sim {
namespace {

enum : uint16_t { kArrival, kDeparture };

struct QueueRun {
  double mean_wait_s = 0;    // event-driven FIFO
  double booked_wait_s = 0;  // the same arrivals through CfsServer (no quota)
};

// One server, Poisson arrivals at `lambda`, service times exponential
// (deterministic when !exponential) with mean 1/mu; `n` customers.
QueueRun simulate_queue(double lambda, double mu, bool exponential, int n, uint64_t seed) {
  Simulator sim;
  RandomStream arrivals(seed, 1), services(seed, 2);
  std::deque<std::pair<SimTime, SimTime>> waiting;  // (arrival, service)
  bool busy = false;
  int arrived = 0, served = 0;
  double total_wait = 0, total_booked = 0;
  CfsServer booked(0, 0);
  auto service_time = [&] {
    return exponential ? from_seconds(services.exponential(1.0 / mu)) : from_seconds(1.0 / mu);
  };
  auto start = [&](SimTime arrival, SimTime service) {
    total_wait += to_seconds(sim.now() - arrival);
    busy = true;
    sim.schedule_in(service, kDeparture, 0);
  };
  sim.schedule_at(from_seconds(arrivals.exponential(1.0 / lambda)), kArrival, 0);
  sim.run_until(kNever - 1, [&](const Event& e) {
    if (e.type == kArrival) {
      const SimTime s = service_time();
      const SimTime done = booked.submit(sim.now(), s);
      total_booked += to_seconds(done - s - sim.now());
      if (busy)
        waiting.emplace_back(sim.now(), s);
      else
        start(sim.now(), s);
      if (++arrived < n)
        sim.schedule_in(from_seconds(arrivals.exponential(1.0 / lambda)), kArrival, 0);
    } else {
      ++served;
      busy = false;
      if (!waiting.empty()) {
        auto [a, s] = waiting.front();
        waiting.pop_front();
        start(a, s);
      }
    }
  });
  EXPECT_EQ(served, n);
  return {total_wait / n, total_booked / n};
}

TEST(Queueing, MM1MeanWaitMatchesClosedForm) {
  const double lambda = 500, mu = 1000, rho = lambda / mu;
  const double expected = rho / (mu - lambda);  // Wq = rho / (mu - lambda) = 1 ms
  const QueueRun r = simulate_queue(lambda, mu, true, 1'000'000, 11);
  EXPECT_NEAR(r.mean_wait_s / expected, 1.0, 0.02) << r.mean_wait_s;
  EXPECT_NEAR(r.booked_wait_s, r.mean_wait_s, 1e-9);
}

TEST(Queueing, MD1MeanWaitMatchesClosedForm) {
  const double lambda = 700, mu = 1000, rho = lambda / mu;
  const double expected = rho / (2 * mu * (1 - rho));  // Pollaczek-Khinchine, deterministic service
  const QueueRun r = simulate_queue(lambda, mu, false, 1'000'000, 12);
  EXPECT_NEAR(r.mean_wait_s / expected, 1.0, 0.02) << r.mean_wait_s;
  EXPECT_NEAR(r.booked_wait_s, r.mean_wait_s, 1e-9);
}

}  // namespace
}  // namespace fogm2m::sim
