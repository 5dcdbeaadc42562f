// What `fogm2m cluster up` leaves behind for `cluster status` and the user:
// the cluster's state file (/run/fogm2m/<name>.json, run_state_path()),
// and what its Redis says about who owns which device.
//
// The file is JSON: {"name","vip","lb_netns","control_netns","nft_table",
// "redis":<member>,"redis_address":"ip:port","nodes":[<member>...],
// "fleets":[<member>...],"devices","dtls","cgroup_version","cpu_quota_us",
// "cpu_period_us","memory_limit_bytes","work_dir","deploy_seconds":{...}},
// a member {"name","netns","address","pid","start_time","log"
// [,"cgroup","cgroup_dirs"][,"first_device","devices","stats_file"
// [,"source_range"]]}.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/deployment.h"

namespace fogm2m::testbed {

struct MemberState {
  std::string name;
  std::string netns;
  std::string address;
  std::string log_path;
  pid_t pid = -1;
  unsigned long long start_time = 0;  // tells a live process from a reused pid
  std::string cgroup;                 // parent/name
  std::vector<std::string> cgroup_dirs;
  int first_device = 0, devices = 0;  // fleets
  std::string stats_path;             // fleets
  std::string source_range;           // fleets sharing sockets

  // True while the process that was started still runs.
  bool running() const;
};

struct ClusterState {
  std::string name;
  std::string vip;
  std::string lb_netns;
  std::string control_netns;
  std::string nft_table;
  MemberState redis;
  std::string redis_address;  // "ip:port", reachable from control_netns
  std::vector<MemberState> nodes;
  std::vector<MemberState> fleets;
  int devices = 0;
  bool dtls = false;
  std::string cgroup_version;
  uint32_t cpu_quota_us = 0;
  uint32_t cpu_period_us = 0;
  uint64_t memory_limit_bytes = 0;
  std::string work_dir;
  DeployTimes times;
};

ClusterState cluster_state_of(const Deployment& deployment);

std::string to_json(const ClusterState& state);
// kMalformed names what is wrong.
Result<ClusterState> cluster_state_from_json(std::string_view text);

// Writes the state file of `state.name` (through a temporary file and a
// rename, so a reader never sees half of it). kIo on failure.
Status write_cluster_state(const ClusterState& state);
// kNotFound when the cluster has no state file.
Result<ClusterState> read_cluster_state(const std::string& name);

// What the cluster's Redis says: devices owned per node id, registrations.
struct ClusterOccupancy {
  std::map<std::string, int> devices_by_node;
  size_t registered = 0;
};
Result<ClusterOccupancy> read_occupancy(const ClusterState& state);

}  // namespace fogm2m::testbed
