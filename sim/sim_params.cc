// Reading and writing the simulator's parameter file (YAML or JSON).
#include "sim/sim_params.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace fogm2m::sim {

namespace {

struct NumberField {
  const char* name;
  double SimParams::*field;
};

constexpr NumberField kNumbers[] = {
    {"node_cpu_notification_s", &SimParams::node_cpu_notification_s},
    {"node_cpu_request_owned_s", &SimParams::node_cpu_request_owned_s},
    {"node_cpu_request_ignored_s", &SimParams::node_cpu_request_ignored_s},
    {"node_cpu_write_factor", &SimParams::node_cpu_write_factor},
    {"node_cpu_execute_factor", &SimParams::node_cpu_execute_factor},
    {"node_cpu_registration_s", &SimParams::node_cpu_registration_s},
    {"node_cpu_dtls_datagram_s", &SimParams::node_cpu_dtls_datagram_s},
    {"node_cpu_wakeup_s", &SimParams::node_cpu_wakeup_s},
    {"node_cpu_cv", &SimParams::node_cpu_cv},
    {"node_cpu_background", &SimParams::node_cpu_background},
    {"owned_request_split", &SimParams::owned_request_split},
    {"node_memory_base_bytes", &SimParams::node_memory_base_bytes},
    {"node_memory_per_registration_bytes", &SimParams::node_memory_per_registration_bytes},
    {"node_memory_per_observation_bytes", &SimParams::node_memory_per_observation_bytes},
    {"redis_command_s", &SimParams::redis_command_s},
    {"redis_per_subscriber_s", &SimParams::redis_per_subscriber_s},
    {"redis_commands_per_registration", &SimParams::redis_commands_per_registration},
    {"node_redis_round_trip_s", &SimParams::node_redis_round_trip_s},
    {"redis_shards", &SimParams::redis_shards},
    {"redis_memory_base_bytes", &SimParams::redis_memory_base_bytes},
    {"redis_memory_per_registration_bytes", &SimParams::redis_memory_per_registration_bytes},
    {"network_hop_latency_s", &SimParams::network_hop_latency_s},
    {"front_bandwidth_bps", &SimParams::front_bandwidth_bps},
    {"back_bandwidth_bps", &SimParams::back_bandwidth_bps},
    {"link_header_bytes", &SimParams::link_header_bytes},
    {"tcp_ip_header_bytes", &SimParams::tcp_ip_header_bytes},
    {"device_request_delay_s", &SimParams::device_request_delay_s},
    {"notify_con_every", &SimParams::notify_con_every},
    {"pmin_s", &SimParams::pmin_s},
    {"pmax_s", &SimParams::pmax_s},
    {"registration_ramp_s", &SimParams::registration_ramp_s},
    {"setup_s", &SimParams::setup_s},
    {"fleet_cpu_per_message_s", &SimParams::fleet_cpu_per_message_s},
    {"fleet_memory_base_bytes", &SimParams::fleet_memory_base_bytes},
    {"fleet_memory_per_device_bytes", &SimParams::fleet_memory_per_device_bytes},
    {"default_request_timeout_s", &SimParams::default_request_timeout_s},
    {"lb_removal_delay_s", &SimParams::lb_removal_delay_s},
    {"heartbeat_interval_s", &SimParams::heartbeat_interval_s},
    {"node_liveness_s", &SimParams::node_liveness_s},
};

Error bad(const std::string& why) {
  return make_error(ErrorKind::kInvalidArgument, "sim params: " + why);
}

// Applies one key; kNotFound-style error for unknown keys or bad values.
Status apply(SimParams& p, const std::string& key, const std::string& text, bool is_number,
             double number) {
  if (key == "bus_mode") {
    if (text == "broadcast")
      p.bus_mode = BusMode::kBroadcast;
    else if (text == "routed")
      p.bus_mode = BusMode::kRouted;
    else
      return bad("bus_mode \"" + text + "\" is not broadcast or routed");
    return {};
  }
  for (const auto& f : kNumbers) {
    if (key != f.name) continue;
    if (!is_number || !std::isfinite(number) || number < 0)
      return bad("\"" + key + "\" must be a non-negative number, got \"" + text + "\"");
    p.*f.field = number;
    return {};
  }
  return bad("unknown key \"" + key + "\"");
}

Status validate(const SimParams& p) {
  if (p.front_bandwidth_bps <= 0 || p.back_bandwidth_bps <= 0) return bad("bandwidths must be > 0");
  if (p.owned_request_split > 1) return bad("owned_request_split must be in [0, 1]");
  if (p.node_cpu_background >= 1) return bad("node_cpu_background must be below 1");
  if (p.heartbeat_interval_s <= 0) return bad("heartbeat_interval_s must be > 0");
  if (p.redis_shards < 1 || p.redis_shards > 16384 || p.redis_shards != std::floor(p.redis_shards))
    return bad("redis_shards must be an integer in 1..16384");
  return {};
}

std::string extension_format(const std::string& path) {
  const auto dot = path.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  return ext == "json" ? "json" : "yaml";
}

std::string number_text(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

Result<SimParams> parse_sim_params(const std::string& text, const std::string& format) {
  SimParams p;
  if (format == "json") {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(text, ec);
    if (ec) return bad("JSON: " + ec.message());
    if (!v.is_object()) return bad("JSON: the top level must be an object");
    for (const auto& kv : v.get_object()) {
      const std::string key(kv.key());
      if (kv.value().is_string()) {
        if (auto s = apply(p, key, std::string(kv.value().get_string()), false, 0); !s)
          return s.error();
      } else if (kv.value().is_number()) {
        const double n = kv.value().to_number<double>();
        if (auto s = apply(p, key, number_text(n), true, n); !s) return s.error();
      } else {
        return bad("\"" + key + "\" must be a number or a string");
      }
    }
  } else {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return bad(std::string("YAML: ") + e.what());
    }
    if (root.IsNull()) return p;
    if (!root.IsMap()) return bad("YAML: the top level must be a map");
    for (const auto& kv : root) {
      const std::string key = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) return bad("\"" + key + "\" must be a scalar");
      const std::string value = kv.second.Scalar();
      double n = 0;
      bool is_number = false;
      try {
        std::size_t used = 0;
        n = std::stod(value, &used);
        is_number = used == value.size();
      } catch (const std::exception&) {
        is_number = false;
      }
      if (auto s = apply(p, key, value, is_number, n); !s) return s.error();
    }
  }
  if (auto s = validate(p); !s) return s.error();
  return p;
}

