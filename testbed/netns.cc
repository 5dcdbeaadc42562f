#include "testbed/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "testbed/command.h"

namespace fogm2m::testbed {

namespace {

std::string netns_path(const std::string& name) {
  return std::string(kNetnsDir) + "/" + name;
}

// Names become file names and arguments of ip(8): keep them plain.
bool valid_name(const std::string& name) {
  return !name.empty() && name.size() < 64 &&
         std::all_of(name.begin(), name.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                     }) &&
         name != "." && name != "..";
}

}  // namespace

Status create_netns(const std::string& name) {
  if (!valid_name(name))
    return make_error(ErrorKind::kInvalidArgument, "bad namespace name \"" + name + "\"");
  if (netns_exists(name))
    return make_error(ErrorKind::kInvalidArgument, "namespace " + name + " already exists");
  if (auto s = run_checked({"ip", "netns", "add", name}); !s) return s.error();
  return run_checked({"ip", "-n", name, "link", "set", "lo", "up"});
}

Status delete_netns(const std::string& name) {
  if (!valid_name(name))
    return make_error(ErrorKind::kInvalidArgument, "bad namespace name \"" + name + "\"");
  if (!netns_exists(name)) return {};
  return run_checked({"ip", "netns", "delete", name});
}

bool netns_exists(const std::string& name) {
  struct stat st {};
  return valid_name(name) && ::stat(netns_path(name).c_str(), &st) == 0;
}

std::vector<std::string> list_netns(const std::string& prefix) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<int> open_netns(const std::string& name) {
  const bool path = name.starts_with("/proc/") && name.find("/../") == std::string::npos;
  if (!path && !valid_name(name))
    return make_error(ErrorKind::kInvalidArgument, "bad namespace name \"" + name + "\"");
  int fd = ::open(path ? name.c_str() : netns_path(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return make_error(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                      "open namespace " + name + ": " + std::strerror(errno));
  }
  return fd;
}

Result<ino_t> netns_inode(const std::string& name) {
  struct stat st {};
  if (!valid_name(name) || ::stat(netns_path(name).c_str(), &st) != 0) {
    return make_error(ErrorKind::kNotFound, "no namespace " + name);
  }
  return st.st_ino;
}

Result<ScopedNetns> ScopedNetns::enter(const std::string& name) {
  ScopedNetns guard;
  if (name.empty()) return guard;
  Result<int> target = open_netns(name);
  if (!target) return target.error();
  guard.previous_fd_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (guard.previous_fd_ < 0) {
    ::close(*target);
    return make_error(ErrorKind::kIo,
                      std::string("open /proc/thread-self/ns/net: ") + std::strerror(errno));
  }
  if (::setns(*target, CLONE_NEWNET) != 0) {
    std::string why = std::strerror(errno);
    ::close(*target);
    return make_error(ErrorKind::kIo, "setns into " + name + ": " + why);
  }
  ::close(*target);
  return guard;
}

ScopedNetns::ScopedNetns(ScopedNetns&& other) noexcept : previous_fd_(other.previous_fd_) {
  other.previous_fd_ = -1;
}

ScopedNetns::~ScopedNetns() {
  if (previous_fd_ < 0) return;
  // Returning to a namespace we were in cannot fail short of a kernel bug;
  // there is nothing better to do than carry on.
  (void)::setns(previous_fd_, CLONE_NEWNET);
  ::close(previous_fd_);
}

}  // namespace fogm2m::testbed
