// The runner end to end on a real cluster of this machine (as root): a small
// scenario deploys Redis, nodes under CPU quotas in their namespaces, the
// nftables load balancer and a fleet, loads it through the bus and writes
// records with every field filled and plausible; --resume then runs nothing
// again, and --shard splits the points.
#include "runner/scenario_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "results/latency_file.h"
#include "results/record_reader.h"
#include "testbed/cgroup.h"
#include "testbed/cleanup.h"
#include "testbed/command.h"
#include "testbed/netns.h"

namespace fogm2m::runner {
namespace {

namespace fs = std::filesystem;

class ScenarioRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, cgroups, nftables)";
    dir_ = fs::temp_directory_path() / ("runner-test-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    scenario_ = (dir_ / "tiny.yaml").string();
    std::ofstream(scenario_) << R"(name: tiny
mode: emulate
defaults: {devices: 12, cpu_quota_us: 50000, cpu_period_us: 100000, memory_limit_mb: 256, sampling_interval_ms: 100}
sweep:
  nodes: [1, 2]
  request_rate: [40]
warmup_s: 1
window_s: 3
observe_all: true
request_timeout_s: 3
)";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RunnerOptions options(const std::string& out) const {
    RunnerOptions o;
    o.scenario_file = scenario_;
    o.output_dir = (dir_ / out).string();
    o.fogm2m_binary = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";
    o.git_revision = "test";
    o.sample_interval_s = 0.25;
    return o;
  }

  fs::path dir_;
  std::string scenario_;
};

TEST_F(ScenarioRunner, RunsEveryPointOnARealClusterAndRecordsPlausibleFigures) {
  auto summary = run_scenario(options("out"));
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->planned, 2u);
  EXPECT_EQ(summary->completed, 2u);
  EXPECT_EQ(summary->failed, 0u);

  auto records = results::read_records((dir_ / "out").string());
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  for (const auto& r : *records) {
    SCOPED_TRACE("point " + std::to_string(r.point_index()));
    EXPECT_TRUE(r.error().empty()) << r.error();
    EXPECT_EQ(r.nodes_size(), static_cast<int>(r.point().nodes()));
    EXPECT_NEAR(r.requests_sent(), 120, 2);  // 40/s over 3 s
    EXPECT_EQ(r.requests_answered() + r.requests_errored(), r.requests_sent());
    EXPECT_GE(r.requests_answered(), r.requests_sent() * 9 / 10);
    EXPECT_GT(r.latency().mean_ms(), 0);
    EXPECT_GE(r.latency().p99_ms(), r.latency().p50_ms());
    EXPECT_GE(r.latency().max_ms(), r.latency().p99_ms());
    EXPECT_GT(r.notifications_received(), 0) << "observe_all: every device notifies";
    uint32_t owned = 0;
    for (const auto& n : r.nodes()) {
      EXPECT_GE(n.throttling_ratio(), 0.0);
      EXPECT_LE(n.throttling_ratio(), 1.0);
      EXPECT_GT(n.cpu_s(), 0);
      EXPECT_GT(n.memory_peak_bytes(), 0);
      EXPECT_GT(n.rx_bytes(), 0);
      EXPECT_GT(n.tx_bytes(), 0);
      EXPECT_GT(n.rx_packets(), 0);
      // Each notification or request message wakes an idle node at most
      // once; replies from Redis may wake it again.
      EXPECT_GT(n.wakeups(), 0);
      EXPECT_LT(n.wakeups(), 4 * (n.rx_packets() + 1));
      owned += n.registrations();
    }
    EXPECT_EQ(owned, 12u);
    EXPECT_GT(r.host().speed_probe_us(), 0) << "the host is sampled with the targets";
    EXPECT_GE(r.host().steal_ratio(), 0);
    EXPECT_LE(r.host().steal_ratio(), 1);
    EXPECT_EQ(r.fleet().registered(), 12u);
    EXPECT_GT(r.fleet().notifications_sent(), 0);
    EXPECT_GT(r.fleet().requests_answered(), 0);
    EXPECT_GT(r.fleet().process().cpu_s(), 0);
    EXPECT_GT(r.redis().cpu_s(), 0);
    auto samples = results::read_latency_samples((dir_ / "out" / r.latency_file()).string());
    ASSERT_TRUE(samples.ok());
    EXPECT_EQ(samples->size(), r.requests_answered());
  }
  EXPECT_TRUE(fs::exists(dir_ / "out" / "records.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "metadata.json"));

  // Without --resume an existing output is refused; with it nothing is left to run.
  EXPECT_FALSE(run_scenario(options("out")).ok());
  RunnerOptions resume = options("out");
  resume.resume = true;
  auto again = run_scenario(resume);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->planned, 0u);
  EXPECT_EQ(again->skipped, 2u);
}

