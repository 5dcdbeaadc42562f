// Parallel sweep over points, in-order delivery (see sweep_runner.h).
#include "sim/sweep_runner.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

namespace fogm2m::sim {

std::vector<SweepRun> all_runs(const std::vector<schema::Point>& points, uint32_t repetitions) {
  std::vector<SweepRun> runs;
  const uint32_t reps = std::max<uint32_t>(1, repetitions);
  for (uint32_t i = 0; i < points.size(); ++i)
    for (uint32_t r = 0; r < reps; ++r) runs.push_back({i, r, points[i]});
  return runs;
}

Status run_sweep(const schema::Scenario& scenario, const std::vector<SweepRun>& runs,
                 const SimParams& params, unsigned threads, const SweepSink& sink) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<size_t>(1, runs.size()));
  std::vector<std::optional<Result<PointOutcome>>> slots(runs.size());
  std::mutex mu;
  std::condition_variable ready;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  // Workers stay at most this far ahead of the sink, so memory stays bounded.
  const size_t max_ahead = 4 * threads;
  size_t delivered = 0;
  std::condition_variable room;

  auto worker = [&] {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= runs.size() || stop.load()) return;
      {
        std::unique_lock lock(mu);
        room.wait(lock, [&] { return i < delivered + max_ahead || stop.load(); });
        if (stop.load()) return;
      }
      Result<PointOutcome> r =
          simulate_point(scenario, runs[i].point, runs[i].point_index, runs[i].repetition, params);
      std::lock_guard lock(mu);
      slots[i].emplace(std::move(r));
      ready.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);

  Status status;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::optional<Result<PointOutcome>> outcome;
    {
      std::unique_lock lock(mu);
      ready.wait(lock, [&] { return slots[i].has_value(); });
      outcome = std::move(slots[i]);
      slots[i].reset();
    }
    status = sink(runs[i], *outcome);
    {
      std::lock_guard lock(mu);
      delivered = i + 1;
      if (!status) stop = true;
    }
    room.notify_all();
    if (!status) break;
  }
  for (auto& t : pool) t.join();
  return status;
}

}  // namespace fogm2m::sim
