// Control groups made by the testbed; see cgroup.h for placement and contracts.
#include "testbed/cgroup.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "testbed/cgroup_stats.h"

namespace fogm2m::testbed {
namespace {

namespace fs = std::filesystem;

constexpr const char* kV1Controllers[] = {"cpu", "cpuacct", "memory"};
constexpr std::chrono::seconds kEmptyTimeout{5};

bool is_directory(const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// <base><path> where path is "/" or "/a/b".
std::string under(const std::string& base, const std::string& path) {
  return path == "/" ? base : base + path;
}

std::string parent_directory(const std::string& dir) {
  return fs::path(dir).parent_path().string();
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\n") - begin + 1);
}

Status check_group_name(const std::string& what, const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return make_error(ErrorKind::kInvalidArgument,
                      "cgroup " + what + " name \"" + name + "\" is not a plain directory name");
  }
  return {};
}

Status make_directory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) return {};
  return make_error(ErrorKind::kIo, "cannot create cgroup " + dir + ": " + std::strerror(errno));
}

// One mount of /proc/self/mountinfo that is a cgroup hierarchy: the part of
// the hierarchy it shows (its root) and, for v1, its controllers.
struct CgroupMount {
  bool v2 = false;
  std::vector<std::string> options;  // super options, e.g. {"rw", "cpu", "cpuacct"}
  std::string root;
};

std::vector<CgroupMount> read_cgroup_mounts(const std::string& proc_root) {
  std::vector<CgroupMount> mounts;
  auto text = read_text_file(proc_root + "/self/mountinfo");
  if (!text) return mounts;  // optional: only used to strip a subtree mount's root
  std::string_view t = *text;
  while (!t.empty()) {
    size_t nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t = nl == std::string_view::npos ? std::string_view() : t.substr(nl + 1);
    size_t dash = line.find(" - ");
    if (dash == std::string_view::npos) continue;
    std::vector<std::string> pre, post;
    for (auto [part, out] :
         {std::pair{line.substr(0, dash), &pre}, std::pair{line.substr(dash + 3), &post}}) {
      while (!part.empty()) {
        size_t sp = part.find(' ');
        if (sp != 0) out->emplace_back(part.substr(0, sp));
        part = sp == std::string_view::npos ? std::string_view() : part.substr(sp + 1);
      }
    }
    if (pre.size() < 5 || post.size() < 3 || (post[0] != "cgroup" && post[0] != "cgroup2"))
      continue;
    CgroupMount m;
    m.v2 = post[0] == "cgroup2";
    m.root = pre[3];
    std::string_view opts = post[2];
    while (!opts.empty()) {
      size_t comma = opts.find(',');
      m.options.emplace_back(opts.substr(0, comma));
      opts = comma == std::string_view::npos ? std::string_view() : opts.substr(comma + 1);
    }
    mounts.push_back(std::move(m));
  }
  return mounts;
}

// The path of /proc/self/cgroup relative to what the mount shows: when a
// mount exposes only a subtree (root "/docker/abc") the own path
// "/docker/abc/x" is "/x" below the mount point.
std::string strip_mount_root(const std::string& path, const std::vector<CgroupMount>& mounts,
                             bool v2, const std::string& controller) {
  for (const auto& m : mounts) {
    if (m.v2 != v2 || (!v2 && !contains(m.options, controller)) || m.root == "/") continue;
    if (path == m.root) return "/";
    if (path.size() > m.root.size() && path.compare(0, m.root.size(), m.root) == 0 &&
        path[m.root.size()] == '/') {
      return path.substr(m.root.size());
    }
  }
  return path;
}

Result<std::vector<pid_t>> read_procs(const std::string& dir) {
  auto text = read_text_file(dir + "/cgroup.procs");
  if (!text) return text.error();
  return parse_procs(*text);
}

