#include "io/process_placement.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace fogm2m::io {

Status enter_network_namespace(const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos)
    return make_error(ErrorKind::kInvalidArgument,
                      "network namespace name \"" + name + "\" is not a plain name");
  const std::string path = "/run/netns/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return make_error(ErrorKind::kIo, "network namespace " + name + ": cannot open " + path + ": " +
                                          std::strerror(errno));
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int err = errno;
  ::close(fd);
  if (rc != 0)
    return make_error(ErrorKind::kIo,
                      "network namespace " + name + ": setns: " + std::strerror(err));
  return {};
}

Status join_cgroup(const std::string& dir) {
  const std::string path = dir + "/cgroup.procs";
  std::ofstream procs(path);
  if (!procs) return make_error(ErrorKind::kIo, "cgroup " + dir + ": cannot open " + path);
  procs << ::getpid() << "\n";
  procs.flush();
  if (!procs)
    return make_error(ErrorKind::kIo, "cgroup " + dir + ": writing the pid to " + path + " failed");
  return {};
}

}  // namespace fogm2m::io
