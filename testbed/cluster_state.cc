#include "testbed/cluster_state.h"

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>

#include "io/host_port.h"
#include "store/keys.h"
#include "testbed/cleanup.h"
#include "testbed/process.h"
#include "testbed/redis_client.h"

namespace fogm2m::testbed {

namespace {

namespace json = boost::json;

json::object member_json(const MemberState& m) {
  json::object o{{"name", m.name}, {"netns", m.netns},           {"address", m.address},
                 {"pid", m.pid},   {"start_time", m.start_time}, {"log", m.log_path}};
  if (!m.cgroup.empty()) {
    json::array dirs;
    for (const auto& d : m.cgroup_dirs) dirs.push_back(json::value(d));
    o["cgroup"] = m.cgroup;
    o["cgroup_dirs"] = std::move(dirs);
  }
  if (m.devices > 0) {
    o["first_device"] = m.first_device;
    o["devices"] = m.devices;
    o["stats_file"] = m.stats_path;
    if (!m.source_range.empty()) o["source_range"] = m.source_range;
  }
  return o;
}

MemberState member_of(const Member& m) {
  MemberState s;
  s.name = m.name;
  s.netns = m.netns;
  s.address = m.address;
  s.log_path = m.log_path;
  s.pid = m.pid();
  s.start_time = m.start_time;
  if (m.cgroup) {
    s.cgroup = m.cgroup->parent_name() + "/" + m.cgroup->name();
    for (const auto& d : m.cgroup->directories()) s.cgroup_dirs.push_back(d);
  }
  s.first_device = m.first_device;
  s.devices = m.devices;
  s.stats_path = m.stats_path;
  s.source_range = m.source_range;
  return s;
}

// Field readers that fail with the field's name.
struct Reader {
  const json::object& o;
  std::string where;
  std::string error;

  const json::value* field(const char* key) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr && error.empty()) error = where + "\"" + key + "\" is missing";
    return v;
  }
  std::string text(const char* key) {
    const json::value* v = field(key);
    if (v != nullptr && !v->is_string() && error.empty())
      error = where + "\"" + key + "\" is not a string";
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  }
  int64_t number(const char* key) {
    const json::value* v = field(key);
    if (v == nullptr) return 0;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
    if (error.empty()) error = where + "\"" + key + "\" is not an integer";
    return 0;
  }
  double real(const char* key) {
    const json::value* v = field(key);
    if (v == nullptr) return 0;
    if (v->is_number()) return v->to_number<double>();
    if (error.empty()) error = where + "\"" + key + "\" is not a number";
    return 0;
  }
  bool flag(const char* key) {
    const json::value* v = field(key);
    if (v != nullptr && !v->is_bool() && error.empty())
      error = where + "\"" + key + "\" is not true or false";
    return v != nullptr && v->is_bool() && v->get_bool();
  }
};

Result<MemberState> member_from(const json::value& v, const std::string& where) {
  if (!v.is_object())
    return make_error(ErrorKind::kMalformed, "cluster state: " + where + " is not an object");
  Reader r{v.get_object(), where + ": ", {}};
  MemberState m;
  m.name = r.text("name");
  m.netns = r.text("netns");
  m.address = r.text("address");
  m.log_path = r.text("log");
  m.pid = static_cast<pid_t>(r.number("pid"));
  m.start_time = static_cast<unsigned long long>(r.number("start_time"));
  if (v.get_object().contains("cgroup")) {
    m.cgroup = r.text("cgroup");
    if (const json::value* dirs = r.field("cgroup_dirs"); dirs != nullptr && dirs->is_array())
      for (const auto& d : dirs->get_array())
        if (d.is_string()) m.cgroup_dirs.emplace_back(d.get_string());
  }
  if (v.get_object().contains("devices")) {
    m.first_device = static_cast<int>(r.number("first_device"));
    m.devices = static_cast<int>(r.number("devices"));
    m.stats_path = r.text("stats_file");
    if (v.get_object().contains("source_range")) m.source_range = r.text("source_range");
  }
  if (!r.error.empty()) return make_error(ErrorKind::kMalformed, "cluster state: " + r.error);
  return m;
}

}  // namespace

bool MemberState::running() const {
  return pid > 0 && process_start_time(pid) == start_time;
}

ClusterState cluster_state_of(const Deployment& d) {
  ClusterState s;
  s.name = d.run_id();
  s.vip = d.vip();
  s.lb_netns = d.lb_netns();
  s.control_netns = d.control_netns();
  s.nft_table = run_nft_table(d.run_id());
  s.redis = member_of(d.redis_member());
  s.redis_address = d.redis_host() + ":" + std::to_string(d.redis_port());
  for (const auto& n : d.nodes()) s.nodes.push_back(member_of(n));
  for (const auto& f : d.fleets()) s.fleets.push_back(member_of(f));
  s.devices = d.config().devices;
  s.dtls = d.config().dtls;
  s.cgroup_version = to_string(d.cgroup_host().version());
  s.cpu_quota_us = d.config().node_limits.cpu_quota_us;
  s.cpu_period_us = d.config().node_limits.cpu_period_us;
  s.memory_limit_bytes = d.config().node_limits.memory_limit_bytes;
  s.work_dir = d.config().work_dir;
  s.times = d.times();
  return s;
}

