#include "runner/scenario_runner.h"

#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "emulated_clients/name_pattern.h"
#include "results/latency_file.h"
#include "results/record_reader.h"
#include "results/record_writer.h"
#include "results/run_metadata.h"
#include "runner/fault_injector.h"
#include "runner/fault_stats.h"
#include "runner/load_generator.h"
#include "runner/load_result.h"
#include "scenario/loader.h"
#include "store/keys.h"
#include "testbed/cluster_backend.h"
#include "testbed/cpu_placement.h"
#include "testbed/deployment.h"
#include "testbed/netns.h"
#include "testbed/sampler.h"

namespace fogm2m::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

bool cancelled(const std::atomic<bool>* cancel) {
  return cancel && cancel->load();
}

testbed::DeploymentConfig deployment_config(const schema::Scenario& scenario,
                                            const schema::Point& p, const RunnerOptions& options,
                                            const std::string& work_dir,
                                            const std::optional<testbed::CpuSplit>& split) {
  testbed::DeploymentConfig c;
  c.nodes = static_cast<int>(p.nodes());
  c.node_limits.cpu_quota_us = p.cpu_quota_us();
  c.node_limits.cpu_period_us = p.cpu_period_us() ? p.cpu_period_us() : 100000;
  c.node_limits.memory_limit_bytes = static_cast<uint64_t>(p.memory_limit_mb()) << 20;
  c.fleet_limits.cpu_quota_us = p.fleet_cpu_quota_us();
  c.fleet_limits.cpu_period_us = p.cpu_period_us() ? p.cpu_period_us() : 100000;
  c.fleet_limits.memory_limit_bytes = static_cast<uint64_t>(p.fleet_memory_limit_mb()) << 20;
  c.devices = static_cast<int>(p.devices());
  c.fleets = static_cast<int>(std::max<uint32_t>(1, p.fleets()));
  c.dtls = p.dtls();
  c.device_lifetime_s = static_cast<int>(p.lifetime_s());
  c.sampling_ms = static_cast<int>(p.sampling_interval_ms());
  c.seed = scenario.seed();
  c.fogm2m_binary = options.fogm2m_binary;
  c.fleet_args = {"--stats-interval", "0.25"};  // fresh counters at the window edges
  if (p.bus_ack_delay_ms() > 0)
    c.node_args.insert(c.node_args.end(),
                       {"--bus-ack-delay-ms", std::to_string(p.bus_ack_delay_ms())});
  if (p.node_coalesce_us() > 0)
    c.node_args.insert(c.node_args.end(), {"--coalesce-us", std::to_string(p.node_coalesce_us())});
  c.redis_appendfsync = scenario.redis_persistence();
  c.redis_cluster = p.redis() == schema::REDIS_MODE_CLUSTER;
  c.work_dir = work_dir;
  c.gateway = scenario.via() == schema::VIA_GATEWAY;
  if (split) {
    c.node_limits.cpus = testbed::cpu_list(split->nodes);
    c.fleet_limits.cpus = c.redis_limits.cpus = c.gateway_limits.cpus =
        testbed::cpu_list(split->others);
  }
  return c;
}

// Endpoint names of the deployment's devices ({n} counts from 1 over all fleets).
std::vector<std::string> endpoints_of(const testbed::ClusterBackend& d) {
  std::vector<std::string> out;
  auto pattern = emulated::NamePattern::parse(d.config().endpoint_pattern, false);
  if (!pattern) return out;
  for (const auto& f : d.fleets())
    for (int i = 0; i < f.devices; ++i)
      out.push_back(pattern->format(static_cast<uint64_t>(f.first_device + i)));
  return out;
}

boost::json::object read_json_file(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  return !ec && v.is_object() ? v.as_object() : boost::json::object{};
}

double json_number(const boost::json::object& o, const char* key) {
  if (!o.contains(key)) return 0;
  const auto& v = o.at(key);
  return v.is_number() ? v.to_number<double>() : 0;
}

// Sums the counters of every fleet's stats file.
std::map<std::string, double> fleet_counters(const testbed::ClusterBackend& d) {
  std::map<std::string, double> sum;
  for (const auto& f : d.fleets()) {
    const auto o = read_json_file(f.stats_path);
    for (const char* key : {"registered", "notifications_sent", "requests_answered",
                            "retransmissions", "errors", "timeouts"})
      sum[key] += json_number(o, key);
  }
  return sum;
}

