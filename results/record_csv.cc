// CSV rows of result records (column order in record_csv.h).
#include "results/record_csv.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace fogm2m::results {
namespace {

std::string number(double v) {
  if (!std::isfinite(v)) return "";
  // Whole numbers (byte and packet counts) in full, not as 4e+06.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return ec == std::errc() ? std::string(buf, end) : "";
}

std::string number(uint64_t v) {
  return std::to_string(v);
}

std::string text(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

const char* mode_name(schema::Mode mode) {
  return mode == schema::MODE_SIM ? "sim" : "emulate";
}

// Mean / max of one NodeStats field over the record's nodes; "" with none.
template <class Get>
std::string node_mean(const schema::ResultRecord& r, Get get) {
  if (r.nodes_size() == 0) return "";
  double sum = 0;
  for (const auto& n : r.nodes()) sum += get(n);
  return number(sum / r.nodes_size());
}
template <class Get>
std::string node_max(const schema::ResultRecord& r, Get get) {
  if (r.nodes_size() == 0) return "";
  double m = get(r.nodes(0));
  for (const auto& n : r.nodes()) m = std::max(m, get(n));
  return number(m);
}

}  // namespace

const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> columns = {"scenario",
                                                   "mode",
                                                   "point_index",
                                                   "repetition",
                                                   "devices",
                                                   "nodes",
                                                   "request_rate",
                                                   "dtls",
                                                   "cpu_quota_us",
                                                   "cpu_period_us",
                                                   "memory_limit_mb",
                                                   "fleets",
                                                   "sampling_interval_ms",
                                                   "lifetime_s",
                                                   "fleet_cpu_quota_us",
                                                   "fleet_memory_limit_mb",
                                                   "window_s",
                                                   "requests_sent",
                                                   "requests_answered",
                                                   "requests_errored",
                                                   "requests_timed_out",
                                                   "achieved_rate",
                                                   "latency_mean_ms",
                                                   "latency_mean_below_p95_ms",
                                                   "latency_p50_ms",
                                                   "latency_p90_ms",
                                                   "latency_p99_ms",
                                                   "latency_p999_ms",
                                                   "latency_max_ms",
                                                   "node_throttling_ratio_mean",
                                                   "node_throttling_ratio_max",
                                                   "node_cpu_s_mean",
                                                   "node_memory_mean_bytes_mean",
                                                   "node_memory_peak_bytes_max",
                                                   "node_rx_bytes_mean",
                                                   "node_tx_bytes_mean",
                                                   "node_rx_packets_mean",
                                                   "node_tx_packets_mean",
                                                   "node_wakeups_mean",
                                                   "fleet_registered",
                                                   "fleet_notifications_sent",
                                                   "fleet_cpu_s",
                                                   "fleet_memory_peak_bytes",
                                                   "redis_cpu_s",
                                                   "redis_memory_peak_bytes",
                                                   "host_steal_ratio",
                                                   "host_speed_probe_us",
                                                   "notifications_received",
                                                   "gateway_cpu_s",
                                                   "gateway_cpu_ms_per_1000_requests",
                                                   "gateway_memory_peak_bytes",
                                                   "gateway_added_mean_ms",
                                                   "gateway_added_p50_ms",
                                                   "gateway_added_p99_ms",
                                                   "latency_file",
                                                   "error"};
  return columns;
}

std::string csv_header() {
  std::string out;
  for (const auto& c : csv_columns()) out += (out.empty() ? "" : ",") + c;
  return out;
}

std::string csv_row(const schema::ResultRecord& r) {
  const schema::Point& p = r.point();
  const schema::Latency& l = r.latency();
  const schema::GatewayStats& g = r.gateway();
  // Empty without a gateway (the load went on the bus).
  auto via_gateway = [&r](double v) { return r.has_gateway() ? number(v) : std::string(); };
  using N = schema::NodeStats;
  const std::vector<std::string> cells = {
      text(r.scenario()),
      mode_name(r.mode()),
      number(uint64_t{r.point_index()}),
      number(uint64_t{r.repetition()}),
      number(uint64_t{p.devices()}),
      number(uint64_t{p.nodes()}),
      number(p.request_rate()),
      p.dtls() ? "1" : "0",
      number(uint64_t{p.cpu_quota_us()}),
      number(uint64_t{p.cpu_period_us()}),
      number(uint64_t{p.memory_limit_mb()}),
      number(uint64_t{p.fleets()}),
      number(uint64_t{p.sampling_interval_ms()}),
      number(uint64_t{p.lifetime_s()}),
      number(uint64_t{p.fleet_cpu_quota_us()}),
      number(uint64_t{p.fleet_memory_limit_mb()}),
      number(r.window_s()),
      number(uint64_t{r.requests_sent()}),
      number(uint64_t{r.requests_answered()}),
      number(uint64_t{r.requests_errored()}),
      number(uint64_t{r.requests_timed_out()}),
      number(r.achieved_rate()),
      number(l.mean_ms()),
      number(l.mean_below_p95_ms()),
      number(l.p50_ms()),
      number(l.p90_ms()),
      number(l.p99_ms()),
      number(l.p999_ms()),
      number(l.max_ms()),
      node_mean(r, [](const N& n) { return n.throttling_ratio(); }),
      node_max(r, [](const N& n) { return n.throttling_ratio(); }),
      node_mean(r, [](const N& n) { return n.cpu_s(); }),
      node_mean(r, [](const N& n) { return n.memory_mean_bytes(); }),
      node_max(r, [](const N& n) { return n.memory_peak_bytes(); }),
      node_mean(r, [](const N& n) { return n.rx_bytes(); }),
      node_mean(r, [](const N& n) { return n.tx_bytes(); }),
      node_mean(r, [](const N& n) { return n.rx_packets(); }),
      node_mean(r, [](const N& n) { return n.tx_packets(); }),
      node_mean(r, [](const N& n) { return n.wakeups(); }),
      number(uint64_t{r.fleet().registered()}),
      number(r.fleet().notifications_sent()),
      number(r.fleet().process().cpu_s()),
      number(r.fleet().process().memory_peak_bytes()),
      number(r.redis().cpu_s()),
      number(r.redis().memory_peak_bytes()),
      number(r.host().steal_ratio()),
      number(r.host().speed_probe_us()),
      number(r.notifications_received()),
      via_gateway(g.process().cpu_s()),
      via_gateway(g.cpu_ms_per_1000_requests()),
      via_gateway(g.process().memory_peak_bytes()),
      via_gateway(g.added_latency().mean_ms()),
      via_gateway(g.added_latency().p50_ms()),
      via_gateway(g.added_latency().p99_ms()),
      text(r.latency_file()),
      text(r.error()),
  };
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    out += cells[i];
  }
  return out;
}

}  // namespace fogm2m::results
