// Placing the calling process where a testbed wants it before it opens any
// socket: into a named network namespace (as `ip netns` makes them) and into
// existing cgroups. This is the "container" of a fleet or node on hosts
// without a Docker engine.
#pragma once

#include <string>

#include "lwm2m/result.h"

namespace fogm2m::io {

// Moves the calling thread (call it before starting other threads: they
// inherit it) into the network namespace NAME, i.e. /run/netns/NAME. kIo with
// the reason when it does not exist or setns fails (needs CAP_SYS_ADMIN).
Status enter_network_namespace(const std::string& name);

// Moves this process into the cgroup directory DIR by writing its pid to
// DIR/cgroup.procs (cgroup v2, or one v1 hierarchy's directory: call once per
// hierarchy). kIo with the reason on failure.
Status join_cgroup(const std::string& dir);

}  // namespace fogm2m::io
