#include "testbed/load_balancer.h"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>

#include "testbed/command.h"
#include "testbed/netns.h"
#include "testbed/topology.h"

namespace fogm2m::testbed {

namespace {

std::string port_set(const std::vector<uint16_t>& ports) {
  std::string text = "{ ";
  for (size_t i = 0; i < ports.size(); ++i) text += (i ? ", " : "") + std::to_string(ports[i]);
  return text + " }";
}

std::string hash_expression(uint32_t buckets) {
  return "jhash ip saddr . udp sport mod " + std::to_string(buckets);
}

Status nft(const std::string& netns, const std::string& script) {
  CommandOptions options;
  options.netns = netns;
  options.input = script;
  return run_checked({"nft", "-f", "-"}, options);
}

}  // namespace

std::vector<std::string> assign_buckets(const std::vector<std::string>& previous,
                                        const std::vector<std::string>& backends,
                                        uint32_t buckets) {
  std::vector<std::string> owners(buckets);
  if (backends.empty()) return owners;
  const size_t n = backends.size();
  const size_t base = buckets / n, extra = buckets % n;
  std::map<std::string, size_t> quota, count;
  for (size_t i = 0; i < n; ++i) quota[backends[i]] = base + (i < extra ? 1 : 0);
  // Keep what a staying node had, up to its quota.
  for (uint32_t b = 0; b < buckets && b < previous.size(); ++b) {
    auto q = quota.find(previous[b]);
    if (q != quota.end() && count[previous[b]] < q->second) {
      owners[b] = previous[b];
      ++count[previous[b]];
    }
  }
  // Hand out the rest to whoever is furthest below quota (ties: list order).
  for (uint32_t b = 0; b < buckets; ++b) {
    if (!owners[b].empty()) continue;
    const std::string* best = nullptr;
    size_t best_gap = 0;
    for (const auto& node : backends) {
      size_t gap = quota[node] - count[node];
      if (gap > best_gap) {
        best = &node;
        best_gap = gap;
      }
    }
    if (best == nullptr) break;  // cannot happen: quotas sum to `buckets`
    owners[b] = *best;
    ++count[*best];
  }
  return owners;
}

std::string lvs_commands(const std::string& vip, const std::vector<uint16_t>& ports,
                         const std::vector<std::string>& backends) {
  std::string text;
  for (uint16_t port : ports) {
    const std::string service = vip + ":" + std::to_string(port);
    text += "ipvsadm -A -u " + service + " -s sh\n";
    for (const auto& node : backends)
      text += "ipvsadm -a -u " + service + " -r " + node + ":" + std::to_string(port) + " -m\n";
  }
  return text;
}

std::string NftablesLoadBalancer::ruleset(const LoadBalancerConfig& config) {
  // The bucket goes through the packet mark because nft 1.0.6 cannot list
  // (segfaults on) a map declared as `typeof jhash ...`; a mark-keyed map
  // lists fine. Only the first packet of a flow passes a nat chain.
  // postrouting: a node's own packets to a device (a request the node
  // starts, not an answer inside a flow the device started) leave as from
  // the virtual address too, so the device, which talks to the VIP, takes
  // them; and its answer comes back to that node through the entry they
  // create. Without it, a request a node sends before the device's next
  // packet re-creates the flow (after a conntrack flush, after a takeover)
  // arrives from an address the device ignores, and pins a flow that does.
  return "table ip " + config.table + " {\n" + "  map backends { type mark : ipv4_addr; }\n" +
         "  set nodes { type ipv4_addr; }\n" +
         "  chain prerouting {\n"
         "    type nat hook prerouting priority dstnat; policy accept;\n"
         "    ip daddr " +
         config.vip + " udp dport " + port_set(config.ports) + " meta mark set " +
         hash_expression(config.buckets) +
         " dnat to meta mark map @backends\n"
         "  }\n"
         "  chain postrouting {\n"
         "    type nat hook postrouting priority srcnat; policy accept;\n"
         "    ip saddr @nodes udp sport " +
         port_set(config.ports) + " snat to " + config.vip +
         "\n"
         "  }\n"
         "}\n";
}

Result<NftablesLoadBalancer> NftablesLoadBalancer::create(const LoadBalancerConfig& config) {
  if (config.table.empty() || config.vip.empty() || config.ports.empty() || config.buckets == 0) {
    return make_error(ErrorKind::kInvalidArgument,
                      "load balancer: table, vip, ports and buckets are required");
  }
  NftablesLoadBalancer lb(config);
  lb.owners_.assign(config.buckets, "");
  if (auto s = nft(config.netns, ruleset(config)); !s) return s.error();
  lb.loaded_ = true;
  // The conntrack sysctls of a namespace exist once its NAT table is in.
  const std::string timeout = std::to_string(config.udp_timeout_s);
  for (const char* key : {"net.netfilter.nf_conntrack_udp_timeout",
                          "net.netfilter.nf_conntrack_udp_timeout_stream"}) {
    if (auto s = write_netns_sysctl(config.netns, key, timeout); !s) return s.error();
  }
  return lb;
}

NftablesLoadBalancer::NftablesLoadBalancer(NftablesLoadBalancer&& other) noexcept
    : config_(std::move(other.config_)),
      backends_(std::move(other.backends_)),
      owners_(std::move(other.owners_)),
      loaded_(other.loaded_) {
  other.loaded_ = false;
}

NftablesLoadBalancer::~NftablesLoadBalancer() {
  (void)destroy();
}

Status NftablesLoadBalancer::set_backends(const std::vector<std::string>& addresses) {
  if (!loaded_) return make_error(ErrorKind::kInvalidArgument, "load balancer already destroyed");
  std::set<std::string> unique(addresses.begin(), addresses.end());
  if (unique.size() != addresses.size())
    return make_error(ErrorKind::kInvalidArgument, "duplicate node address");
  std::vector<std::string> owners = assign_buckets(owners_, addresses, config_.buckets);
  std::string script = "flush map ip " + config_.table + " backends\n" + "flush set ip " +
                       config_.table + " nodes\n";
  if (!addresses.empty()) {
    script += "add element ip " + config_.table + " nodes { ";
    for (size_t i = 0; i < addresses.size(); ++i) script += (i ? ", " : "") + addresses[i];
    script += " }\n";
    script += "add element ip " + config_.table + " backends { ";
    for (uint32_t b = 0; b < config_.buckets; ++b)
      script += (b ? ", " : "") + std::to_string(b) + " : " + owners[b];
    script += " }\n";
  }
  if (auto s = nft(config_.netns, script); !s) return s.error();
  bool removed = std::any_of(backends_.begin(), backends_.end(),
                             [&](const std::string& old) { return unique.count(old) == 0; });
  backends_ = addresses;
  owners_ = std::move(owners);
  if (removed) return flush_conntrack(config_.netns);
  return {};
}

Status NftablesLoadBalancer::destroy() {
  if (!loaded_) return {};
  // A namespace that is already gone took the table with it.
  if (!config_.netns.empty() && !netns_exists(config_.netns)) {
    loaded_ = false;
    return {};
  }
  Status s = nft(config_.netns, "delete table ip " + config_.table + "\n");
  if (s) loaded_ = false;
  return s;
}

Status flush_conntrack(const std::string& netns) {
  Result<ScopedNetns> inside = ScopedNetns::enter(netns);
  if (!inside) return inside.error();
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0)
    return make_error(ErrorKind::kIo, std::string("netlink socket: ") + std::strerror(errno));
  struct {
    nlmsghdr header;
    nfgenmsg body;
  } request{};
  request.header.nlmsg_len = sizeof(request);
  request.header.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  request.header.nlmsg_seq = 1;
  request.body.nfgen_family = AF_INET;
  request.body.version = NFNETLINK_V0;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  Status result;
  if (::sendto(fd, &request, sizeof(request), 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof(kernel)) < 0) {
    result = make_error(ErrorKind::kIo, std::string("conntrack flush: ") + std::strerror(errno));
  } else {
    char reply[512];
    ssize_t n = ::recv(fd, reply, sizeof(reply), 0);
    const auto* header = reinterpret_cast<const nlmsghdr*>(reply);
    if (n >= static_cast<ssize_t>(sizeof(nlmsghdr) + sizeof(nlmsgerr)) &&
        header->nlmsg_type == NLMSG_ERROR) {
      const auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
      if (error->error != 0) {
        result = make_error(ErrorKind::kIo,
                            std::string("conntrack flush: ") + std::strerror(-error->error));
      }
    } else if (n < 0) {
      result = make_error(ErrorKind::kIo, std::string("conntrack flush: ") + std::strerror(errno));
    }
  }
  ::close(fd);
  return result;
}

}  // namespace fogm2m::testbed