// A fault run: a node killed, Redis restarted from its AOF, a node cut off,
// every device rebound to a new port (NAT rebinding). The record says what
// each fault cost; nothing registered is lost.
TEST_F(ScenarioRunner, AFaultRunRecordsWhatEachFaultCost) {
  std::ofstream(scenario_) << R"(name: faulty
mode: emulate
defaults: {devices: 30, nodes: 3, request_rate: 40, cpu_quota_us: 50000, cpu_period_us: 100000, memory_limit_mb: 256, sampling_interval_ms: 100}
warmup_s: 1
window_s: 17
observe_all: true
request_timeout_s: 5
redis_persistence: always
faults:
  - {at_s: 3, kind: kill_node, target: node-2}
  - {at_s: 6, kind: restart_redis}
  - {at_s: 9, kind: partition_node, target: node-3, duration_s: 3}
  - {at_s: 14, kind: rebind_devices}
)";
  auto summary = run_scenario(options("faults"));
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  auto records = results::read_records((dir_ / "faults").string());
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  const schema::ResultRecord& r = records->front();
  ASSERT_TRUE(r.error().empty()) << r.error();
  EXPECT_EQ(r.requests_answered() + r.requests_errored(), r.requests_sent());
  const schema::FaultStats& f = r.faults();
  ASSERT_EQ(f.faults_size(), 4);
  for (const auto& o : f.faults()) {
    SCOPED_TRACE(o.fault().kind());
    EXPECT_TRUE(o.error().empty()) << o.error();
    EXPECT_GE(o.recovery_s(), 0) << "did not recover within the run";
    // Requests in flight at a dead node or a restarting Redis are published
    // again (bus/loss_resender.h, bus/node_watch.h): answered or errored,
    // never left to time out.
    EXPECT_EQ(o.requests_timed_out(), 0u);
  }
  // The health check took the dead and the cut-off node out of the balancer.
  EXPECT_GT(f.faults(0).lb_removed_after_s(), 0);
  EXPECT_GT(f.faults(2).lb_removed_after_s(), 0);
  EXPECT_EQ(f.faults(1).lb_removed_after_s(), -1);
  EXPECT_EQ(f.faults(3).lb_removed_after_s(), -1);
  EXPECT_EQ(f.registrations_before(), 30u);
  EXPECT_EQ(f.registrations_lost(), 0u);
  EXPECT_EQ(f.observed_devices(), 30u);
  EXPECT_EQ(f.observations_lost(), 0u);
  std::ifstream timeline(dir_ / "faults" / f.timeline_file());
  std::string header;
  std::getline(timeline, header);
  EXPECT_EQ(header.rfind("second,sent,answered,err,timed_out,p99_ms,notifications,events", 0), 0u)
      << header;
  EXPECT_NE(header.find("owned_node1"), std::string::npos) << header;
}

// What a run may leave on this host: run ids (namespaces, lock files),
// fm-* namespaces, fogm2m_* nftables tables in the root namespace, fogm2m-*
// cgroups, and processes started with the run's output directory in their
// command line (the gateway's --token-file, the fleets' --stats-file).
struct HostTraces {
  std::vector<std::string> runs, namespaces, tables, cgroups, processes;
};

