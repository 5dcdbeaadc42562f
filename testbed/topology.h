// The network of one emulated run, LVS-NAT style (DESIGN.md, "Network
// topology"): a load-balancer namespace holding two Linux bridges,
//   front: the virtual address (VIP) and one veth per fleet namespace,
//   back:  the load balancer's back address, Redis and one veth per node,
// and one namespace per host, whose eth0 is the other end of its veth. Back
// hosts route by default through the load balancer's back address, so the
// replies of nodes pass its conntrack, which undoes the DNAT. IPv4
// forwarding is switched on inside the load-balancer namespace only.
//
// A host may own a whole range of addresses besides its eth0 address
// (add_local_range(): emulated devices that share one socket, each sending
// from its own address): the range is local inside the host's namespace
// (`ip route add local CIDR dev lo`, AnyIP) and the load balancer routes it
// via the host's address, which is how replies and the nodes' own requests
// find the devices.
//
// Every object lives inside namespaces the topology made (named
// "<prefix><host>"); nothing is added to the root namespace. destroy()
// deletes the namespaces, which takes their interfaces with them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct TopologyConfig {
  // Namespace names are <prefix><host>, e.g. "fm-ab12-" + "node1".
  std::string prefix;
  // /24 networks; the load balancer takes .1 of both (front .1 is the VIP).
  std::string front_network = "10.77.0.0";
  std::string back_network = "10.78.0.0";
};

enum class Side { kFront, kBack };

// A host attached to one of the bridges.
struct Host {
  std::string name;     // e.g. "node1"
  std::string netns;    // e.g. "fm-ab12-node1"
  std::string address;  // e.g. "10.78.0.11"
  Side side = Side::kBack;
  std::vector<std::string> local_ranges;  // CIDRs (add_local_range())
};

class Topology {
 public:
  // Makes the load-balancer namespace with both bridges and addresses and
  // turns on forwarding there. On error, whatever was made is removed.
  static Result<Topology> create(const TopologyConfig& config);

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&&) = delete;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  // Destroys what is left (see destroy()).
  ~Topology();

  // Makes namespace <prefix><name> with eth0 on the given side, at
  // `host_number` (2..254) of that side's /24; back hosts get a default
  // route via the load balancer. Names are at most 11 characters (they also
  // name the veth end on the bridge).
  Result<Host> add_host(const std::string& name, Side side, int host_number);

  // Makes `cidr` (IPv4, e.g. "10.128.0.0/20") local inside the host's
  // namespace and routes it there from the load balancer's namespace. The
  // routes go with the namespaces.
  Status add_local_range(const std::string& name, const std::string& cidr);

  // Deletes the host's namespace (and so its veth). Processes inside should
  // be stopped first; the namespace lives on until they are gone.
  Status remove_host(const std::string& name);

  // Takes the bridge end of the host's veth down (a cut cable: the host
  // keeps its address and routes, nothing passes) or up again.
  Status set_host_link(const std::string& name, bool up);

  // Deletes every host namespace and the load-balancer namespace. Idempotent.
  Status destroy();

  // Forgets the namespaces without deleting them (they outlive this object).
  void release() { alive_ = false; }

  const std::string& lb_netns() const { return lb_netns_; }
  const std::string& vip() const { return vip_; }                  // front .1
  const std::string& lb_back_address() const { return lb_back_; }  // back .1
  const std::map<std::string, Host>& hosts() const { return hosts_; }
  // Address on `side` for host number n, e.g. (kBack, 11) -> "10.78.0.11".
  std::string address(Side side, int host_number) const;

 private:
  Topology() = default;

  TopologyConfig config_;
  std::string lb_netns_;
  std::string vip_, lb_back_;
  std::map<std::string, Host> hosts_;
  bool alive_ = false;
};

// Writes `value` to /proc/sys/<key with dots as slashes> inside the named
// namespace (net.* keys are per namespace), e.g. ("net.ipv4.ip_forward", "1").
Status write_netns_sysctl(const std::string& netns, const std::string& key,
                          const std::string& value);

}  // namespace fogm2m::testbed