// Kills every process in the group (not below it) and waits until
// cgroup.procs is empty. A group without cgroup.procs has no processes.
Status empty_group(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + kEmptyTimeout;
  const pid_t self = ::getpid();
  for (;;) {
    auto pids = read_procs(dir);
    if (!pids) {
      if (pids.error().kind == ErrorKind::kNotFound) return {};
      return pids.error();
    }
    if (pids->empty()) return {};
    for (pid_t pid : *pids) {
      if (pid == self) {
        return make_error(ErrorKind::kInvalidArgument,
                          "refusing to kill the testbed process itself, which is in " + dir);
      }
      ::kill(pid, SIGKILL);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(ErrorKind::kTimeout, "cgroup " + dir + " still has " +
                                                 std::to_string(pids->size()) +
                                                 " process(es) 5 s after SIGKILL (first pid " +
                                                 std::to_string(pids->front()) + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// rmdir, retried while the kernel still reports the group busy (processes
// that were just killed leave it asynchronously).
Status remove_directory(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + kEmptyTimeout;
  for (;;) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return {};
    int err = errno;
    if (err != EBUSY || std::chrono::steady_clock::now() > deadline) {
      return make_error(ErrorKind::kIo, "cannot remove cgroup " + dir + ": " + std::strerror(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Removes a group with all its descendants, deepest first, killing their
// processes. A directory already gone is success.
Status remove_group_tree(const std::string& dir) {
  if (!is_directory(dir)) return {};
  std::error_code ec;
  std::vector<std::string> children;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code ec2;
    if (entry.is_directory(ec2) && !entry.is_symlink(ec2))
      children.push_back(entry.path().string());
  }
  for (const auto& child : children) {
    if (auto s = remove_group_tree(child); !s) return s;
  }
  if (auto s = empty_group(dir); !s) return s;
  return remove_directory(dir);
}

// v2: makes sure `dir`'s children get the controllers, writing the missing
// ones to cgroup.subtree_control ("+cpu +memory").
Status enable_v2_controllers(const std::string& dir, const std::vector<std::string>& wanted) {
  auto enabled = read_text_file(dir + "/cgroup.subtree_control");
  if (!enabled) return enabled.error();
  auto have = parse_controllers(*enabled);
  std::string write;
  for (const auto& c : wanted) {
    if (contains(have, c)) continue;
    if (!write.empty()) write += ' ';
    write += "+" + c;
  }
  if (write.empty()) return {};
  auto available = read_text_file(dir + "/cgroup.controllers");
  if (!available) return available.error();
  for (const auto& c : wanted) {
    if (!contains(parse_controllers(*available), c)) {
      return make_error(ErrorKind::kUnsupported,
                        "cgroup v2 controller " + c + " is not available in " + dir +
                            " (not enabled by its parent or not delegated)");
    }
  }
  auto s = write_text_file(dir + "/cgroup.subtree_control", write);
  if (!s) {
    return make_error(s.error().kind,
                      s.error().message +
                          " (a v2 group holding processes cannot enable controllers for children)");
  }
  return {};
}

// v1: the hierarchy holding `controller` (its id in /proc/self/cgroup, and
// where it is mounted and this process's group in it). kNotFound when no
// hierarchy has it, it is not mounted, or the own group is missing.
Result<std::pair<int, CgroupHierarchy>> find_v1_hierarchy(
    const std::string& cgroup_root, const std::string& proc_root,
    const std::vector<ProcCgroupEntry>& entries, const std::vector<CgroupMount>& mounts,
    const char* controller) {
  auto it = std::find_if(entries.begin(), entries.end(), [&](const ProcCgroupEntry& e) {
    return contains(e.controllers, controller);
  });
  if (it == entries.end()) {
    return make_error(ErrorKind::kNotFound, "no cgroup v2 at " + cgroup_root +
                                                " and no v1 hierarchy with controller " +
                                                controller + " in " + proc_root + "/self/cgroup");
  }
  CgroupHierarchy h;
  h.controllers = it->controllers;
  for (const std::string& candidate : {join(it->controllers, ","), std::string(controller)}) {
    if (is_directory(cgroup_root + "/" + candidate)) {
      h.mount_dir = cgroup_root + "/" + candidate;
      break;
    }
  }
  if (h.mount_dir.empty()) {
    return make_error(ErrorKind::kNotFound, std::string("cgroup v1 controller ") + controller +
                                                " is not mounted at " + cgroup_root + "/" +
                                                join(it->controllers, ",") + " or " + cgroup_root +
                                                "/" + controller);
  }
  h.own_dir = under(h.mount_dir, strip_mount_root(it->path, mounts, false, controller));
  if (!is_directory(h.own_dir)) {
    return make_error(ErrorKind::kNotFound,
                      "own cgroup directory " + h.own_dir + " does not exist");
  }
  return std::make_pair(it->hierarchy_id, std::move(h));
}

// v1: a group's directories in the cpuset hierarchy (parent, group). A new
// v1 cpuset group starts with no CPUs and no memory nodes, and no process
// can join it until both are set: both levels get the own group's, and
// set_limits() then narrows the group's CPUs.
Result<std::pair<std::string, std::string>> make_v1_cpuset_group(const CgroupHost& host,
                                                                 const std::string& parent_name,
                                                                 const std::string& name) {
  const CgroupHierarchy* h = host.v1_cpuset();  // create() checked it is there
  const std::string parent_dir = h->own_dir + "/" + parent_name;
  const std::string dir = parent_dir + "/" + name;
  for (const std::string& d : {parent_dir, dir}) {
    if (auto s = make_directory(d); !s) return s.error();
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      auto current = read_text_file(d + "/" + file);
      if (!current) return current.error();
      if (!trim(*current).empty()) continue;
      auto inherited = read_text_file(parent_directory(d) + "/" + file);
      if (!inherited) return inherited.error();
      if (auto s = write_text_file(d + "/" + file, trim(*inherited)); !s) return s.error();
    }
  }
  return std::make_pair(parent_dir, dir);
}

// v2: where the parent group goes (see the note in cgroup.h): below the own
// group when that is the root or holds no processes, else beside it.
Result<std::string> v2_parent_location(const CgroupHierarchy& h) {
  if (h.own_dir == h.mount_dir) return h.own_dir;
  auto procs = read_procs(h.own_dir);
  if (!procs) return procs.error();
  if (procs->empty()) return h.own_dir;
  return parent_directory(h.own_dir);
}

}  // namespace

const char* to_string(CgroupVersion version) {
  return version == CgroupVersion::kV2 ? "v2" : "v1";
}

// ---------------------------------------------------------------------------
// CgroupHost

Result<CgroupHost> CgroupHost::detect(std::string cgroup_root, std::string proc_root) {
  CgroupHost host;
  host.cgroup_root_ = std::move(cgroup_root);
  host.proc_root_ = std::move(proc_root);
  // Paths are compared as strings below: no trailing slashes.
  for (std::string* root : {&host.cgroup_root_, &host.proc_root_}) {
    while (root->size() > 1 && root->back() == '/') root->pop_back();
  }
  auto text = read_text_file(host.proc_root_ + "/self/cgroup");
  if (!text) return text.error();
  auto entries = parse_proc_cgroup(*text);
  if (!entries) return entries.error();
  auto mounts = read_cgroup_mounts(host.proc_root_);

  if (fs::exists(host.cgroup_root_ + "/cgroup.controllers")) {
    host.version_ = CgroupVersion::kV2;
    auto it = std::find_if(entries->begin(), entries->end(), [](const ProcCgroupEntry& e) {
      return e.hierarchy_id == 0 && e.controllers.empty();
    });
    if (it == entries->end()) {
      return make_error(ErrorKind::kNotFound,
                        host.proc_root_ + "/self/cgroup has no \"0::/path\" line of cgroup v2");
    }
    CgroupHierarchy h;
    auto controllers = read_text_file(host.cgroup_root_ + "/cgroup.controllers");
    if (!controllers) return controllers.error();
    h.controllers = parse_controllers(*controllers);
    h.mount_dir = host.cgroup_root_;
    h.own_dir = under(h.mount_dir, strip_mount_root(it->path, mounts, true, ""));
    if (!is_directory(h.own_dir)) {
      return make_error(ErrorKind::kNotFound,
                        "own cgroup directory " + h.own_dir + " does not exist");
    }
    host.hierarchies_.push_back(std::move(h));
    return host;
  }

  host.version_ = CgroupVersion::kV1;
  std::set<int> seen;
  for (const char* controller : kV1Controllers) {
    auto found =
        find_v1_hierarchy(host.cgroup_root_, host.proc_root_, *entries, mounts, controller);
    if (!found) return found.error();
    if (!seen.insert(found->first).second) continue;  // combined mount, already added
    host.hierarchies_.push_back(std::move(found->second));
  }
  // The cpuset hierarchy is optional: only groups given CPUs need it.
  auto cpuset = find_v1_hierarchy(host.cgroup_root_, host.proc_root_, *entries, mounts, "cpuset");
  if (cpuset && !seen.count(cpuset->first)) host.v1_cpuset_ = std::move(cpuset->second);
  return host;
}

Result<std::string> CgroupHost::own_directory(const std::string& controller) const {
  if (version_ == CgroupVersion::kV2) return hierarchies_.front().own_dir;
  for (const auto& h : hierarchies_) {
    if (contains(h.controllers, controller)) return h.own_dir;
  }
  return make_error(ErrorKind::kNotFound, "no cgroup v1 hierarchy with controller " + controller);
}

// ---------------------------------------------------------------------------
// Cgroup

Result<Cgroup> Cgroup::create(const CgroupHost& host, const std::string& parent_name,
                              const std::string& name, const CgroupLimits& limits) {
  if (auto s = check_group_name("parent", parent_name); !s) return s.error();
  if (auto s = check_group_name("group", name); !s) return s.error();
  Cgroup group;
  group.version_ = host.version();
  group.name_ = name;
  group.parent_name_ = parent_name;

  if (host.version() == CgroupVersion::kV2) {
    const CgroupHierarchy& h = host.hierarchies().front();
    auto location = v2_parent_location(h);
    if (!location) return location.error();
    std::vector<std::string> wanted = {"cpu", "memory"};
    if (!limits.cpus.empty()) wanted.push_back("cpuset");
    // Every group from the root down to the location must pass the
    // controllers on; usually they already do and nothing is written.
    std::vector<std::string> chain;
    for (std::string dir = *location; dir.size() >= h.mount_dir.size();
         dir = parent_directory(dir)) {
      chain.push_back(dir);
      if (dir == h.mount_dir) break;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (auto s = enable_v2_controllers(*it, wanted); !s) return s.error();
    }
    const std::string parent_dir = *location + "/" + parent_name;
    if (auto s = make_directory(parent_dir); !s) return s.error();
    if (auto s = enable_v2_controllers(parent_dir, wanted); !s) return s.error();
    const std::string dir = parent_dir + "/" + name;
    if (auto s = make_directory(dir); !s) return s.error();
    group.dirs_ = {dir};
    group.parent_dirs_ = {parent_dir};
    group.cpu_dir_ = group.cpuacct_dir_ = group.memory_dir_ = dir;
    if (!limits.cpus.empty()) group.cpuset_dir_ = dir;
  } else {
    if (!limits.cpus.empty() && host.v1_cpuset() == nullptr) {
      return make_error(ErrorKind::kUnsupported,
                        "CPU placement needs the cpuset controller, and no cgroup v1 cpuset "
                        "hierarchy is mounted below " +
                            host.cgroup_root());
    }
    for (const auto& h : host.hierarchies()) {
      const std::string parent_dir = h.own_dir + "/" + parent_name;
      const std::string dir = parent_dir + "/" + name;
      if (auto s = make_directory(parent_dir); !s) return s.error();
      if (auto s = make_directory(dir); !s) return s.error();
      group.dirs_.push_back(dir);
      group.parent_dirs_.push_back(parent_dir);
      if (contains(h.controllers, "cpu")) group.cpu_dir_ = dir;
      if (contains(h.controllers, "cpuacct")) group.cpuacct_dir_ = dir;
      if (contains(h.controllers, "memory")) group.memory_dir_ = dir;
    }
    if (!limits.cpus.empty()) {
      auto dirs = make_v1_cpuset_group(host, parent_name, name);
      if (!dirs) {
        (void)group.destroy();
        return dirs.error();
      }
      group.dirs_.push_back(dirs->second);
      group.parent_dirs_.push_back(dirs->first);
      group.cpuset_dir_ = dirs->second;
    }
  }
  if (auto s = group.set_limits(limits); !s) {
    (void)group.destroy();  // do not leave a half-made group behind
    return s.error();
  }
  return group;
}

Result<Cgroup> Cgroup::open(const CgroupHost& host, const std::string& parent_name,
                            const std::string& name) {
  if (auto s = check_group_name("parent", parent_name); !s) return s.error();
  if (auto s = check_group_name("group", name); !s) return s.error();
  Cgroup group;
  group.version_ = host.version();
  group.name_ = name;
  group.parent_name_ = parent_name;
  if (host.version() == CgroupVersion::kV2) {
    // create() put it below the own group or beside it; look in both.
    const CgroupHierarchy& h = host.hierarchies().front();
    for (const std::string& location : {h.own_dir, parent_directory(h.own_dir)}) {
      const std::string parent_dir = location + "/" + parent_name;
      if (location.size() >= h.mount_dir.size() && is_directory(parent_dir + "/" + name)) {
        group.dirs_ = {parent_dir + "/" + name};
        group.parent_dirs_ = {parent_dir};
        group.cpu_dir_ = group.cpuacct_dir_ = group.memory_dir_ = group.dirs_.front();
        return group;
      }
    }
    return make_error(ErrorKind::kNotFound,
                      "no cgroup " + parent_name + "/" + name + " below or beside " + h.own_dir);
  }
  for (const auto& h : host.hierarchies()) {
    const std::string parent_dir = h.own_dir + "/" + parent_name;
    const std::string dir = parent_dir + "/" + name;
    if (!is_directory(dir)) return make_error(ErrorKind::kNotFound, "no cgroup " + dir);
    group.dirs_.push_back(dir);
    group.parent_dirs_.push_back(parent_dir);
    if (contains(h.controllers, "cpu")) group.cpu_dir_ = dir;
    if (contains(h.controllers, "cpuacct")) group.cpuacct_dir_ = dir;
    if (contains(h.controllers, "memory")) group.memory_dir_ = dir;
  }
  if (const CgroupHierarchy* h = host.v1_cpuset()) {
    const std::string dir = h->own_dir + "/" + parent_name + "/" + name;
    if (is_directory(dir)) {
      group.dirs_.push_back(dir);
      group.parent_dirs_.push_back(h->own_dir + "/" + parent_name);
      group.cpuset_dir_ = dir;
    }
  }
  return group;
}

Status Cgroup::set_limits(const CgroupLimits& limits) {
  if (limits.cpu_period_us < 1000 || limits.cpu_period_us > 1000000) {
    return make_error(
        ErrorKind::kInvalidArgument,
        "CPU period " + std::to_string(limits.cpu_period_us) + " us is outside 1000..1000000 us");
  }
  if (limits.cpu_quota_us != 0 && limits.cpu_quota_us < 1000) {
    return make_error(ErrorKind::kInvalidArgument, "CPU quota " +
                                                       std::to_string(limits.cpu_quota_us) +
                                                       " us is below the kernel's 1000 us minimum");
  }
  if (!limits.cpus.empty()) {
    if (cpuset_dir_.empty()) {
      return make_error(ErrorKind::kInvalidArgument,
                        "cgroup " + name_ + " was made without CPUs: it has no cpuset to set");
    }
    if (auto s = write_text_file(cpuset_dir_ + "/cpuset.cpus", limits.cpus); !s) return s;
  }
  const std::string period = std::to_string(limits.cpu_period_us);
  if (version_ == CgroupVersion::kV2) {
    const std::string quota =
        limits.cpu_quota_us == 0 ? "max" : std::to_string(limits.cpu_quota_us);
    if (auto s = write_text_file(cpu_dir_ + "/cpu.max", quota + " " + period); !s) return s;
    const std::string memory =
        limits.memory_limit_bytes == 0 ? "max" : std::to_string(limits.memory_limit_bytes);
    return write_text_file(memory_dir_ + "/memory.max", memory);
  }
  if (auto s = write_text_file(cpu_dir_ + "/cpu.cfs_period_us", period); !s) return s;
  const std::string quota = limits.cpu_quota_us == 0 ? "-1" : std::to_string(limits.cpu_quota_us);
  if (auto s = write_text_file(cpu_dir_ + "/cpu.cfs_quota_us", quota); !s) return s;
  const std::string memory =
      limits.memory_limit_bytes == 0 ? "-1" : std::to_string(limits.memory_limit_bytes);
  return write_text_file(memory_dir_ + "/memory.limit_in_bytes", memory);
}

Status Cgroup::add_process(pid_t pid) {
  if (pid <= 0) return make_error(ErrorKind::kInvalidArgument, "bad pid " + std::to_string(pid));
  for (const auto& dir : dirs_) {
    auto s = write_text_file(dir + "/cgroup.procs", std::to_string(pid));
    if (!s) {
      return make_error(s.error().kind, "cannot move process " + std::to_string(pid) +
                                            " into cgroup " + name_ + ": " + s.error().message);
    }
  }
  return {};
}

Result<CgroupSample> Cgroup::sample() const {
  if (dirs_.empty())
    return make_error(ErrorKind::kNotFound, "cgroup " + name_ + " was not created");
  if (version_ == CgroupVersion::kV2) return read_v2_sample(dirs_.front());
  return read_v1_sample(cpu_dir_, cpuacct_dir_, memory_dir_);
}

Result<Cgroup> Cgroup::of_process(const CgroupHost& host, pid_t pid) {
  const std::string file = host.proc_root() + "/" + std::to_string(pid) + "/cgroup";
  auto text = read_text_file(file);
  if (!text) return text.error();
  auto entries = parse_proc_cgroup(*text);
  if (!entries) return entries.error();
  const auto mounts = read_cgroup_mounts(host.proc_root());
  Cgroup group;
  group.version_ = host.version();
  auto add = [&](const CgroupHierarchy& h, const std::string& path,
                 const std::string& controller) -> Status {
    const std::string dir =
        under(h.mount_dir,
              strip_mount_root(path, mounts, host.version() == CgroupVersion::kV2, controller));
    if (!is_directory(dir)) return make_error(ErrorKind::kNotFound, "no cgroup " + dir);
    group.dirs_.push_back(dir);
    if (group.name_.empty()) {
      group.name_ = fs::path(dir).filename().string();
      group.parent_name_ = fs::path(dir).parent_path().filename().string();
    }
    return {};
  };
  if (host.version() == CgroupVersion::kV2) {
    auto it = std::find_if(entries->begin(), entries->end(), [](const ProcCgroupEntry& e) {
      return e.hierarchy_id == 0 && e.controllers.empty();
    });
    if (it == entries->end())
      return make_error(ErrorKind::kNotFound, file + " has no \"0::/path\" line of cgroup v2");
    if (Status s = add(host.hierarchies().front(), it->path, ""); !s) return s.error();
    group.cpu_dir_ = group.cpuacct_dir_ = group.memory_dir_ = group.dirs_.front();
    return group;
  }
  for (const auto& h : host.hierarchies()) {
    const std::string& controller = h.controllers.front();
    auto it = std::find_if(entries->begin(), entries->end(), [&](const ProcCgroupEntry& e) {
      return contains(e.controllers, controller);
    });
    if (it == entries->end())
      return make_error(ErrorKind::kNotFound, file + " names no group of controller " + controller);
    if (Status s = add(h, it->path, controller); !s) return s.error();
    if (contains(h.controllers, "cpu")) group.cpu_dir_ = group.dirs_.back();
    if (contains(h.controllers, "cpuacct")) group.cpuacct_dir_ = group.dirs_.back();
    if (contains(h.controllers, "memory")) group.memory_dir_ = group.dirs_.back();
  }
  return group;
}

Status Cgroup::reset_memory_peak() {
  if (version_ == CgroupVersion::kV2) {
    // Since 6.12 a write to memory.peak resets it only for reads through the
    // same open file, which a sample() that reopens the file never sees.
    return make_error(ErrorKind::kUnsupported,
                      "cgroup v2 memory.peak cannot be reset for later readers");
  }
  return write_text_file(memory_dir_ + "/memory.max_usage_in_bytes", "0");
}

std::vector<pid_t> Cgroup::processes() const {
  std::set<pid_t> pids;
  for (const auto& dir : dirs_) {
    auto procs = read_procs(dir);
    if (procs) pids.insert(procs->begin(), procs->end());
  }
  return {pids.begin(), pids.end()};
}

Status Cgroup::destroy() {
  // Kill in every hierarchy first (a process may have been moved in only
  // one), then remove the directories.
  for (const auto& dir : dirs_) {
    if (auto s = empty_group(dir); !s) return s;
  }
  for (const auto& dir : dirs_) {
    if (auto s = remove_group_tree(dir); !s) return s;
  }
  for (const auto& dir : parent_dirs_) {
    // The parent goes with its last child; other nodes' groups keep it busy.
    if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY) {
      return make_error(ErrorKind::kIo,
                        "cannot remove cgroup " + dir + ": " + std::strerror(errno));
    }
  }
  return {};
}

// ---------------------------------------------------------------------------
// Leftovers

Result<int> remove_leftover_cgroups(const CgroupHost& host, const std::string& prefix) {
  if (prefix.empty())
    return make_error(ErrorKind::kInvalidArgument,
                      "refusing to remove cgroups with an empty prefix");
  std::vector<std::string> search;
  auto add = [&](const std::string& dir) {
    if (std::find(search.begin(), search.end(), dir) == search.end()) search.push_back(dir);
  };
  for (const auto& h : host.hierarchies()) {
    add(h.own_dir);
    if (host.version() == CgroupVersion::kV2 && h.own_dir != h.mount_dir)
      add(parent_directory(h.own_dir));
    add(h.mount_dir);
  }
  if (const CgroupHierarchy* h = host.v1_cpuset()) {
    add(h->own_dir);
    add(h->mount_dir);
  }
  int removed = 0;
  std::string failures;
  for (const auto& dir : search) {
    std::error_code ec;
    std::vector<std::string> matches;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      std::error_code ec2;
      if (entry.is_directory(ec2) && !entry.is_symlink(ec2) &&
          entry.path().filename().string().compare(0, prefix.size(), prefix) == 0) {
        matches.push_back(entry.path().string());
      }
    }
    for (const auto& match : matches) {
      if (auto s = remove_group_tree(match); s) {
        ++removed;
      } else if (failures.empty()) {
        failures = s.error().message;
      }
    }
  }
  if (!failures.empty()) {
    return make_error(ErrorKind::kIo, "removed " + std::to_string(removed) +
                                          " leftover cgroup(s), but: " + failures);
  }
  return removed;
}

}  // namespace fogm2m::testbed
