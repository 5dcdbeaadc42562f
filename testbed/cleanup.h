// Names of a run's kernel objects, the lock that marks a run as alive, and
// removal of everything a run made, also after it crashed.
//
// Every object of run <run> carries it in its name:
//   network namespaces  fm-<run>-<host>      (lb, redis, node<i>, fleet<j>)
//   cgroups             fogm2m-<run>/<name>  (below the testbed's own group)
//   nftables table      fogm2m_<run>         (inside fm-<run>-lb)
//   files               /run/fogm2m/<run>.lock, /run/fogm2m/<run>.json
//   host sysctls raised /run/fogm2m/<run>.sysctl (host_sysctl.h) records them
//   containers, network fm-<run>-<member>, fm-<run> (container backend),
//                       recorded in /run/fogm2m/<run>.containers
//                       (container_deployment.h)
// A run is alive while some process holds the flock on its .lock file (the
// deploying process; the lock dies with it) or while its .json state file
// exists (a detached `fogm2m cluster up`). Anything else carrying a run id
// is a leftover.
#pragma once

#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/cgroup.h"

namespace fogm2m::testbed {

inline constexpr const char* kStateDir = "/run/fogm2m";
inline constexpr const char* kNetnsPrefix = "fm-";

// Run ids are 1..6 characters of [a-z0-9], so interface and namespace names
// stay short.
bool valid_run_id(const std::string& run);
// A fresh random run id of `length` characters.
std::string random_run_id(size_t length = 5);

std::string run_netns_prefix(const std::string& run);   // "fm-<run>-"
std::string run_cgroup_parent(const std::string& run);  // "fogm2m-<run>"
std::string run_nft_table(const std::string& run);      // "fogm2m_<run>"
std::string run_state_path(const std::string& run);     // /run/fogm2m/<run>.json
std::string run_lock_path(const std::string& run);      // /run/fogm2m/<run>.lock

// Holds the flock on /run/fogm2m/<run>.lock; releasing it (destructor)
// removes the file. Move-only.
class RunLock {
 public:
  // Error kInvalidArgument when another live process holds the run.
  static Result<RunLock> acquire(const std::string& run);
  RunLock(RunLock&& other) noexcept;
  RunLock& operator=(RunLock&&) = delete;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  RunLock() = default;
  int fd_ = -1;
  std::string path_;
};

// True when the run's lock is held by a live process or its state file exists.
bool run_alive(const std::string& run);

// Run ids that have namespaces, lock files, sysctl or container records on
// this host, sorted.
std::vector<std::string> list_runs();

// What a cleanup removed.
struct CleanupReport {
  int processes = 0;  // processes stopped (found in the run's namespaces)
  int namespaces = 0;
  int cgroups = 0;                  // <prefix> directories removed
  int tables = 0;                   // nftables tables removed from the root namespace
  int sysctls = 0;                  // host sysctls set back (host_sysctl.h)
  int containers = 0;               // containers removed (container backend)
  std::vector<std::string> errors;  // what could not be removed, with why
};

// Removes everything of run `run`: stops the processes inside its
// namespaces (SIGTERM, then SIGKILL after `grace_ms`), its cgroups (killing
// what is left in them), nftables tables named fogm2m_<run>* in the root
// namespace, its namespaces, its containers and their network (from its
// container record), and its lock and state files, and puts back the host
// sysctls it raised (host_sysctl.h). `host` may be null where there are
// no cgroups to look at.
CleanupReport remove_run(const std::string& run, const CgroupHost* host, int grace_ms = 3000);

// remove_run() for every run that is not alive (see run_alive()).
CleanupReport remove_leftovers(const CgroupHost* host, int grace_ms = 3000);

// Pids of the processes whose network namespace is the named one.
std::vector<pid_t> processes_in_netns(const std::string& netns);

}  // namespace fogm2m::testbed
