#include "testbed/cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <sstream>

#include "testbed/command.h"
#include "testbed/container_deployment.h"
#include "testbed/host_sysctl.h"
#include "testbed/netns.h"
#include "testbed/process.h"

namespace fogm2m::testbed {

bool valid_run_id(const std::string& run) {
  return !run.empty() && run.size() <= 6 && std::all_of(run.begin(), run.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

std::string random_run_id(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string run;
  for (size_t i = 0; i < length; ++i) run += kAlphabet[pick(random)];
  return run;
}

std::string run_netns_prefix(const std::string& run) {
  return std::string(kNetnsPrefix) + run + "-";
}
std::string run_cgroup_parent(const std::string& run) {
  return "fogm2m-" + run;
}
std::string run_nft_table(const std::string& run) {
  return "fogm2m_" + run;
}
std::string run_state_path(const std::string& run) {
  return std::string(kStateDir) + "/" + run + ".json";
}
std::string run_lock_path(const std::string& run) {
  return std::string(kStateDir) + "/" + run + ".lock";
}

Result<RunLock> RunLock::acquire(const std::string& run) {
  if (!valid_run_id(run))
    return make_error(ErrorKind::kInvalidArgument, "bad run id \"" + run + "\" (1..6 of a-z0-9)");
  std::error_code ec;
  std::filesystem::create_directories(kStateDir, ec);
  RunLock lock;
  lock.path_ = run_lock_path(run);
  lock.fd_ = ::open(lock.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock.fd_ < 0)
    return make_error(ErrorKind::kIo, "open " + lock.path_ + ": " + std::strerror(errno));
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock.fd_);
    lock.fd_ = -1;
    return make_error(ErrorKind::kInvalidArgument, "run " + run + " is in use by another process");
  }
  return lock;
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());
  ::close(fd_);
}

bool run_alive(const std::string& run) {
  if (::access(run_state_path(run).c_str(), F_OK) == 0) return true;
  int fd = ::open(run_lock_path(run).c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases our lock if we got it
  return held;
}

std::vector<std::string> list_runs() {
  std::set<std::string> runs;
  for (const auto& name : list_netns(kNetnsPrefix)) {
    size_t dash = name.find('-', std::strlen(kNetnsPrefix));
    if (dash == std::string::npos) continue;
    std::string run = name.substr(std::strlen(kNetnsPrefix), dash - std::strlen(kNetnsPrefix));
    if (valid_run_id(run)) runs.insert(run);
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kStateDir, ec)) {
    const auto path = entry.path();
    if (path.extension() == ".lock" && valid_run_id(path.stem().string()))
      runs.insert(path.stem().string());
  }
  for (const auto& run : runs_with_sysctl_records()) runs.insert(run);
  for (const auto& run : runs_with_container_records()) runs.insert(run);
  return {runs.begin(), runs.end()};
}

std::vector<pid_t> processes_in_netns(const std::string& netns) {
  std::vector<pid_t> pids;
  struct stat target {};
  if (::stat((std::string(kNetnsDir) + "/" + netns).c_str(), &target) != 0) return pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    struct stat ns {};
    const std::string path = std::string("/proc/") + entry->d_name + "/ns/net";
    if (::stat(path.c_str(), &ns) == 0 && ns.st_ino == target.st_ino &&
        ns.st_dev == target.st_dev) {
      pids.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(proc);
  return pids;
}

CleanupReport remove_run(const std::string& run, const CgroupHost* host, int grace_ms) {
  CleanupReport report;
  if (!valid_run_id(run)) {
    report.errors.push_back("bad run id \"" + run + "\"");
    return report;
  }
  const std::vector<std::string> namespaces = list_netns(run_netns_prefix(run));
  // Processes first: every process of a run lives in one of its namespaces.
  for (const auto& ns : namespaces) {
    for (pid_t pid : processes_in_netns(ns)) {
      if (pid == ::getpid()) continue;
      if (stop_foreign_process(pid, 0, std::chrono::milliseconds(grace_ms))) ++report.processes;
    }
  }
  if (host != nullptr) {
    Result<int> removed = remove_leftover_cgroups(*host, run_cgroup_parent(run));
    if (removed) {
      report.cgroups += *removed;
    } else {
      report.errors.push_back(removed.error().message);
    }
  }
  // The run's own table lives in its load-balancer namespace and goes with
  // it; a table of that name in the root namespace would be a stray one.
  if (Result<CommandResult> tables = run_command({"nft", "list", "tables"});
      tables && tables->exit_code == 0) {
    std::istringstream lines(tables->out);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string table, family, name;
      words >> table >> family >> name;
      if (table != "table" || !name.starts_with(run_nft_table(run))) continue;
      if (Status s = run_checked({"nft", "delete", "table", family, name}); s) {
        ++report.tables;
      } else {
        report.errors.push_back(s.error().message);
      }
    }
  }
  for (const auto& ns : namespaces) {
    if (Status s = delete_netns(ns); s) {
      ++report.namespaces;
    } else {
      report.errors.push_back(s.error().message);
    }
  }
  // The container backend's containers and network.
  int containers = 0;
  if (Status s = remove_run_containers(run, &containers); s) {
    report.containers += containers;
  } else {
    report.errors.push_back(s.error().message);
  }
  // Host-wide settings last: the run's namespaces (and their conntrack
  // entries) are gone by now.
  if (auto restored = restore_host_sysctls(run); restored) {
    for (const auto& change : *restored) {
      if (change.changed()) ++report.sysctls;
    }
  } else {
    report.errors.push_back(restored.error().message);
  }
  ::unlink(run_state_path(run).c_str());
  if (report.errors.empty()) ::unlink(run_lock_path(run).c_str());
  return report;
}

CleanupReport remove_leftovers(const CgroupHost* host, int grace_ms) {
  CleanupReport total;
  for (const auto& run : list_runs()) {
    if (run_alive(run)) continue;
    CleanupReport one = remove_run(run, host, grace_ms);
    total.processes += one.processes;
    total.namespaces += one.namespaces;
    total.cgroups += one.cgroups;
    total.tables += one.tables;
    total.sysctls += one.sysctls;
    total.containers += one.containers;
    total.errors.insert(total.errors.end(), one.errors.begin(), one.errors.end());
  }
  return total;
}

}  // namespace fogm2m::testbed