void fill_process(const testbed::TargetSummary& s, schema::ProcessStats* out) {
  out->set_cpu_s(s.cpu_s);
  out->set_memory_mean_bytes(s.memory_mean_bytes);
  out->set_memory_peak_bytes(s.memory_peak_bytes);
}

std::string format_duration(double s) {
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  return buf;
}

// The cluster of the current point and what the runner attached to it.
struct Cluster {
  std::unique_ptr<testbed::ClusterBackend> deployment;
  std::unique_ptr<boost::asio::io_context> io;
  std::unique_ptr<LoadGenerator> load;
  schema::Point point;
  std::vector<std::string> endpoints;

  void down() {
    load.reset();
    io.reset();
    if (deployment) {
      if (Status s = deployment->down(); !s)
        spdlog::warn("tearing the cluster down: {}", s.error().message);
      deployment.reset();
    }
  }
};

Status deploy(Cluster& cluster, const schema::Scenario& scenario, const schema::Point& point,
              const RunnerOptions& options, const std::string& work_dir,
              const std::optional<testbed::CpuSplit>& split, testbed::BackendKind backend) {
  auto deployed =
      testbed::deploy_cluster(backend, deployment_config(scenario, point, options, work_dir, split),
                              options.containers, options.cancel);
  if (!deployed) return deployed.error();
  cluster.deployment = std::move(*deployed);
  cluster.point = point;
  cluster.endpoints = endpoints_of(*cluster.deployment);
  cluster.io = std::make_unique<boost::asio::io_context>();
  BusOptions bus;
  bus.host = cluster.deployment->redis_host();
  bus.port = cluster.deployment->redis_port();
  if (point.redis() == schema::REDIS_MODE_CLUSTER)
    bus.cluster = cluster.deployment->redis_addresses();
  // A point's bus mode is part of its deployment (same_deployment()), so one
  // load generator serves one mode.
  bus.mode = point.bus_mode() == schema::BUS_MODE_ROUTED ? bus::BusMode::kRouted
                                                         : bus::BusMode::kBroadcast;
  // The bus sockets are made inside the cluster's control namespace, also
  // when they reconnect after a Redis restart; so are the gateway's.
  bus.around_connect =
      [netns = cluster.deployment->control_netns()](const std::function<void()>& connect) {
        auto inside = testbed::ScopedNetns::enter(netns);
        if (!inside) return spdlog::warn("bus connection: {}", inside.error().message);
        connect();
      };
  std::optional<GatewayClientOptions> gateway;
  if (cluster.deployment->gateway_member() != nullptr) {
    gateway.emplace();
    gateway->host = cluster.deployment->gateway_host();
    gateway->port = cluster.deployment->gateway_port();
    gateway->token = cluster.deployment->gateway_token();
    gateway->around_connect = bus.around_connect;
  }
  cluster.load = std::make_unique<LoadGenerator>(*cluster.io, bus, std::move(gateway));
  if (Status s = cluster.load->connect(); !s) return s;
  if (scenario.observe_all() && !cluster.endpoints.empty()) {
    auto observed = cluster.load->observe_all(cluster.endpoints, scenario.observe_path());
    if (!observed) return observed.error();
    if (observed->observed < cluster.endpoints.size())
      spdlog::warn("observe_all: {} of {} observed ({} failed, {} timed out)", observed->observed,
                   cluster.endpoints.size(), observed->failed, observed->timed_out);
  }
  return {};
}

void add_sampler_targets(testbed::Sampler& sampler, const testbed::ClusterBackend& d) {
  for (const auto& n : d.nodes()) {
    testbed::SamplerTarget t;
    t.name = n.name;
    t.cgroup = n.cgroup;
    t.net_pid = n.pid();
    t.process_pid = n.pid();  // wakeups; CPU and memory come from the cgroup
    (void)sampler.add_target(std::move(t));
  }
  testbed::SamplerTarget redis;
  redis.name = "redis";
  redis.cgroup = d.redis_member().cgroup;
  redis.process_pid = d.redis_member().pid();
  (void)sampler.add_target(std::move(redis));
  if (const testbed::Member* g = d.gateway_member()) {
    testbed::SamplerTarget gateway;
    gateway.name = "gateway";
    gateway.cgroup = g->cgroup;
    gateway.process_pid = g->pid();
    (void)sampler.add_target(std::move(gateway));
  }
  for (const auto& f : d.fleets()) {
    testbed::SamplerTarget t;
    t.name = f.name;
    t.cgroup = f.cgroup;
    t.process_pid = f.pid();
    (void)sampler.add_target(std::move(t));
  }
}

