#include "testbed/topology.h"

#include <arpa/inet.h>

#include <algorithm>
#include <fstream>

#include "io/address_range.h"
#include "testbed/command.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

namespace {

constexpr const char* kFrontBridge = "front";
constexpr const char* kBackBridge = "back";

// "10.77.0.0" -> the first three octets "10.77.0"; error unless a /24 base.
Result<std::string> network_base(const std::string& network) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, network.c_str(), &parsed) != 1) {
    return make_error(ErrorKind::kInvalidArgument, "not an IPv4 network: \"" + network + "\"");
  }
  if ((ntohl(parsed.s_addr) & 0xffu) != 0) {
    return make_error(ErrorKind::kInvalidArgument,
                      "network " + network + " must end in .0 (a /24)");
  }
  return network.substr(0, network.rfind('.'));
}

// One `ip -n <netns> -batch -` run: all of a namespace's commands in one go.
Status ip_batch(const std::string& netns, const std::vector<std::string>& lines) {
  std::string input;
  for (const auto& line : lines) input += line + "\n";
  CommandOptions options;
  options.input = input;
  return run_checked({"ip", "-n", netns, "-batch", "-"}, options);
}

}  // namespace

Status write_netns_sysctl(const std::string& netns, const std::string& key,
                          const std::string& value) {
  std::string path = "/proc/sys/" + key;
  std::replace(path.begin() + 10, path.end(), '.', '/');
  // /proc/sys/net shows the namespace of the thread that opens the file.
  Result<ScopedNetns> inside = ScopedNetns::enter(netns);
  if (!inside) return inside.error();
  std::ofstream out(path);
  out << value << "\n";
  out.flush();
  if (!out)
    return make_error(ErrorKind::kIo, "[" + netns + "] cannot write " + value + " to " + path);
  return {};
}

Result<Topology> Topology::create(const TopologyConfig& config) {
  Result<std::string> front = network_base(config.front_network);
  if (!front) return front.error();
  Result<std::string> back = network_base(config.back_network);
  if (!back) return back.error();
  if (*front == *back)
    return make_error(ErrorKind::kInvalidArgument, "front and back networks must differ");

  Topology topology;
  topology.config_ = config;
  topology.config_.front_network = *front;  // keep the bases from here on
  topology.config_.back_network = *back;
  topology.lb_netns_ = config.prefix + "lb";
  topology.vip_ = topology.address(Side::kFront, 1);
  topology.lb_back_ = topology.address(Side::kBack, 1);
  if (auto s = create_netns(topology.lb_netns_); !s) return s.error();
  topology.alive_ = true;  // from here on the destructor cleans up
  Status made =
      ip_batch(topology.lb_netns_, {
                                       std::string("link add ") + kFrontBridge + " type bridge",
                                       std::string("link add ") + kBackBridge + " type bridge",
                                       std::string("link set ") + kFrontBridge + " up",
                                       std::string("link set ") + kBackBridge + " up",
                                       "addr add " + topology.vip_ + "/24 dev " + kFrontBridge,
                                       "addr add " + topology.lb_back_ + "/24 dev " + kBackBridge,
                                   });
  if (!made) return made.error();
  if (auto s = write_netns_sysctl(topology.lb_netns_, "net.ipv4.ip_forward", "1"); !s)
    return s.error();
  // With br_netfilter loaded, bridged frames (node <-> Redis) would also run
  // through the namespace's IP hooks and conntrack; only routed traffic to
  // the VIP needs them. Absent on kernels without br_netfilter: ignored.
  (void)write_netns_sysctl(topology.lb_netns_, "net.bridge.bridge-nf-call-iptables", "0");
  return topology;
}

Topology::Topology(Topology&& other) noexcept
    : config_(std::move(other.config_)),
      lb_netns_(std::move(other.lb_netns_)),
      vip_(std::move(other.vip_)),
      lb_back_(std::move(other.lb_back_)),
      hosts_(std::move(other.hosts_)),
      alive_(other.alive_) {
  other.alive_ = false;
}

