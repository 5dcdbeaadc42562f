// Scenario files: the shipped ones load, every kind of mistake is reported
// as "<file>:<line>: <message>" at the line of the offending node.
#include "scenario/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "scenario/faults.h"

namespace fogm2m::scenario {
namespace {

const std::string kFile = "s.yaml";

schema::Scenario load_ok(const std::string& text) {
  auto s = load_scenario_text(text, kFile);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : schema::Scenario();
}

// Asserts the error names line `line` of s.yaml and contains `words`.
void expect_error(const std::string& text, int line, const std::string& words,
                  ErrorKind kind = ErrorKind::kMalformed) {
  auto s = load_scenario_text(text, kFile);
  ASSERT_FALSE(s.ok()) << "accepted:\n" << text;
  const std::string prefix = kFile + ":" + std::to_string(line) + ": ";
  EXPECT_EQ(s.error().message.rfind(prefix, 0), 0u)
      << s.error().message << "\nexpected prefix " << prefix;
  EXPECT_NE(s.error().message.find(words), std::string::npos)
      << s.error().message << "\nexpected: " << words;
  EXPECT_EQ(s.error().kind, kind) << s.error().message;
}

TEST(ScenarioLoader, EmptyMapTakesEveryDefault) {
  auto s = load_ok("{}\n");
  EXPECT_EQ(s.name(), "s");
  EXPECT_EQ(s.mode(), schema::MODE_EMULATE);
  const auto& d = s.defaults();
  EXPECT_EQ(d.devices(), 50u);
  EXPECT_EQ(d.nodes(), 1u);
  EXPECT_EQ(d.request_rate(), 100);
  EXPECT_FALSE(d.dtls());
  EXPECT_EQ(d.cpu_quota_us(), 25000u);
  EXPECT_EQ(d.cpu_period_us(), 100000u);
  EXPECT_EQ(d.memory_limit_mb(), 512u);
  EXPECT_EQ(d.fleets(), 1u);
  EXPECT_EQ(d.sampling_interval_ms(), 50u);
  EXPECT_EQ(d.lifetime_s(), 300u);
  EXPECT_EQ(s.warmup_s(), 5);
  EXPECT_EQ(s.window_s(), 60);
  EXPECT_TRUE(s.observe_all());
  EXPECT_EQ(s.observe_path(), "/3313/0");
  ASSERT_EQ(s.mix_size(), 1);
  EXPECT_EQ(s.mix(0).kind(), "read");
  EXPECT_EQ(s.mix(0).path(), "/3313/0/{xyz}");
  EXPECT_EQ(s.mix(0).weight(), 1);
  EXPECT_EQ(s.arrival(), schema::ARRIVAL_CONSTANT);
  EXPECT_EQ(s.repetitions(), 1u);
  EXPECT_EQ(s.seed(), 1u);
  EXPECT_EQ(s.request_timeout_s(), 5);
  EXPECT_EQ(s.output_dir(), "out/s");
}

TEST(ScenarioLoader, EveryKindOfValue) {
  auto s = load_ok(R"(name: full
mode: sim
defaults: {devices: 10, dtls: true, request_rate: 12.5, memory_limit_mb: 0}
sweep:
  nodes: [1, 3]
  request_rate: {from: 0.5, to: 2, step: 0.5}
warmup_s: 0
window_s: 1.5
observe_all: false
observe_path: /3/0
mix:
  - {kind: read, path: "/3313/0/{xyz}", content_format: TLV, weight: 3}
  - {kind: write, path: /3/0/14, value: "+02:00"}
arrival: poisson
repetitions: 3
seed: 18446744073709551615
output_dir: /tmp/out
request_timeout_s: 0.25
sim_params: sim.yaml
)");
  EXPECT_EQ(s.name(), "full");
  EXPECT_EQ(s.mode(), schema::MODE_SIM);
  EXPECT_EQ(s.defaults().devices(), 10u);
  EXPECT_TRUE(s.defaults().dtls());
  EXPECT_EQ(s.defaults().request_rate(), 12.5);
  EXPECT_EQ(s.defaults().memory_limit_mb(), 0u);
  EXPECT_EQ(s.defaults().nodes(), 1u);  // untouched default
  ASSERT_EQ(s.sweep().nodes_size(), 2);
  EXPECT_EQ(s.sweep().nodes(1), 3u);
  ASSERT_EQ(s.sweep().request_rate_size(), 4);
  EXPECT_EQ(s.sweep().request_rate(0), 0.5);
  EXPECT_EQ(s.sweep().request_rate(3), 2.0);
  EXPECT_EQ(s.warmup_s(), 0);
  EXPECT_EQ(s.window_s(), 1.5);
  EXPECT_FALSE(s.observe_all());
  EXPECT_EQ(s.observe_path(), "/3/0");
  ASSERT_EQ(s.mix_size(), 2);
  EXPECT_EQ(s.mix(0).content_format(), "TLV");
  EXPECT_EQ(s.mix(0).weight(), 3);
  EXPECT_EQ(s.mix(1).value(), "+02:00");
  EXPECT_EQ(s.mix(1).weight(), 1);  // absent weight: 1
  EXPECT_EQ(s.arrival(), schema::ARRIVAL_POISSON);
  EXPECT_EQ(s.repetitions(), 3u);
  EXPECT_EQ(s.seed(), 18446744073709551615ULL);
  EXPECT_EQ(s.output_dir(), "/tmp/out");
  EXPECT_EQ(s.request_timeout_s(), 0.25);
  EXPECT_EQ(s.sim_params(), "sim.yaml");
}

TEST(ScenarioLoader, ExplicitPointsStartFromDefaultsGivenAnywhere) {
  auto s = load_ok(R"(points:
  - {nodes: 2}
  - {devices: 7, request_rate: 30}
defaults: {devices: 99}
)");
  ASSERT_EQ(s.points_size(), 2);
  EXPECT_EQ(s.points(0).devices(), 99u);
  EXPECT_EQ(s.points(0).nodes(), 2u);
  EXPECT_EQ(s.points(1).devices(), 7u);
  EXPECT_EQ(s.points(1).request_rate(), 30);
  EXPECT_EQ(s.points(1).cpu_quota_us(), 25000u);
}

TEST(ScenarioLoader, ShippedScenariosLoad) {
  for (const char* name : {"quick", "thesis", "ci", "gateway", "redis_cluster"}) {
    const std::string path = std::string(FOGM2M_SOURCE_DIR) + "/scenarios/" + name + ".yaml";
    auto s = load_scenario_file(path);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->name(), name);
    EXPECT_EQ(s->output_dir(), std::string("out/") + name);
  }
}

TEST(ScenarioLoader, FileErrors) {
  auto missing = load_scenario_file("/nonexistent/x.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
  EXPECT_NE(missing.error().message.find("/nonexistent/x.yaml"), std::string::npos);

  // Errors carry the path given.
  const auto dir =
      std::filesystem::temp_directory_path() / ("fogm2m-scenario-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "bad.yaml").string();
  std::ofstream(path) << "name: x\nnodes: 3\n";
  auto bad = load_scenario_file(path);
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind(path + ":2: ", 0), 0u) << bad.error().message;
}

TEST(ScenarioLoader, SyntaxErrorsCarryYamlCppsLine) {
  expect_error("name: x\nsweep:\n  devices: [25, 50\nwindow_s: 3\n", 4, "");
  expect_error("name: x\n  bad indent: 1\n", 2, "");
  expect_error("", 1, "empty scenario file");
  expect_error("- a\n- b\n", 1, "expected a map");
}

TEST(ScenarioLoader, UnknownKeys) {
  expect_error("name: x\ndevices: 50\n", 2, "unknown key \"devices\"");
  expect_error("defaults:\n  nodes: 2\n  devcies: 50\n", 3, "unknown key \"devcies\" in defaults");
  expect_error("sweep:\n  rate: [1, 2]\n", 2, "unknown key \"rate\" in sweep");
  expect_error("mix:\n  - {kind: read, path: /3/0, wieght: 2}\n", 2,
               "unknown key \"wieght\" in mix[0]");
  expect_error("sweep:\n  devices: {from: 1, to: 5, by: 1}\n", 2, "unknown key \"by\" in a range");
}

TEST(ScenarioLoader, DuplicateKeys) {
  expect_error("name: x\nwindow_s: 3\nwindow_s: 4\n", 3, "duplicate key \"window_s\"");
  expect_error("defaults:\n  nodes: 1\n  nodes: 2\n", 3, "duplicate key \"nodes\"");
}

TEST(ScenarioLoader, WrongTypes) {
  expect_error("defaults:\n  devices: abc\n", 2,
               "devices: expected a non-negative integer, got \"abc\"");
  expect_error("defaults:\n  devices: 2.5\n", 2, "expected a non-negative integer");
  expect_error("defaults:\n  devices: -5\n", 2, "devices: must not be negative",
               ErrorKind::kInvalidArgument);
  expect_error("defaults:\n  devices: 4294967296\n", 2, "too large", ErrorKind::kInvalidArgument);
  expect_error("defaults:\n  devices: [1, 2]\n", 2, "devices: expected a single value, got a list");
  expect_error("defaults:\n  devices:\n", 2, "devices: missing value");
  expect_error("window_s: soon\n", 1, "window_s: expected a number, got \"soon\"");
  expect_error("window_s: .nan\n", 1, "expected a number");
  expect_error("observe_all: maybe\n", 1, "expected true or false");
  expect_error("mode: emulated\n", 1, "unknown value \"emulated\" (one of: emulate, sim)");
  expect_error("arrival: bursty\n", 1, "(one of: constant, poisson)");
  expect_error("defaults: 5\n", 1, "defaults: expected a map of keys, got a scalar");
  expect_error("\n\nsweep:\n  nodes: 3\n", 4,
               "nodes: expected a list or a range {from, to, step}, got a scalar");
  expect_error("sweep:\n  dtls: {from: 0, to: 1, step: 1}\n", 2,
               "dtls: expected a list, got a map");
  expect_error("sweep:\n  nodes: [1, x]\n", 2, "expected a non-negative integer, got \"x\"");
  expect_error("mix: {kind: read}\n", 1, "mix: expected a list, got a map");
  expect_error("mix:\n  - read\n", 2, "each entry must be a map");
}

TEST(ScenarioLoader, ImpossibleValues) {
  const auto kInvalid = ErrorKind::kInvalidArgument;
  expect_error("defaults:\n  nodes: 0\n", 2, "nodes must be at least 1", kInvalid);
  expect_error("defaults:\n  devices: 0\n", 2, "devices must be at least 1", kInvalid);
  expect_error("defaults:\n  request_rate: 0\n", 2, "request_rate must be > 0", kInvalid);
  expect_error("defaults:\n  request_rate: -3\n", 2, "request_rate must be > 0", kInvalid);
  expect_error("defaults:\n  cpu_period_us: 999\n", 2,
               "cpu_period_us must be within [1000, 1000000]", kInvalid);
  expect_error("defaults:\n  cpu_period_us: 1000001\n", 2, "cpu_period_us", kInvalid);
  expect_error("defaults:\n  cpu_quota_us: 500\n", 2,
               "cpu_quota_us must be 0 (unlimited) or at least 1000", kInvalid);
  expect_error("defaults:\n  fleets: 0\n", 2, "fleets must be at least 1", kInvalid);
  expect_error("window_s: 0\n", 1, "window_s must be > 0", kInvalid);
  expect_error("name: a\nwindow_s: -1\n", 2, "window_s must be > 0", kInvalid);
  expect_error("warmup_s: -1\n", 1, "warmup_s must be >= 0", kInvalid);
  expect_error("request_timeout_s: 0\n", 1, "request_timeout_s must be > 0", kInvalid);
  expect_error("repetitions: 0\n", 1, "repetitions must be at least 1", kInvalid);
  expect_error("observe_path: nowhere\n", 1, "observe_path is not an LwM2M path", kInvalid);
  expect_error("name: \"a b\"\n", 1, "name may hold only", kInvalid);
  // Sweep axes: the line of the bad value within a block list.
  expect_error("sweep:\n  nodes:\n    - 1\n    - 0\n", 4, "nodes must be at least 1", kInvalid);
  expect_error("sweep:\n  devices: []\n", 2, "devices: empty list", ErrorKind::kMalformed);
  expect_error("sweep:\n  devices: [25, 50, 25]\n", 2, "value 25 appears twice", kInvalid);
  expect_error("sweep:\n  cpu_period_us: [100000, 50]\n", 2, "cpu_period_us must be within",
               kInvalid);
  // Ranges.
  expect_error("sweep:\n  devices: {from: 25, to: 225,\n            step: 0}\n", 3,
               "range step must be > 0", kInvalid);
  expect_error("sweep:\n  devices: {from: 225, to: 25, step: 25}\n", 2,
               "range never reaches to 25 from 225", kInvalid);
  expect_error("sweep:\n  devices:\n    from: 0\n    to: 10\n    step: 3\n", 5,
               "does not end on 10", kInvalid);
  expect_error("sweep:\n  devices: {from: 1, to: 5}\n", 2, "step is missing");
  expect_error("sweep:\n  devices: {from: 0, to: 5, step: 1}\n", 2, "devices must be at least 1",
               kInvalid);
  expect_error("sweep:\n  request_rate: {from: 0, to: 1e9, step: 1}\n", 2, "more than", kInvalid);
  // Mix.
  expect_error("mix:\n  - {kind: reed, path: /3/0}\n", 2, "unknown request kind \"reed\"",
               kInvalid);
  expect_error("mix:\n  - kind: read\n    path: /3/0\n    weight: 0\n", 4, "weight must be > 0",
               kInvalid);
  expect_error("mix:\n  - {kind: read, path: /3/0}\n  - {kind: read, path: /3/0, weight: -1}\n", 3,
               "weight must be > 0", kInvalid);
  expect_error("mix:\n  - {kind: read, path: 3/0}\n", 2, "request path is not an LwM2M path",
               kInvalid);
  expect_error("mix:\n  - {kind: read, path: /3/0, content_format: XML}\n", 2,
               "unknown content format \"XML\"", kInvalid);
  expect_error("mix:\n  - {kind: write, path: /3/0/14}\n", 2, "a write needs a value", kInvalid);
  expect_error("mix: []\n", 1, "mix: empty list");
  // Explicit points: the line of the point's own bad value.
  expect_error("points:\n  - {nodes: 2}\n  - {nodes: 0}\n", 3, "nodes must be at least 1",
               kInvalid);
  expect_error("points: []\n", 1, "points: empty list");
  expect_error("sweep:\n  nodes: [1]\npoints:\n  - {nodes: 2}\n", 3, "either sweep or points",
               kInvalid);
}

TEST(ScenarioLoader, QuotaMayExceedPeriod) {
  auto s = load_ok("defaults: {cpu_quota_us: 200000, cpu_period_us: 100000}\n");
  EXPECT_EQ(s.defaults().cpu_quota_us(), 200000u);
}

TEST(ScenarioLoaderFaults, AFaultListIsReadWithItsTargets) {
  auto s = load_scenario_text(
      "defaults: {nodes: 3}\nwarmup_s: 5\nwindow_s: 80\nredis_persistence: always\nfaults:\n"
      "  - {at_s: 20, kind: kill_node, target: node-2}\n"
      "  - {at_s: 40, kind: restart_redis}\n"
      "  - {at_s: 60, kind: partition_node, target: node3, duration_s: 10}\n"
      "  - {at_s: 75, kind: rebind_devices}\n",
      "f.yaml");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->faults_size(), 4);
  EXPECT_EQ(s->faults(3).kind(), "rebind_devices");
  EXPECT_EQ(s->redis_persistence(), "always");
  EXPECT_EQ(s->faults(0).kind(), "kill_node");
  EXPECT_EQ(*fault_node_index(s->faults(0).target()), 2);
  EXPECT_EQ(*fault_node_index(s->faults(2).target()), 3);
  EXPECT_EQ(s->faults(2).duration_s(), 10);
}

TEST(ScenarioLoaderFaults, BadFaultsNameTheirLine) {
  const std::string head = "defaults: {nodes: 2}\nwindow_s: 30\nfaults:\n";
  auto expect = [&](const std::string& fault, const std::string& words) {
    auto s = load_scenario_text(head + fault, "f.yaml");
    ASSERT_FALSE(s.ok()) << fault;
    EXPECT_NE(s.error().message.find("f.yaml:4: "), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find(words), std::string::npos) << s.error().message;
  };
  expect("  - {at_s: 1, kind: melt_node, target: node-1}\n", "unknown fault kind \"melt_node\"");
  expect("  - {at_s: 1, kind: kill_node, target: node-3}\n", "deploys 2 node(s)");
  expect("  - {at_s: 1, kind: kill_node, target: redis}\n", "is not a node");
  expect("  - {at_s: 1, kind: stop_node, target: node-1}\n", "needs duration_s > 0");
  expect("  - {at_s: 1, kind: kill_node, target: node-1, duration_s: 3}\n",
         "duration_s applies to stop_node and partition_node only");
  expect("  - {at_s: 99, kind: restart_redis}\n", "at_s must fall within the load");
  expect("  - {at_s: 1, kind: restart_redis, target: node-1}\n", "takes target redis");
  expect("  - {at_s: 1, kind: rebind_devices, target: node-1}\n", "takes target fleets");
  expect("  - {at_s: 1, kind: rebind_devices, duration_s: 2}\n", "duration_s applies to");
  auto persistence = load_scenario_text("redis_persistence: sometimes\n", "f.yaml");
  ASSERT_FALSE(persistence.ok());
  EXPECT_NE(persistence.error().message.find("f.yaml:1: redis_persistence must be"),
            std::string::npos)
      << persistence.error().message;
}

TEST(LoaderTest, CpuPlacementIsSharedOrSplit) {
  auto split = load_scenario_text("name: x\ncpu_placement: split\n", "f.yaml");
  ASSERT_TRUE(split.ok()) << split.error().message;
  EXPECT_EQ(split->cpu_placement(), "split");
  auto bad = load_scenario_text("name: x\n\ncpu_placement: pinned\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f.yaml:3: cpu_placement must be shared"), std::string::npos)
      << bad.error().message;
}

