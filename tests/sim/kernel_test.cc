// The discrete-event kernel: event order, ties, cancellation, timer lanes
// and reproducible random streams.
#include <gtest/gtest.h>

#include <vector>

#include "sim/binary_heap_queue.h"
#include "sim/calendar_queue.h"
#include "sim/random_stream.h"
#include "sim/simulator.h"
#include "sim/timer_lane.h"

namespace fogm2m::sim {
namespace {

TEST(Simulator, RunsEventsInTimeOrder) {
  Simulator sim;
  for (SimTime t : {50, 10, 40, 20, 30}) sim.schedule_at(t, 0, static_cast<uint32_t>(t));
  std::vector<SimTime> seen;
  sim.run_until(100, [&](const Event& e) {
    EXPECT_EQ(sim.now(), e.time);
    seen.push_back(e.time);
  });
  EXPECT_EQ(seen, (std::vector<SimTime>{10, 20, 30, 40, 50}));
  EXPECT_EQ(sim.now(), 100);
  EXPECT_EQ(sim.events_processed(), 5u);
}

TEST(Simulator, TiesRunInInsertionOrder) {
  Simulator sim;
  for (uint32_t i = 0; i < 100; ++i) sim.schedule_at(7, 0, i);
  std::vector<uint32_t> seen;
  sim.run_until(7, [&](const Event& e) { seen.push_back(e.entity); });
  ASSERT_EQ(seen.size(), 100u);
  for (uint32_t i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

TEST(Simulator, EventsScheduledFromHandlersAndInThePast) {
  Simulator sim;
  sim.schedule_at(10, 1, 0);
  std::vector<std::pair<SimTime, uint16_t>> seen;
  sim.run_until(1000, [&](const Event& e) {
    seen.emplace_back(sim.now(), e.type);
    if (e.type == 1) {
      sim.schedule_in(5, 2, 0);
      sim.schedule_at(3, 3, 0);  // in the past: runs now, after what is due
    }
  });
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1], (std::pair<SimTime, uint16_t>{10, 3}));
  EXPECT_EQ(seen[2], (std::pair<SimTime, uint16_t>{15, 2}));
}

TEST(Simulator, RunUntilStopsAtTheBoundary) {
  Simulator sim;
  sim.schedule_at(10, 0, 0);
  sim.schedule_at(11, 0, 1);
  EXPECT_EQ(sim.run_until(10, [](const Event&) {}), 1u);
  EXPECT_EQ(sim.pending(), 1u);
  EXPECT_EQ(sim.run_until(20, [](const Event&) {}), 1u);
}

TEST(Simulator, CancelledEventsDoNotRun) {
  Simulator sim;
  EventHandle a = sim.schedule_cancellable(10, 0, 1);
  EventHandle b = sim.schedule_cancellable(20, 0, 2);
  sim.schedule_at(15, 0, 3);
  EXPECT_EQ(sim.pending(), 3u);
  EXPECT_TRUE(sim.cancel(a));
  EXPECT_FALSE(sim.cancel(a));  // twice
  EXPECT_FALSE(sim.cancel(EventHandle{}));
  EXPECT_EQ(sim.pending(), 2u);
  std::vector<uint32_t> seen;
  sim.run_until(100, [&](const Event& e) { seen.push_back(e.entity); });
  EXPECT_EQ(seen, (std::vector<uint32_t>{3, 2}));
  EXPECT_FALSE(sim.cancel(b));  // already ran
  EXPECT_EQ(sim.pending(), 0u);
}

TEST(Simulator, CancelFromAHandler) {
  Simulator sim;
  EventHandle later = sim.schedule_cancellable(50, 0, 9);
  sim.schedule_at(10, 1, 0);
  int ran = 0;
  sim.run_until(100, [&](const Event& e) {
    ++ran;
    if (e.type == 1) {
      EXPECT_TRUE(sim.cancel(later));
    }
  });
  EXPECT_EQ(ran, 1);
}

// Both queues give the same order on a random workload with many ties.
TEST(Simulator, QuaternaryHeapMatchesBinaryHeap) {
  BasicSimulator<QuaternaryHeapQueue> four;
  BasicSimulator<BinaryHeapQueue> two;
  RandomStream rng(1, 2);
  for (uint32_t i = 0; i < 2000; ++i) {
    const SimTime t = rng.below(300);
    four.schedule_at(t, 0, i);
    two.schedule_at(t, 0, i);
  }
  std::vector<uint32_t> a, b;
  RandomStream ra(3, 4), rb(3, 4);
  four.run_until(100000, [&](const Event& e) {
    a.push_back(e.entity);
    if (a.size() < 5000) four.schedule_in(ra.below(50), 0, e.entity + 10000);
  });
  two.run_until(100000, [&](const Event& e) {
    b.push_back(e.entity);
    if (b.size() < 5000) two.schedule_in(rb.below(50), 0, e.entity + 10000);
  });
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 6999u);
}

// The calendar queue gives exactly the heap's order (time, then insertion)
// on workloads that stress its layout: many ties, pushes into the running
// bucket, far-future outliers that stretch a calendar, bursts at one time,
// a queue drained empty and filled again, and the moves between its small
// (heap) and large (calendar) forms.
TEST(CalendarQueue, MatchesTheHeapOnEveryWorkload) {
  struct Workload {
    const char* name;
    SimTime spread;      // new events land within now + [0, spread)
    SimTime outlier;     // every 97th event lands this far ahead (0: none)
    uint64_t same_time;  // every Nth event lands exactly at now (0: none)
  };
  for (const Workload w :
       {Workload{"ties", 50, 0, 0}, Workload{"wide", 1'000'000'000, 0, 0},
        Workload{"outliers", 1000, 1'000'000'000'000'000, 0}, Workload{"bursts", 100, 0, 3}}) {
    CalendarQueue calendar;
    BinaryHeapQueue heap;
    RandomStream rng(11, 12);
    uint64_t seq = 0;
    SimTime now = 0;
    auto push = [&](SimTime t) {
      Event e;
      e.time = t;
      e.seq = ++seq;
      e.entity = static_cast<uint32_t>(seq);
      calendar.push(e);
      heap.push(e);
    };
    for (int round = 0; round < 3; ++round) {  // drained empty between rounds
      for (int i = 0; i < 20000; ++i) push(now + static_cast<SimTime>(rng.below(w.spread)));
      for (int step = 0; step < 40000 && !heap.empty(); ++step) {
        ASSERT_EQ(calendar.size(), heap.size()) << w.name;
        ASSERT_EQ(calendar.top().seq, heap.top().seq) << w.name << " step " << step;
        now = heap.top().time;
        calendar.pop();
        heap.pop();
        if (step < 30000) {
          SimTime t = now + static_cast<SimTime>(rng.below(w.spread));
          if (w.outlier && seq % 97 == 0) t = now + w.outlier;
          if (w.same_time && seq % w.same_time == 0) t = now;
          push(t);
          if (seq % 5 == 0)
            push(now + static_cast<SimTime>(rng.below(2)));  // into the running bucket
        }
      }
      while (!heap.empty()) {
        ASSERT_EQ(calendar.top().seq, heap.top().seq) << w.name;
        now = heap.top().time;
        calendar.pop();
        heap.pop();
      }
      EXPECT_TRUE(calendar.empty()) << w.name;
    }
  }
}

TEST(CalendarQueue, RunsTheSimulatorLikeTheHeap) {
  BasicSimulator<CalendarQueue> calendar;
  BasicSimulator<BinaryHeapQueue> heap;
  RandomStream rng(1, 2);
  for (uint32_t i = 0; i < 2000; ++i) {
    const SimTime t = rng.below(300);
    calendar.schedule_at(t, 0, i);
    heap.schedule_at(t, 0, i);
  }
  EventHandle ca = calendar.schedule_cancellable(150, 0, 99999);
  EventHandle ha = heap.schedule_cancellable(150, 0, 99999);
  EXPECT_TRUE(calendar.cancel(ca));
  EXPECT_TRUE(heap.cancel(ha));
  std::vector<uint32_t> a, b;
  RandomStream ra(3, 4), rb(3, 4);
  calendar.run_until(100000, [&](const Event& e) {
    a.push_back(e.entity);
    if (a.size() < 5000) calendar.schedule_in(ra.below(50), 0, e.entity + 10000);
  });
  heap.run_until(100000, [&](const Event& e) {
    b.push_back(e.entity);
    if (b.size() < 5000) heap.schedule_in(rb.below(50), 0, e.entity + 10000);
  });
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 6999u);
}

TEST(TimerLane, KeepsOneEventAndDeliversInOrder) {
  Simulator sim;
  TimerLane lane(7, 0);
  EXPECT_TRUE(lane.push(sim, 10, 1));
  EXPECT_TRUE(lane.push(sim, 10, 2));
  EXPECT_TRUE(lane.push(sim, 30, 3));
  EXPECT_FALSE(lane.push(sim, 20, 4));  // earlier than the tail
  EXPECT_EQ(sim.pending(), 1u);
  std::vector<std::pair<SimTime, uint32_t>> seen;
  sim.run_until(100, [&](const Event& e) {
    ASSERT_EQ(e.type, 7);
    const uint32_t who = lane.pop_due(sim);
    seen.emplace_back(sim.now(), who);
    if (who == 1) lane.push(sim, 40, 5);
  });
  EXPECT_EQ(seen, (std::vector<std::pair<SimTime, uint32_t>>{{10, 1}, {10, 2}, {30, 3}, {40, 5}}));
}

TEST(RandomStream, SameSeedAndEntitySameNumbers) {
  RandomStream a(42, 7), b(42, 7), c(42, 8), d(43, 7);
  bool differs_c = false, differs_d = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs_c |= x != c.next();
    differs_d |= x != d.next();
  }
  EXPECT_TRUE(differs_c);
  EXPECT_TRUE(differs_d);
}

TEST(RandomStream, UniformAndExponentialMoments) {
  RandomStream r(5, 5);
  double sum_u = 0, sum_e = 0;
  constexpr int kN = 200000;
  for (int i = 0; i < kN; ++i) {
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum_u += u;
    sum_e += r.exponential(3.0);
  }
  EXPECT_NEAR(sum_u / kN, 0.5, 0.005);
  EXPECT_NEAR(sum_e / kN, 3.0, 0.05);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(7), 7u);
}

}  // namespace
}  // namespace fogm2m::sim
