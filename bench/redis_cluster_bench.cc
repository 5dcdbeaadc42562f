// What routing through RedisClusterLink costs next to a plain RedisLink:
// SET+GET pairs on distinct keys, `batch` of each in flight at once (1: one
// round trip per command; 100: pipelined), against a real redis-server and a
// real Redis Cluster of three masters and three replicas on this machine.
//
//   BM_RedisLink_Standalone      RedisLink, a redis-server not in cluster mode
//   BM_RedisLink_ClusterMaster   RedisLink to one cluster master, keys of its
//                                slots ("{bench}:<i>")
//   BM_RedisClusterLink_OneSlot  RedisClusterLink, the same keys: the same
//                                server and socket, so the difference to the
//                                line above is the routing
//   BM_RedisClusterLink_Spread   RedisClusterLink, keys "bench:<i>" over all
//                                three masters (three sockets)
//
//   build/bench/redis_cluster_bench [--benchmark_repetitions=3]
//
// "Time" is wall time per iteration (the servers' work included, which on a
// small machine shares the cores with the client and with the replicas);
// "CPU" is the client thread's own time, kernel included.
#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/redis_cluster.h"
#include "io/redis_link.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_util.h"

using namespace fogm2m;

namespace {

// Started on first use, stopped at exit (their destructors kill them).
test::RedisServer& single_server() {
  static std::unique_ptr<test::RedisServer> server = [] {
    auto started = test::RedisServer::start();
    if (!started) {
      std::fprintf(stderr, "redis-server: %s\n", started.error().message.c_str());
      std::exit(1);
    }
    return std::move(*started);
  }();
  return *server;
}

test::RedisCluster& cluster() {
  static std::unique_ptr<test::RedisCluster> c = [] {
    auto started = test::RedisCluster::start();
    if (!started) {
      std::fprintf(stderr, "redis cluster: %s\n", started.error().message.c_str());
      std::exit(1);
    }
    return std::move(*started);
  }();
  return *c;
}

std::vector<std::string> bench_keys(size_t n, bool one_slot) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i)
    keys.push_back((one_slot ? "{bench}:" : "bench:") + std::to_string(i));
  return keys;
}

// One iteration: `batch` SETs, then `batch` GETs, each group in flight at
// once; returns when every reply is in.
template <class Link>
void set_get(benchmark::State& state, boost::asio::io_context& io, Link& link, bool one_slot) {
  const auto batch = static_cast<size_t>(state.range(0));
  const std::vector<std::string> keys = bench_keys(batch, one_slot);
  size_t replies = 0, failures = 0;
  auto count = [&](Result<io::RedisReply> r) {
    ++replies;
    if (!r) ++failures;
  };
  // Once untimed: the cluster link connects to each master on first use.
  for (const auto& key : keys) link.command({"SET", key, "value"}, count);
  test::run_until(io, [&] { return replies == batch; });
  for (auto _ : state) {
    replies = 0;
    for (const auto& key : keys) link.command({"SET", key, "value"}, count);
    test::run_until(io, [&] { return replies == batch; });
    for (const auto& key : keys) link.command({"GET", key}, count);
    test::run_until(io, [&] { return replies == 2 * batch; });
  }
  if (failures > 0) state.SkipWithError("commands failed");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 2 * batch));
}

template <class Link>
bool started(boost::asio::io_context& io, Link& link) {
  std::optional<Status> ready;
  link.start([&](Status s) { ready = std::move(s); });
  test::run_until(io, [&] { return ready.has_value(); });
  return ready && *ready;
}

void BM_RedisLink_Standalone(benchmark::State& state) {
  boost::asio::io_context io;
  test::RedisServer& server = single_server();
  io::RedisLink link(io, io::RedisLinkOptions::at(server.host(), server.port()));
  if (!started(io, link)) return state.SkipWithError("link not up");
  set_get(state, io, link, true);
}

void BM_RedisLink_ClusterMaster(benchmark::State& state) {
  boost::asio::io_context io;
  auto master = cluster().master_of(io::redis_cluster_slot("{bench}"));
  if (!master) return state.SkipWithError("no master for {bench}");
  test::RedisServer& server = cluster().server(*master);
  io::RedisLink link(io, io::RedisLinkOptions::at(server.host(), server.port()));
  if (!started(io, link)) return state.SkipWithError("link not up");
  set_get(state, io, link, true);
}

void cluster_link(benchmark::State& state, bool one_slot) {
  boost::asio::io_context io;
  io::RedisClusterOptions options;
  options.seeds = {cluster().address(0)};
  io::RedisClusterLink link(io, options);
  if (!started(io, link)) return state.SkipWithError("cluster link not up");
  set_get(state, io, link, one_slot);
  if (link.stats().moved + link.stats().asked + link.stats().retried > 0)
    state.SkipWithError("redirected: the cluster changed under the benchmark");
}

void BM_RedisClusterLink_OneSlot(benchmark::State& state) {
  cluster_link(state, true);
}

void BM_RedisClusterLink_Spread(benchmark::State& state) {
  cluster_link(state, false);
}

BENCHMARK(BM_RedisLink_Standalone)->Arg(1)->Arg(100)->UseRealTime();
BENCHMARK(BM_RedisLink_ClusterMaster)->Arg(1)->Arg(100)->UseRealTime();
BENCHMARK(BM_RedisClusterLink_OneSlot)->Arg(1)->Arg(100)->UseRealTime();
BENCHMARK(BM_RedisClusterLink_Spread)->Arg(1)->Arg(100)->UseRealTime();

}  // namespace