TEST(LoaderTest, RepetitionOrderIsConsecutiveOrInterleaved) {
  auto interleaved = load_scenario_text("name: x\nrepetition_order: interleaved\n", "f.yaml");
  ASSERT_TRUE(interleaved.ok()) << interleaved.error().message;
  EXPECT_EQ(interleaved->repetition_order(), "interleaved");
  auto bad = load_scenario_text("name: x\nrepetitions: 3\nrepetition_order: shuffled\n", "f.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("f.yaml:3: repetition_order must be consecutive"),
            std::string::npos)
      << bad.error().message;
}

TEST(LoaderTest, ViaIsBusOrGateway) {
  EXPECT_EQ(load_ok("name: x\n").via(), schema::VIA_BUS);
  EXPECT_EQ(load_ok("name: x\nvia: bus\n").via(), schema::VIA_BUS);
  EXPECT_EQ(load_ok("name: x\nvia: gateway\n").via(), schema::VIA_GATEWAY);
  expect_error("name: x\nwindow_s: 3\nvia: rest\n", 3,
               "via: unknown value \"rest\" (one of: bus, gateway)");
  expect_error("name: x\nvia: [gateway]\n", 2, "via: expected a single value");
}

TEST(LoaderTest, BackendIsNamespacesOrContainer) {
  EXPECT_EQ(load_ok("name: x\n").backend(), schema::BACKEND_NAMESPACES);
  EXPECT_EQ(load_ok("name: x\nbackend: namespaces\n").backend(), schema::BACKEND_NAMESPACES);
  EXPECT_EQ(load_ok("name: x\nbackend: container\n").backend(), schema::BACKEND_CONTAINER);
  expect_error("name: x\nwindow_s: 3\nbackend: docker\n", 3,
               "backend: unknown value \"docker\" (one of: namespaces, container)");
  expect_error("name: x\nbackend: [container]\n", 2, "backend: expected a single value");
  EXPECT_EQ(load_ok("name: x\nvia: gateway\nbackend: container\n").via(), schema::VIA_GATEWAY);
  expect_error(
      "name: x\nbackend: container\nfaults: [{at_s: 1, kind: kill_node, target: node-1}]\n", 2,
      "backend container does not inject faults", ErrorKind::kInvalidArgument);
}