// Endpoints with a registration record in Redis.
Result<std::set<std::string>> registered(const testbed::ClusterBackend& d) {
  std::set<std::string> endpoints;
  auto redis = d.redis();
  if (!redis) return redis.error();
  auto keys = redis->keys(std::string(store::keys::kRegistrationPattern));
  if (!keys) return keys.error();
  for (const auto& key : *keys)
    if (auto ep = store::keys::endpoint_of(key, store::keys::kRegistrationPrefix))
      endpoints.insert(*ep);
  return endpoints;
}

// One measured run on the deployed cluster.
Status measure(Cluster& cluster, const schema::Scenario& scenario, const scenario::PlannedRun& run,
               const RunnerOptions& options, const std::string& out_dir,
               schema::ResultRecord& record) {
  testbed::ClusterBackend& d = *cluster.deployment;
  testbed::Sampler sampler(
      std::chrono::milliseconds(static_cast<int64_t>(options.sample_interval_s * 1000)));
  add_sampler_targets(sampler, d);
  sampler.start();

  const uint64_t seed = scenario.seed() * 1000003ULL + run.point_index * 1009ULL + run.repetition;
  LoadPlan plan = make_load_plan(scenario, run.point, cluster.endpoints, seed);
  const bool faulty = scenario.faults_size() > 0;
  plan.timeline = faulty;
  Result<std::set<std::string>> registered_before = std::set<std::string>{};
  if (faulty) registered_before = registered(d);
  const auto load_start = Clock::now();
  std::optional<FaultInjector> injector;
  if (faulty) {
    if (d.namespace_deployment() == nullptr)
      return make_error(ErrorKind::kUnsupported, "faults need the namespaces backend");
    injector.emplace(*d.namespace_deployment(),
                     std::vector<schema::Fault>(scenario.faults().begin(), scenario.faults().end()),
                     load_start);
    if (Status s = injector->start(); !s) return s;
  }
  const auto window_start =
      load_start + std::chrono::milliseconds(static_cast<int64_t>(plan.warmup_s * 1000));
  // The fleets' counters and a sample at the start of the measured window,
  // taken while the (blocking) load generator runs its warm-up.
  std::map<std::string, double> fleet_before;
  std::mutex window_mutex;
  std::condition_variable window_cv;
  bool load_done = false;
  std::thread at_window_start([&] {
    std::unique_lock lock(window_mutex);
    if (window_cv.wait_until(lock, window_start, [&] { return load_done; })) return;
    fleet_before = fleet_counters(d);
    sampler.sample_now();
  });
  auto load = cluster.load->run(plan);
  if (injector) injector->stop();
  {
    std::lock_guard lock(window_mutex);
    load_done = true;
  }
  window_cv.notify_all();
  at_window_start.join();
  const auto window_end = std::min(
      Clock::now(),
      window_start + std::chrono::milliseconds(static_cast<int64_t>(plan.window_s * 1000)));
  sampler.sample_now();
  sampler.stop();
  const auto fleet_after = fleet_counters(d);
  if (!load) return load.error();
  if (load->interrupted) return make_error(ErrorKind::kTimeout, "interrupted");

  fill_record(*load, &record);
  auto latency_file =
      results::write_latency_samples(out_dir, run.point_index, run.repetition, load->latencies_us);
  if (latency_file) record.set_latency_file(*latency_file);

  // Devices owned per node at the end of the window.
  std::map<std::string, uint32_t> owned;
  if (auto redis = d.redis(); redis)
    if (auto owners = redis->owners(); owners)
      for (const auto& [ep, node] : *owners) ++owned[node];

  for (const auto& n : d.nodes()) {
    auto s = sampler.summarize(n.name, window_start, window_end);
    schema::NodeStats* ns = record.add_nodes();
    ns->set_id(static_cast<uint32_t>(testbed::Deployment::node_index(n.name)));
    ns->set_registrations(owned[n.name]);
    if (!s) continue;
    ns->set_throttling_ratio(s->throttling_ratio);
    ns->set_throttled_s(s->throttled_s);
    ns->set_cpu_s(s->cpu_s);
    ns->set_memory_mean_bytes(s->memory_mean_bytes);
    ns->set_memory_peak_bytes(s->memory_peak_bytes);
    ns->set_rx_bytes(s->rx_bytes);
    ns->set_tx_bytes(s->tx_bytes);
    ns->set_rx_packets(s->rx_packets);
    ns->set_tx_packets(s->tx_packets);
    ns->set_wakeups(s->wakeups);
  }
  if (auto s = sampler.summarize("redis", window_start, window_end); s)
    fill_process(*s, record.mutable_redis());
  if (d.gateway_member() != nullptr) {
    schema::GatewayStats* gateway = record.mutable_gateway();
    if (auto s = sampler.summarize("gateway", window_start, window_end); s) {
      fill_process(*s, gateway->mutable_process());
      if (record.requests_sent() > 0)
        gateway->set_cpu_ms_per_1000_requests(s->cpu_s * 1e6 / record.requests_sent());
    }
  }
  if (auto h = sampler.summarize_host(window_start, window_end); h) {
    record.mutable_host()->set_steal_ratio(h->steal_ratio);
    record.mutable_host()->set_speed_probe_us(h->speed_probe_us);
  }

  schema::FleetStats* fleet = record.mutable_fleet();
  fleet->set_registered(
      static_cast<uint32_t>(fleet_after.count("registered") ? fleet_after.at("registered") : 0));
  auto delta = [&](const char* key) {
    const double after = fleet_after.count(key) ? fleet_after.at(key) : 0;
    const double before = fleet_before.count(key) ? fleet_before.at(key) : 0;
    return after - before;
  };
  fleet->set_notifications_sent(delta("notifications_sent"));
  fleet->set_requests_answered(delta("requests_answered"));
  fleet->set_retransmissions(delta("retransmissions"));
  fleet->set_errors(delta("errors") + delta("timeouts"));
  testbed::TargetSummary fleets_total;
  for (const auto& f : d.fleets())
    if (auto s = sampler.summarize(f.name, window_start, window_end); s) {
      fleets_total.cpu_s += s->cpu_s;
      fleets_total.memory_mean_bytes += s->memory_mean_bytes;
      fleets_total.memory_peak_bytes += s->memory_peak_bytes;
    }
  fill_process(fleets_total, fleet->mutable_process());

  if (injector) {
    schema::FaultStats stats =
        fault_stats(*load, injector->faults(), plan.warmup_s + plan.window_s);
    const auto registered_after = registered(d);
    if (registered_before && registered_after) {
      stats.set_registrations_before(static_cast<uint32_t>(registered_before->size()));
      stats.set_registrations_after(static_cast<uint32_t>(registered_after->size()));
      stats.set_registrations_lost(registrations_lost(*registered_before, *registered_after));
    } else {
      spdlog::warn(
          "fault run: cannot count registrations: {}",
          (registered_before ? registered_after.error() : registered_before.error()).message);
    }
    stats.set_notifications_lost(
        std::max(0.0, fleet->notifications_sent() - record.notifications_received()));
    const std::string timeline = "timeline/" + std::to_string(run.point_index) + "-" +
                                 std::to_string(run.repetition) + ".csv";
    std::error_code ec;
    std::filesystem::create_directories(out_dir + "/timeline", ec);
    if (Status s = write_timeline_csv(out_dir + "/" + timeline, *load, injector->events(),
                                      injector->ownership());
        s)
      stats.set_timeline_file(timeline);
    else
      spdlog::warn("timeline: {}", s.error().message);
    *record.mutable_faults() = std::move(stats);
  }

  const std::string series = out_dir + "/samples/" + std::to_string(run.point_index) + "-" +
                             std::to_string(run.repetition) + ".csv";
  if (Status s = sampler.write_csv_file(series); !s)
    spdlog::warn("time series: {}", s.error().message);
  return {};
}

}  // namespace