std::string to_json(const ClusterState& s) {
  json::array nodes, fleets;
  for (const auto& n : s.nodes) nodes.push_back(member_json(n));
  for (const auto& f : s.fleets) fleets.push_back(member_json(f));
  const DeployTimes& t = s.times;
  return json::serialize(json::object{
      {"name", s.name},
      {"vip", s.vip},
      {"lb_netns", s.lb_netns},
      {"control_netns", s.control_netns},
      {"nft_table", s.nft_table},
      {"redis", member_json(s.redis)},
      {"redis_address", s.redis_address},
      {"nodes", std::move(nodes)},
      {"fleets", std::move(fleets)},
      {"devices", s.devices},
      {"dtls", s.dtls},
      {"cgroup_version", s.cgroup_version},
      {"cpu_quota_us", s.cpu_quota_us},
      {"cpu_period_us", s.cpu_period_us},
      {"memory_limit_bytes", s.memory_limit_bytes},
      {"work_dir", s.work_dir},
      {"deploy_seconds", json::object{{"network", t.network_s},
                                      {"redis", t.redis_s},
                                      {"nodes", t.nodes_s},
                                      {"fleets", t.fleets_s},
                                      {"total", t.total_s}}},
  });
}

Result<ClusterState> cluster_state_from_json(std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(ErrorKind::kMalformed, "cluster state: not a JSON object");
  Reader r{v.get_object(), "", {}};
  ClusterState s;
  s.name = r.text("name");
  s.vip = r.text("vip");
  s.lb_netns = r.text("lb_netns");
  s.control_netns = r.text("control_netns");
  s.nft_table = r.text("nft_table");
  s.redis_address = r.text("redis_address");
  s.devices = static_cast<int>(r.number("devices"));
  s.dtls = r.flag("dtls");
  s.cgroup_version = r.text("cgroup_version");
  s.cpu_quota_us = static_cast<uint32_t>(r.number("cpu_quota_us"));
  s.cpu_period_us = static_cast<uint32_t>(r.number("cpu_period_us"));
  s.memory_limit_bytes = static_cast<uint64_t>(r.number("memory_limit_bytes"));
  s.work_dir = r.text("work_dir");
  if (const json::value* t = r.field("deploy_seconds"); t != nullptr && t->is_object()) {
    Reader tr{t->get_object(), "deploy_seconds: ", {}};
    s.times = {tr.real("network"), tr.real("redis"), tr.real("nodes"), tr.real("fleets"),
               tr.real("total")};
    if (r.error.empty()) r.error = tr.error;
  }
  if (!r.error.empty()) return make_error(ErrorKind::kMalformed, "cluster state: " + r.error);
  const json::value* redis = r.field("redis");
  if (redis == nullptr) return make_error(ErrorKind::kMalformed, "cluster state: " + r.error);
  auto member = member_from(*redis, "redis");
  if (!member) return member.error();
  s.redis = std::move(*member);
  for (const char* list : {"nodes", "fleets"}) {
    const json::value* members = r.field(list);
    if (members == nullptr || !members->is_array())
      return make_error(ErrorKind::kMalformed,
                        std::string("cluster state: \"") + list + "\" is not an array");
    for (size_t i = 0; i < members->get_array().size(); ++i) {
      auto m =
          member_from(members->get_array()[i], std::string(list) + "[" + std::to_string(i) + "]");
      if (!m) return m.error();
      (std::string_view(list) == "nodes" ? s.nodes : s.fleets).push_back(std::move(*m));
    }
  }
  return s;
}

Status write_cluster_state(const ClusterState& state) {
  const std::string path = run_state_path(state.name);
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    out << to_json(state) << "\n";
    if (!out) return make_error(ErrorKind::kIo, "cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    return make_error(ErrorKind::kIo, "cannot write " + path);
  return {};
}

Result<ClusterState> read_cluster_state(const std::string& name) {
  std::ifstream in(run_state_path(name));
  if (!in)
    return make_error(ErrorKind::kNotFound,
                      "no cluster " + name + " (" + run_state_path(name) + ")");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto state = cluster_state_from_json(text);
  if (!state)
    return make_error(state.error().kind, run_state_path(name) + ": " + state.error().message);
  return state;
}

Result<ClusterOccupancy> read_occupancy(const ClusterState& state) {
  std::string host;
  uint16_t port = 0;
  if (!io::split_host_port(state.redis_address, host, port))
    return make_error(ErrorKind::kMalformed,
                      "cluster state: bad redis_address " + state.redis_address);
  auto client = RedisClient::connect(state.control_netns, host, port);
  if (!client) return client.error();
  ClusterOccupancy occupancy;
  auto owners = client->owners();
  if (!owners) return owners.error();
  for (const auto& [ep, node] : *owners) ++occupancy.devices_by_node[node];
  auto registrations = client->keys(std::string(store::keys::kRegistrationPattern));
  if (!registrations) return registrations.error();
  occupancy.registered = registrations->size();
  return occupancy;
}

}  // namespace fogm2m::testbed