TEST(LoaderTest, BusModeIsAPointFieldThatCanBeSwept) {
  EXPECT_EQ(load_ok("name: x\n").defaults().bus_mode(), schema::BUS_MODE_UNSPECIFIED);
  EXPECT_EQ(load_ok("name: x\ndefaults: {bus_mode: routed}\n").defaults().bus_mode(),
            schema::BUS_MODE_ROUTED);
  auto swept = load_ok("name: x\nsweep:\n  nodes: [1, 3]\n  bus_mode: [broadcast, routed]\n");
  ASSERT_EQ(swept.sweep().bus_mode_size(), 2);
  EXPECT_EQ(swept.sweep().bus_mode(0), schema::BUS_MODE_BROADCAST);
  EXPECT_EQ(swept.sweep().bus_mode(1), schema::BUS_MODE_ROUTED);
  expect_error("name: x\ndefaults:\n  bus_mode: multicast\n", 3,
               "bus_mode: unknown value \"multicast\" (one of: unspecified, broadcast, routed)");
  expect_error("name: x\nsweep:\n  bus_mode: [routed, routed]\n", 3,
               "sweep.bus_mode: value routed appears twice", ErrorKind::kInvalidArgument);
}

TEST(LoaderTest, RedisIsAPointFieldThatCanBeSwept) {
  EXPECT_EQ(load_ok("name: x\n").defaults().redis(), schema::REDIS_MODE_UNSPECIFIED);
  EXPECT_EQ(load_ok("name: x\ndefaults: {redis: cluster}\n").defaults().redis(),
            schema::REDIS_MODE_CLUSTER);
  auto swept = load_ok("name: x\nsweep:\n  nodes: [1, 5]\n  redis: [single, cluster]\n");
  ASSERT_EQ(swept.sweep().redis_size(), 2);
  EXPECT_EQ(swept.sweep().redis(0), schema::REDIS_MODE_SINGLE);
  EXPECT_EQ(swept.sweep().redis(1), schema::REDIS_MODE_CLUSTER);
  expect_error("name: x\ndefaults:\n  redis: sentinel\n", 3,
               "redis: unknown value \"sentinel\" (one of: unspecified, single, cluster)");
}

TEST(LoaderTest, RoutedBusModeNeedsTheBusPath) {
  // The testbed's gateway publishes in broadcast mode: a routed point
  // through it would not measure what it says.
  expect_error("name: x\nvia: gateway\ndefaults:\n  nodes: 2\n  bus_mode: routed\n", 5,
               "bus_mode routed needs via: bus", ErrorKind::kInvalidArgument);
  expect_error("name: x\nvia: gateway\nsweep:\n  bus_mode:\n    - broadcast\n    - routed\n", 6,
               "bus_mode routed needs via: bus", ErrorKind::kInvalidArgument);
  EXPECT_EQ(
      load_ok("name: x\nvia: gateway\ndefaults: {bus_mode: broadcast}\n").defaults().bus_mode(),
      schema::BUS_MODE_BROADCAST);
  // The simulator models the bus path whatever `via` says.
  EXPECT_EQ(load_ok("name: x\nmode: sim\nvia: gateway\ndefaults: {bus_mode: routed}\n")
                .defaults()
                .bus_mode(),
            schema::BUS_MODE_ROUTED);
}

}  // namespace
}  // namespace fogm2m::scenario