HostTraces host_traces(const std::string& marker) {
  HostTraces t;
  t.runs = testbed::list_runs();
  t.namespaces = testbed::list_netns(testbed::kNetnsPrefix);
  if (auto tables = testbed::run_command({"nft", "list", "tables"}); tables) {
    std::istringstream in(tables->out);
    for (std::string line; std::getline(in, line);)
      if (line.find("fogm2m_") != std::string::npos) t.tables.push_back(line);
  }
  if (auto host = testbed::CgroupHost::detect(); host) {
    for (const auto& h : host->hierarchies())
      for (const std::string& dir : {h.own_dir, fs::path(h.own_dir).parent_path().string()}) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec))
          if (entry.is_directory() && entry.path().filename().string().starts_with("fogm2m-"))
            t.cgroups.push_back(entry.path().string());
      }
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos && pid != std::to_string(::getpid()))
      t.processes.push_back(pid + ": " + cmdline);
  }
  std::sort(t.cgroups.begin(), t.cgroups.end());
  return t;
}

// `via: gateway`: the testbed runs the gateway and the load goes through its
// REST API. Every request is answered, the record has the gateway's CPU and
// the latency it added, and the run leaves nothing behind.
TEST_F(ScenarioRunner, DrivesTheClusterThroughTheGateway) {
  std::ofstream(scenario_) << R"(name: via-gateway
mode: emulate
via: gateway
defaults: {devices: 12, nodes: 2, request_rate: 40, cpu_quota_us: 50000, cpu_period_us: 100000, memory_limit_mb: 256, sampling_interval_ms: 100}
warmup_s: 1
window_s: 3
observe_all: true
request_timeout_s: 3
)";
  const HostTraces before = host_traces(dir_.string());
  auto summary = run_scenario(options("gateway"));
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->completed, 1u);
  EXPECT_EQ(summary->failed, 0u);

  auto records = results::read_records((dir_ / "gateway").string());
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  const schema::ResultRecord& r = records->front();
  ASSERT_TRUE(r.error().empty()) << r.error();
  EXPECT_NEAR(r.requests_sent(), 120, 2);  // 40/s over 3 s
  EXPECT_GT(r.requests_answered(), 0u);
  EXPECT_EQ(r.requests_errored(), 0u);
  EXPECT_EQ(r.requests_answered(), r.requests_sent());
  EXPECT_GT(r.latency().p50_ms(), 0);
  EXPECT_GT(r.notifications_received(), 0) << "observed through the gateway, counted on the bus";
  ASSERT_TRUE(r.has_gateway());
  const schema::GatewayStats& g = r.gateway();
  EXPECT_GT(g.process().cpu_s(), 0);
  EXPECT_GT(g.cpu_ms_per_1000_requests(), 0);
  EXPECT_GT(g.process().memory_peak_bytes(), 0);
  EXPECT_EQ(g.timed_requests(), r.requests_answered()) << "every answer carried Server-Timing";
  EXPECT_GT(g.added_latency().p50_ms(), 0);
  EXPECT_GE(g.added_latency().p99_ms(), g.added_latency().p50_ms());
  EXPECT_LE(g.added_latency().p50_ms(), r.latency().p50_ms());
  EXPECT_GT(r.redis().cpu_s(), 0);

  // The JSON line and the CSV row carry them.
  std::ifstream jsonl(dir_ / "gateway" / "records.jsonl");
  std::string line;
  std::getline(jsonl, line);
  for (const char* field : {"\"gateway\":{", "\"cpu_ms_per_1000_requests\":", "\"added_latency\":{",
                            "\"timed_requests\":"})
    EXPECT_NE(line.find(field), std::string::npos) << field;
  std::ifstream csv(dir_ / "gateway" / "records.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_NE(header.find("gateway_added_p99_ms"), std::string::npos) << header;

  // Nothing left: no run, namespace, table, cgroup or process of it.
  const HostTraces after = host_traces(dir_.string());
  EXPECT_EQ(after.runs, before.runs);
  EXPECT_EQ(after.namespaces, before.namespaces);
  EXPECT_EQ(after.tables, before.tables);
  EXPECT_EQ(after.cgroups, before.cgroups);
  EXPECT_EQ(after.processes, std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(dir_ / "gateway" / "work")) << "the work dir (and the token) is gone";
}

