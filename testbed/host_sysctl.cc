#include "testbed/host_sysctl.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "testbed/cleanup.h"

namespace fogm2m::testbed {

namespace {

constexpr const char* kSuffix = ".sysctl";

struct Entry {
  std::string key;
  uint64_t original = 0;
  uint64_t wanted = 0;
};

using Records = std::map<std::string, std::vector<Entry>>;  // run -> its raises

std::string key_path(const std::string& key, const HostSysctlPaths& paths) {
  std::string relative = key;
  std::replace(relative.begin(), relative.end(), '.', '/');
  return paths.proc_sys + "/" + relative;
}

// net.* under /proc/sys belongs to the namespace of the thread that opens it.
Status check_root_namespace(const HostSysctlPaths& paths) {
  if (paths.proc_sys != "/proc/sys") return {};
  struct stat self {
  }, init{};
  if (::stat("/proc/thread-self/ns/net", &self) != 0 || ::stat("/proc/1/ns/net", &init) != 0)
    return {};  // cannot tell: the write itself will say
  if (self.st_ino != init.st_ino || self.st_dev != init.st_dev)
    return make_error(ErrorKind::kInvalidArgument,
                      "host sysctls must be changed from the root network namespace");
  return {};
}

Status write_value(const std::string& key, uint64_t value, const HostSysctlPaths& paths) {
  if (Status s = check_root_namespace(paths); !s) return s;
  const std::string path = key_path(key, paths);
  std::ofstream out(path);
  out << value << "\n";
  out.flush();
  if (!out)
    return make_error(ErrorKind::kIo, "cannot write " + std::to_string(value) + " to " + path);
  return {};
}

// The state directory, locked (flock on the directory itself) while alive.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::string& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    DirLock lock;
    lock.fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lock.fd_ < 0)
      return make_error(ErrorKind::kIo, "open " + dir + ": " + std::strerror(errno));
    while (::flock(lock.fd_, LOCK_EX) != 0) {
      if (errno != EINTR)
        return make_error(ErrorKind::kIo, "lock " + dir + ": " + std::strerror(errno));
    }
    return lock;
  }
  DirLock(DirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  DirLock() = default;
  int fd_ = -1;
};

std::vector<Entry> read_record(const std::string& path) {
  std::vector<Entry> entries;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    Entry e;
    if (words >> e.key >> e.original >> e.wanted) entries.push_back(e);
  }
  return entries;
}

Records read_records(const HostSysctlPaths& paths) {
  Records records;
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(paths.state_dir, ec)) {
    const auto& p = file.path();
    if (p.extension() != kSuffix || !valid_run_id(p.stem().string())) continue;
    records[p.stem().string()] = read_record(p.string());
  }
  return records;
}

// Writes (or, empty, removes) a run's record through a rename.
Status write_record(const std::string& run, const std::vector<Entry>& entries,
                    const HostSysctlPaths& paths) {
  const std::string path = run_sysctl_path(run, paths);
  if (entries.empty()) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return make_error(ErrorKind::kIo, "remove " + path + ": " + std::strerror(errno));
    return {};
  }
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp);
    for (const auto& e : entries) out << e.key << " " << e.original << " " << e.wanted << "\n";
    out.flush();
    if (!out) return make_error(ErrorKind::kIo, "cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    return make_error(ErrorKind::kIo, "cannot write " + path + ": " + std::strerror(errno));
  return {};
}

}  // namespace

std::string run_sysctl_path(const std::string& run, const HostSysctlPaths& paths) {
  return paths.state_dir + "/" + run + kSuffix;
}

Result<uint64_t> read_host_sysctl(const std::string& key, const HostSysctlPaths& paths) {
  const std::string path = key_path(key, paths);
  std::ifstream in(path);
  uint64_t value = 0;
  if (!(in >> value)) return make_error(ErrorKind::kNotFound, "cannot read " + path);
  return value;
}

Result<SysctlChange> raise_host_sysctl(const std::string& run, const std::string& key,
                                       uint64_t value, const HostSysctlPaths& paths) {
  if (!valid_run_id(run))
    return make_error(ErrorKind::kInvalidArgument, "bad run id \"" + run + "\"");
  Result<DirLock> lock = DirLock::acquire(paths.state_dir);
  if (!lock) return lock.error();
  Result<uint64_t> current = read_host_sysctl(key, paths);
  if (!current) return current.error();
  SysctlChange change{key, *current, *current};
  if (*current >= value) return change;

  Records records = read_records(paths);
  uint64_t original = *current;
  for (const auto& [_, entries] : records)
    for (const auto& e : entries)
      if (e.key == key) original = e.original;  // the host's value before the first raise
  std::vector<Entry> own = records[run];
  const std::vector<Entry> before = own;
  auto it = std::find_if(own.begin(), own.end(), [&](const Entry& e) { return e.key == key; });
  if (it == own.end()) {
    own.push_back({key, original, value});
  } else {
    it->wanted = std::max(it->wanted, value);
  }
  if (Status s = write_record(run, own, paths); !s) return s.error();  // recorded first
  if (Status s = write_value(key, value, paths); !s) {
    (void)write_record(run, before, paths);
    return s.error();
  }
  change.after = value;
  return change;
}

Result<std::vector<SysctlChange>> restore_host_sysctls(
    const std::string& run, const HostSysctlPaths& paths,
    const std::function<bool(const std::string&)>& alive) {
  std::vector<SysctlChange> changes;
  if (!valid_run_id(run))
    return make_error(ErrorKind::kInvalidArgument, "bad run id \"" + run + "\"");
  if (::access(run_sysctl_path(run, paths).c_str(), F_OK) != 0) return changes;
  Result<DirLock> lock = DirLock::acquire(paths.state_dir);
  if (!lock) return lock.error();
  Records records = read_records(paths);
  const std::vector<Entry> own = records[run];
  records.erase(run);
  Status result;
  for (const auto& mine : own) {
    Result<uint64_t> current = read_host_sysctl(mine.key, paths);
    if (!current) {
      result = current.error();
      continue;
    }
    // What the runs still alive want, the original at least.
    uint64_t target = mine.original;
    uint64_t highest_set = mine.wanted;
    for (const auto& [other, entries] : records) {
      for (const auto& e : entries) {
        if (e.key != mine.key) continue;
        highest_set = std::max(highest_set, e.wanted);
        if (alive ? alive(other) : run_alive(other)) target = std::max(target, e.wanted);
      }
    }
    SysctlChange change{mine.key, *current, *current};
    // A value above anything a run set was set by someone else since: leave it.
    if (*current != target && *current <= highest_set) {
      if (Status s = write_value(mine.key, target, paths); !s) {
        result = s;
        continue;
      }
      change.after = target;
    }
    changes.push_back(change);
  }
  if (!result) return result.error();  // the record stays: a later cleanup tries again
  if (Status s = write_record(run, {}, paths); !s) return s.error();
  return changes;
}

std::vector<std::string> runs_with_sysctl_records(const HostSysctlPaths& paths) {
  std::vector<std::string> runs;
  for (const auto& [run, _] : read_records(paths)) runs.push_back(run);
  return runs;
}

}  // namespace fogm2m::testbed