std::string format_sim_params(const SimParams& p, const std::string& format) {
  const char* mode = p.bus_mode == BusMode::kRouted ? "routed" : "broadcast";
  if (format == "json") {
    boost::json::object o;
    for (const auto& f : kNumbers) o[f.name] = p.*f.field;
    o["bus_mode"] = mode;
    return boost::json::serialize(o) + "\n";
  }
  std::ostringstream out;
  out << "# fogm2m simulator parameters (sim/sim_params.h explains each)\n";
  for (const auto& f : kNumbers) out << f.name << ": " << number_text(p.*f.field) << "\n";
  out << "bus_mode: " << mode << "\n";
  return out.str();
}

Result<SimParams> load_sim_params(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorKind::kIo, "sim params: cannot read " + path);
  std::stringstream buf;
  buf << in.rdbuf();
  auto r = parse_sim_params(buf.str(), extension_format(path));
  if (!r) return make_error(r.error().kind, path + ": " + r.error().message);
  return r;
}

Status save_sim_params(const SimParams& params, const std::string& path) {
  std::ofstream out(path);
  if (!out) return make_error(ErrorKind::kIo, "sim params: cannot write " + path);
  out << format_sim_params(params, extension_format(path));
  if (!out) return make_error(ErrorKind::kIo, "sim params: write failed: " + path);
  return {};
}

}  // namespace fogm2m::sim
