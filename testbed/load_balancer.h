// The layer-4 UDP load balancer in front of the server nodes.
//
// NftablesLoadBalancer: one nftables table in the load-balancer namespace
// that DNATs UDP to the virtual address (ports 5683 and 5684) to a node
// chosen by `jhash ip saddr . udp sport mod <buckets>` (kept in the packet
// mark of the flow's first packet) through a map from bucket to node address. So one source ip:port
// always lands on the same node (CoAP exchanges and DTLS sessions stay on it), the way LVS's
// source-hash scheduler does. conntrack keeps a flow on its node while it is
// active; the UDP timeouts of the namespace are set to 300 s as in the
// reference study.
//
// Changing the node set rewrites the bucket map in one nft transaction
// (flush + add: atomic for packets). Buckets of nodes that stay keep their
// node; only the buckets of a removed node, or the share a new node takes
// over, move. After a removal the namespace's conntrack table is flushed so
// flows of the removed node re-hash at once (flows of other nodes re-hash to
// the node they were on).
//
// lvs_commands() prints the ipvsadm equivalent for hosts with IP_VS.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct LoadBalancerConfig {
  std::string netns;  // the load-balancer namespace (empty: the caller's)
  std::string table;  // nftables table name, e.g. "fogm2m_ab12"
  std::string vip;    // virtual address the devices talk to
  std::vector<uint16_t> ports = {5683, 5684};
  uint32_t buckets = 256;        // hash buckets shared out among the nodes
  uint32_t udp_timeout_s = 300;  // nf_conntrack_udp_timeout and _stream
};

// A load balancer spreading devices over a changing set of node addresses.
class LoadBalancer {
 public:
  virtual ~LoadBalancer() = default;
  // Replaces the node set (addresses). Empty: nothing is forwarded.
  virtual Status set_backends(const std::vector<std::string>& addresses) = 0;
  virtual const std::vector<std::string>& backends() const = 0;
  // Removes the load balancer's kernel state. Idempotent.
  virtual Status destroy() = 0;
};

class NftablesLoadBalancer final : public LoadBalancer {
 public:
  // Loads the table (empty map) and sets the conntrack timeouts.
  static Result<NftablesLoadBalancer> create(const LoadBalancerConfig& config);

  NftablesLoadBalancer(NftablesLoadBalancer&& other) noexcept;
  NftablesLoadBalancer& operator=(NftablesLoadBalancer&&) = delete;
  ~NftablesLoadBalancer() override;

  Status set_backends(const std::vector<std::string>& addresses) override;
  const std::vector<std::string>& backends() const override { return backends_; }
  Status destroy() override;
  // Forgets the table without removing it (it outlives this object).
  void release() { loaded_ = false; }

  // Node address of each bucket (empty strings when there are no nodes).
  const std::vector<std::string>& bucket_owners() const { return owners_; }
  // The ruleset text loaded by create().
  static std::string ruleset(const LoadBalancerConfig& config);

 private:
  explicit NftablesLoadBalancer(LoadBalancerConfig config) : config_(std::move(config)) {}

  LoadBalancerConfig config_;
  std::vector<std::string> backends_;
  std::vector<std::string> owners_;
  bool loaded_ = false;
};

// New owner of each bucket for the node set `backends`, changing as few
// buckets as possible from `previous` (bucket -> address, "" = none; may be
// empty for a first assignment): buckets of nodes that stay keep them up to
// an even share; freed buckets go to the nodes with the fewest. Every node
// ends with floor(n/N) or ceil(n/N) of the n buckets.
std::vector<std::string> assign_buckets(const std::vector<std::string>& previous,
                                        const std::vector<std::string>& backends, uint32_t buckets);

// ipvsadm commands that build the same balancer with LVS (source hashing,
// NAT forwarding), one per line.
std::string lvs_commands(const std::string& vip, const std::vector<uint16_t>& ports,
                         const std::vector<std::string>& backends);

// Flushes the conntrack table of the named namespace (netlink).
Status flush_conntrack(const std::string& netns);

}  // namespace fogm2m::testbed