Topology::~Topology() {
  (void)destroy();
}

std::string Topology::address(Side side, int host_number) const {
  return (side == Side::kFront ? config_.front_network : config_.back_network) + "." +
         std::to_string(host_number);
}

Result<Host> Topology::add_host(const std::string& name, Side side, int host_number) {
  if (!alive_) return make_error(ErrorKind::kInvalidArgument, "topology already destroyed");
  if (name.empty() || name.size() > 11 || name == kFrontBridge || name == kBackBridge) {
    return make_error(ErrorKind::kInvalidArgument,
                      "bad host name \"" + name + "\" (1..11 characters)");
  }
  if (host_number < 2 || host_number > 254) {
    return make_error(ErrorKind::kInvalidArgument,
                      "host number " + std::to_string(host_number) + " not in 2..254");
  }
  if (hosts_.count(name) != 0)
    return make_error(ErrorKind::kInvalidArgument, "host " + name + " exists");
  Host host{name, config_.prefix + name, address(side, host_number), side, {}};
  for (const auto& [_, other] : hosts_) {
    if (other.address == host.address) {
      return make_error(ErrorKind::kInvalidArgument,
                        "address " + host.address + " already taken by " + other.name);
    }
  }
  if (auto s = create_netns(host.netns); !s) return s.error();
  hosts_[name] = host;  // registered before anything else can fail, so destroy() removes it
  const char* bridge = side == Side::kFront ? kFrontBridge : kBackBridge;
  Status wired =
      ip_batch(lb_netns_, {
                              "link add " + name + " type veth peer name eth0 netns " + host.netns,
                              "link set " + name + " master " + bridge,
                              "link set " + name + " up",
                          });
  if (!wired) return wired.error();
  std::vector<std::string> inside = {"addr add " + host.address + "/24 dev eth0",
                                     "link set eth0 up"};
  if (side == Side::kBack) inside.push_back("route add default via " + lb_back_);
  if (auto s = ip_batch(host.netns, inside); !s) return s.error();
  return host;
}

Status Topology::add_local_range(const std::string& name, const std::string& cidr) {
  auto it = hosts_.find(name);
  if (it == hosts_.end()) return make_error(ErrorKind::kNotFound, "no host " + name);
  Result<io::AddressRange> range = io::AddressRange::parse(cidr);
  if (!range) return range.error();
  if (!range->network.is_v4())
    return make_error(ErrorKind::kInvalidArgument, "local range " + cidr + " is not IPv4");
  Host& host = it->second;
  const std::string text = range->to_string();
  if (auto s = ip_batch(host.netns, {"route add local " + text + " dev lo"}); !s) return s;
  const char* bridge = host.side == Side::kFront ? kFrontBridge : kBackBridge;
  if (auto s =
          ip_batch(lb_netns_, {"route add " + text + " via " + host.address + " dev " + bridge});
      !s)
    return s;
  host.local_ranges.push_back(text);
  return {};
}

Status Topology::remove_host(const std::string& name) {
  auto it = hosts_.find(name);
  if (it == hosts_.end()) return make_error(ErrorKind::kNotFound, "no host " + name);
  Status deleted = delete_netns(it->second.netns);
  if (deleted) hosts_.erase(it);
  return deleted;
}

Status Topology::set_host_link(const std::string& name, bool up) {
  if (hosts_.count(name) == 0) return make_error(ErrorKind::kNotFound, "no host " + name);
  return ip_batch(lb_netns_, {"link set " + name + (up ? " up" : " down")});
}

Status Topology::destroy() {
  if (!alive_) return {};
  Status result;
  for (auto it = hosts_.begin(); it != hosts_.end();) {
    if (Status s = delete_netns(it->second.netns); !s) {
      if (result) result = s;
      ++it;
    } else {
      it = hosts_.erase(it);
    }
  }
  if (Status s = delete_netns(lb_netns_); !s && result) result = s;
  if (result) alive_ = false;
  return result;
}

}  // namespace fogm2m::testbed
