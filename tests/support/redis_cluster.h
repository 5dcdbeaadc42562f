// A real Redis Cluster for tests: N redis-server processes in cluster mode
// (RedisServer children: free loopback ports, their own temporary
// directories with the cluster-config-file, PR_SET_PDEATHSIG), joined by
// `redis-cli --cluster create ... --cluster-replicas R --cluster-yes`. Stopped
// and removed when the object goes, also when a test fails.
//
// Like redis_server.h, no GoogleTest dependency. Built for fast failovers:
// cluster-node-timeout 1000 ms by default, cluster-replica-validity-factor 0
// (a replica may always take over), replicas synced at once
// (repl-diskless-sync-delay 0). A master SIGKILLed is replaced by its
// replica in about 2-3 s.
//
// The helpers that talk to the nodes (command(), master_of(), slot
// migrations) block: call them from the test's thread, between runs of the
// io_context under test.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"
#include "tests/support/redis_server.h"

namespace fogm2m::test {

struct RedisClusterTestOptions {
  size_t masters = 3;
  size_t replicas_per_master = 1;
  std::chrono::milliseconds node_timeout{1000};  // cluster-node-timeout
  // For the whole start: servers, create, every node reporting cluster_state:ok.
  std::chrono::milliseconds start_timeout{30000};
  std::string server_binary = "/usr/bin/redis-server";
  std::string cli_binary = "/usr/bin/redis-cli";
  // Appended to every server's command line.
  std::vector<std::string> extra_args;
};

class RedisCluster {
 public:
  // Starts the servers, creates the cluster and returns once every node
  // says cluster_state:ok, every replica is in sync with its master and
  // every node knows the others' roles.
  // Errors: kNotFound when a binary is missing, kTimeout, kIo (with the
  // output of redis-cli or a server's log).
  static Result<std::unique_ptr<RedisCluster>> start(RedisClusterTestOptions options = {});

  ~RedisCluster();
  RedisCluster(const RedisCluster&) = delete;
  RedisCluster& operator=(const RedisCluster&) = delete;

  // Kills every server (SIGKILL: nothing to save) and removes its
  // directory. Idempotent.
  void stop();

  size_t size() const { return servers_.size(); }
  RedisServer& server(size_t i) { return *servers_[i]; }
  // "127.0.0.1:<port>" of node i.
  std::string address(size_t i) const;
  // The node with that address; size() when none.
  size_t index_of(std::string_view address) const;

  // Sends one command to node i and waits (up to 5 s) for its reply: a
  // string, status or integer reply as its text, an array as its elements
  // (one level; nested arrays are left out), nil as no element. An error
  // reply is a kInvalidArgument with Redis' text.
  Result<std::vector<std::string>> command(size_t i, const std::vector<std::string>& argv);
  // The same, for a reply that is one value.
  Result<std::string> command_text(size_t i, const std::vector<std::string>& argv);

  // Node i's cluster id (CLUSTER MYID; cached).
  Result<std::string> node_id(size_t i);
  // The node serving `slot` as a live node sees it (CLUSTER NODES).
  Result<size_t> master_of(uint16_t slot);
  // Indexes of the nodes that are masters serving slots, ascending.
  Result<std::vector<size_t>> masters();
  // The replica of master `i` (a live one); size() when none.
  Result<size_t> replica_of(size_t master);

  // SIGKILLs node i (reaped; its directory stays until stop()).
  void kill(size_t i);
  bool running(size_t i) { return servers_[i]->running(); }

  // Slot migration as redis-cli --cluster reshard does it, in two steps.
  // begin: `to` IMPORTING from `from`, `from` MIGRATING to `to` (from then
  // on `from` answers ASK for keys it does not hold). finish: every key of
  // the slot MIGRATEd, then CLUSTER SETSLOT ... NODE <to> on every live
  // master; returns once every live node says `to` serves the slot.
  Status begin_slot_migration(uint16_t slot, size_t from, size_t to);
  Status finish_slot_migration(uint16_t slot, size_t from, size_t to);

  // Every live node says cluster_state:ok (and, with `replicas_synced`,
  // every replica's link to its master is up and every node sees every
  // other in its role: for a cluster that lost no node).
  Status wait_until_ok(std::chrono::milliseconds timeout, bool replicas_synced = false);

 private:
  RedisCluster() = default;

  RedisClusterTestOptions options_;
  std::vector<std::unique_ptr<RedisServer>> servers_;
  std::vector<std::string> ids_;
};

}  // namespace fogm2m::test
