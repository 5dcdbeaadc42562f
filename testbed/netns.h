// Named network namespaces (the /run/netns/<name> files of iproute2) and a
// guard that moves the calling thread into one and back.
//
// Namespaces are created with `ip netns add` so that every tool (ip, nft,
// ip netns exec) sees them; the guard uses setns(2) on the current thread
// only, so a thread can open sockets (e.g. a Redis connection) inside a
// namespace while the rest of the process stays where it is. A socket keeps
// the namespace it was created in after the thread leaves.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

// Where iproute2 keeps named namespaces.
inline constexpr const char* kNetnsDir = "/run/netns";

// Creates the named namespace with its loopback up. Error when it exists.
Status create_netns(const std::string& name);

// Deletes the named namespace (its veths go with it once no process is left
// inside). Not an error when it does not exist.
Status delete_netns(const std::string& name);

bool netns_exists(const std::string& name);

// Names of the namespaces in /run/netns that start with `prefix`, sorted.
std::vector<std::string> list_netns(const std::string& prefix);

// Opens the namespace file read-only and close-on-exec; the caller closes it.
// A name that starts with "/proc/" is taken as the path of a namespace file
// instead, e.g. /proc/<pid>/ns/net of a container's process (not made with
// `ip netns`); ScopedNetns::enter() accepts both.
Result<int> open_netns(const std::string& name);

// Inode of the namespace (what /proc/<pid>/ns/net of its members points at).
Result<ino_t> netns_inode(const std::string& name);

// While alive, the calling thread is inside the named namespace; destroying
// the guard (on the same thread) returns it to the namespace it came from.
// Move-only. An empty name enters nothing (a no-op guard).
class ScopedNetns {
 public:
  static Result<ScopedNetns> enter(const std::string& name);

  ScopedNetns(ScopedNetns&& other) noexcept;
  ScopedNetns& operator=(ScopedNetns&&) = delete;
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;
  ~ScopedNetns();

 private:
  ScopedNetns() = default;
  int previous_fd_ = -1;  // the thread's namespace before enter(); -1 when moved from
};

}  // namespace fogm2m::testbed