// `redis: cluster`: the testbed starts a Redis Cluster of 6 redis-servers,
// the nodes, the gateway-less bus and the load generator use it (sharded
// pub/sub), and everything is gone afterwards.
TEST_F(ScenarioRunner, RunsOnARedisCluster) {
  std::ofstream(scenario_) << R"(name: on-cluster
mode: emulate
defaults: {devices: 12, nodes: 2, request_rate: 40, redis: cluster, cpu_quota_us: 50000, cpu_period_us: 100000, memory_limit_mb: 256, sampling_interval_ms: 100}
warmup_s: 1
window_s: 3
observe_all: true
request_timeout_s: 3
)";
  const HostTraces before = host_traces(dir_.string());
  auto run_options = options("cluster");
  run_options.keep_work = true;  // --keep-work: the processes' logs stay
  auto summary = run_scenario(run_options);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  EXPECT_EQ(summary->completed, 1u);
  EXPECT_EQ(summary->failed, 0u);
  size_t node_logs = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "cluster" / "work"))
    if (entry.path().extension() == ".log" &&
        entry.path().filename().string().rfind("node", 0) == 0)
      ++node_logs;
  EXPECT_EQ(node_logs, 2u) << "each node's log is kept in <out>/work";
  auto records = results::read_records((dir_ / "cluster").string());
  ASSERT_TRUE(records.ok()) << records.error().message;
  ASSERT_EQ(records->size(), 1u);
  const schema::ResultRecord& r = records->front();
  ASSERT_TRUE(r.error().empty()) << r.error();
  EXPECT_EQ(r.point().redis(), schema::REDIS_MODE_CLUSTER);
  EXPECT_NEAR(r.requests_sent(), 120, 2);  // 40/s over 3 s
  EXPECT_GE(r.requests_answered(), r.requests_sent() * 9 / 10);
  EXPECT_GT(r.notifications_received(), 0) << "observe_all: notifications over sharded pub/sub";
  uint32_t owned = 0;
  for (const auto& n : r.nodes()) owned += n.registrations();
  EXPECT_EQ(owned, 12u);
  EXPECT_EQ(r.fleet().registered(), 12u);

  const HostTraces after = host_traces(dir_.string());
  EXPECT_EQ(after.runs, before.runs);
  EXPECT_EQ(after.namespaces, before.namespaces);
  EXPECT_EQ(after.tables, before.tables);
  EXPECT_EQ(after.cgroups, before.cgroups);
  EXPECT_EQ(after.processes, std::vector<std::string>{});
}

TEST_F(ScenarioRunner, RejectsAnUnknownRedisMode) {
  std::ofstream(scenario_) << "name: bad\nmode: emulate\ndefaults:\n  redis: sentinel\n";
  auto summary = run_scenario(options("bad-redis"));
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message.find("tiny.yaml:4:"), std::string::npos)
      << summary.error().message;
  EXPECT_NE(summary.error().message.find("cluster"), std::string::npos) << summary.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "bad-redis"));
}

TEST_F(ScenarioRunner, RejectsABadScenarioBeforeDeployingAnything) {
  std::ofstream(scenario_) << "name: bad\nsweep:\n  nodes: [1, 0]\n";
  auto summary = run_scenario(options("bad-out"));
  ASSERT_FALSE(summary.ok());
  EXPECT_NE(summary.error().message.find("tiny.yaml:3:"), std::string::npos)
      << summary.error().message;
  EXPECT_FALSE(fs::exists(dir_ / "bad-out"));
}

}  // namespace
}  // namespace fogm2m::runner