Result<RunnerSummary> run_scenario(const RunnerOptions& options) {
  auto loaded = scenario::load_scenario_file(options.scenario_file);
  if (!loaded) return loaded.error();
  schema::Scenario& sc = *loaded;
  if (sc.mode() != schema::MODE_EMULATE)
    return make_error(ErrorKind::kInvalidArgument,
                      options.scenario_file + ": mode is sim: use `fogm2m sim`");
  // --backend overrides the file's; the metadata's copy of the scenario
  // names the backend the records came from.
  if (options.backend)
    sc.set_backend(*options.backend == testbed::BackendKind::kContainer
                       ? schema::BACKEND_CONTAINER
                       : schema::BACKEND_NAMESPACES);
  const testbed::BackendKind backend = sc.backend() == schema::BACKEND_CONTAINER
                                           ? testbed::BackendKind::kContainer
                                           : testbed::BackendKind::kNamespaces;
  if (backend == testbed::BackendKind::kContainer && sc.faults_size() > 0)
    return make_error(ErrorKind::kInvalidArgument,
                      options.scenario_file + ": the container backend does not inject faults");

  RunnerSummary summary;
  summary.output_dir = options.output_dir.empty() ? sc.output_dir() : options.output_dir;
  std::error_code ec;
  fs::create_directories(summary.output_dir + "/samples", ec);
  if (ec)
    return make_error(ErrorKind::kIo, "cannot create " + summary.output_dir + ": " + ec.message());

  scenario::DoneRuns done;
  if (fs::exists(summary.output_dir + "/records.jsonl")) {
    if (!options.resume)
      return make_error(ErrorKind::kInvalidArgument,
                        summary.output_dir +
                            " already holds records: pass --resume to continue it, or --out "
                            "another directory");
    auto previous = results::read_records(summary.output_dir);
    if (!previous) return previous.error();
    done = results::completed_runs(*previous);
  }
  const auto points = scenario::expand_points(sc);
  const auto order = sc.repetition_order() == "interleaved"
                         ? scenario::RepetitionOrder::kInterleaved
                         : scenario::RepetitionOrder::kConsecutive;
  const auto all =
      scenario::select_runs(points, std::max<uint32_t>(1, sc.repetitions()), options.shard);
  const auto runs = scenario::select_runs(points, std::max<uint32_t>(1, sc.repetitions()),
                                          options.shard, done, order);
  summary.planned = runs.size();
  summary.skipped = all.size() - runs.size();

  // cpu_placement: split puts the nodes on one half of the CPUs and Redis,
  // the fleets and this process (the load generator, the sampler) on the
  // other, for the whole run; the pinning ends with it.
  std::optional<testbed::CpuSplit> split;
  std::optional<testbed::ProcessPinning> pinning;
  if (sc.cpu_placement() == "split") {
    auto cpus = testbed::split_cpus(testbed::allowed_cpus());
    if (!cpus) return cpus.error();
    auto pinned = testbed::ProcessPinning::pin(cpus->others);
    if (!pinned) return pinned.error();
    pinning.emplace(std::move(*pinned));
    split = *cpus;
    spdlog::info("cpu placement: nodes on CPU {}, Redis, fleets and load generator on CPU {}",
                 testbed::cpu_list(cpus->nodes), testbed::cpu_list(cpus->others));
  }

  auto metadata = results::describe_run(options.scenario_file, options.git_revision, sc);
  if (!metadata) return metadata.error();
  if (Status s = results::write_metadata(summary.output_dir, *metadata); !s) return s.error();
  fs::copy_file(options.scenario_file, summary.output_dir + "/scenario.yaml",
                fs::copy_options::overwrite_existing, ec);
  auto writer = results::RecordWriter::open(summary.output_dir);
  if (!writer) return writer.error();

  const std::string work_dir = fs::absolute(summary.output_dir).string() + "/work";
  Cluster cluster;
  // Ctrl-C reaches a blocking load generator through its thread-safe stop().
  std::mutex load_mutex;
  LoadGenerator* current_load = nullptr;
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished.load()) {
      if (cancelled(options.cancel)) {
        std::lock_guard lock(load_mutex);
        if (current_load) current_load->stop();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct JoinAtExit {
    std::atomic<bool>& finished;
    std::thread& watcher;
    ~JoinAtExit() {
      finished = true;
      watcher.join();
    }
  } join_at_exit{finished, watcher};
  auto publish_load = [&] {
    std::lock_guard lock(load_mutex);
    current_load = cluster.load.get();
  };
  const auto started = Clock::now();
  size_t index = 0;
  for (const auto& run : runs) {
    if (cancelled(options.cancel)) break;
    ++index;
    schema::ResultRecord record;
    record.set_scenario(sc.name());
    record.set_mode(schema::MODE_EMULATE);
    record.set_point_index(run.point_index);
    record.set_repetition(run.repetition);
    *record.mutable_point() = run.point;
    record.set_started_unix_s(
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());

    Status status;
    if (!cluster.deployment || !scenario::same_deployment(cluster.point, run.point)) {
      cluster.down();
      fs::remove_all(work_dir, ec);
      fs::create_directories(work_dir, ec);
      {
        std::lock_guard lock(load_mutex);
        current_load = nullptr;
      }
      status = deploy(cluster, sc, run.point, options, work_dir, split, backend);
      publish_load();
    }
    if (status) status = measure(cluster, sc, run, options, summary.output_dir, record);
    // Faults leave the cluster changed: the next run starts from a fresh one.
    if (status && sc.faults_size() > 0) cluster.down();
    if (cancelled(options.cancel)) break;  // an interrupted run is not recorded
    if (!status) {
      record.set_error(status.error().message);
      ++summary.failed;
      {
        std::lock_guard lock(load_mutex);
        current_load = nullptr;
      }
      cluster.down();  // start the next point from a fresh cluster
    }
    if (Status s = (*writer)->append(record); !s) return s.error();
    ++summary.completed;

    if (options.on_progress) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
      const double eta =
          elapsed / static_cast<double>(index) * static_cast<double>(runs.size() - index);
      char line[512];
      const auto& p = run.point;
      // The bus mode, when the scenario names one.
      std::string bus_mode = p.bus_mode() == schema::BUS_MODE_ROUTED      ? " bus=routed"
                             : p.bus_mode() == schema::BUS_MODE_BROADCAST ? " bus=broadcast"
                                                                          : "";
      if (p.redis() == schema::REDIS_MODE_CLUSTER) bus_mode += " redis=cluster";
      // Through the gateway: its CPU per 1,000 requests and what it added.
      char via[160] = "";
      if (record.has_gateway()) {
        const schema::GatewayStats& g = record.gateway();
        std::snprintf(via, sizeof via, ", gateway CPU %.1f ms/1000 req, added p50 %.2f p99 %.2f ms",
                      g.cpu_ms_per_1000_requests(), g.added_latency().p50_ms(),
                      g.added_latency().p99_ms());
      }
      if (record.error().empty())
        std::snprintf(line, sizeof line,
                      "[%zu/%zu] devices=%u nodes=%u rate=%g dtls=%d%s: sent %u answered %u "
                      "errors %u, mean %.2f ms, "
                      "p99 %.2f ms, throttling %.2f%s | elapsed %s, ETA %s",
                      index, runs.size(), p.devices(), p.nodes(), p.request_rate(),
                      p.dtls() ? 1 : 0, bus_mode.c_str(), record.requests_sent(),
                      record.requests_answered(), record.requests_errored(),
                      record.latency().mean_ms(), record.latency().p99_ms(),
                      record.nodes_size() ? record.nodes(0).throttling_ratio() : 0.0, via,
                      format_duration(elapsed).c_str(), format_duration(eta).c_str());
      else
        std::snprintf(line, sizeof line,
                      "[%zu/%zu] devices=%u nodes=%u rate=%g dtls=%d%s: FAILED: %s | elapsed %s",
                      index, runs.size(), p.devices(), p.nodes(), p.request_rate(),
                      p.dtls() ? 1 : 0, bus_mode.c_str(), record.error().c_str(),
                      format_duration(elapsed).c_str());
      options.on_progress(line);
    }
  }
  summary.interrupted = cancelled(options.cancel);
  {
    std::lock_guard lock(load_mutex);
    current_load = nullptr;
  }
  cluster.down();
  if (!options.keep_work) fs::remove_all(work_dir, ec);
  return summary;
}

}  // namespace fogm2m::runner
