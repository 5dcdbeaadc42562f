#include "testbed/cpu_placement.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fogm2m::testbed {

namespace {

Status set_all_threads(const cpu_set_t& set) {
  DIR* tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr)
    return make_error(ErrorKind::kIo, std::string("/proc/self/task: ") + std::strerror(errno));
  Status result;
  while (const dirent* entry = ::readdir(tasks)) {
    const pid_t tid = static_cast<pid_t>(std::atoi(entry->d_name));
    if (tid <= 0) continue;
    // A thread that ended meanwhile (ESRCH) has nothing left to pin.
    if (::sched_setaffinity(tid, sizeof set, &set) != 0 && errno != ESRCH && result)
      result = make_error(ErrorKind::kIo, "sched_setaffinity(thread " + std::to_string(tid) +
                                              "): " + std::strerror(errno));
  }
  ::closedir(tasks);
  return result;
}

}  // namespace

std::string cpu_list(const std::vector<int>& cpus) {
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

Result<CpuSplit> split_cpus(const std::vector<int>& cpus) {
  if (cpus.size() < 2)
    return make_error(ErrorKind::kInvalidArgument,
                      "cpu_placement: split needs at least 2 CPUs, this process may use " +
                          std::to_string(cpus.size()) +
                          (cpus.empty() ? "" : " (" + cpu_list(cpus) + ")"));
  const auto middle = cpus.end() - static_cast<long>(cpus.size() / 2);
  return CpuSplit{{middle, cpus.end()}, {cpus.begin(), middle}};
}

Result<ProcessPinning> ProcessPinning::pin(const std::vector<int>& cpus) {
  ProcessPinning pinning;
  CPU_ZERO(&pinning.previous_);
  if (::sched_getaffinity(0, sizeof pinning.previous_, &pinning.previous_) != 0)
    return make_error(ErrorKind::kIo, std::string("sched_getaffinity: ") + std::strerror(errno));
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus) CPU_SET(c, &set);
  if (Status s = set_all_threads(set); !s) {
    (void)set_all_threads(pinning.previous_);
    return s.error();
  }
  pinning.active_ = true;
  return pinning;
}

ProcessPinning::ProcessPinning(ProcessPinning&& other) noexcept
    : previous_(other.previous_), active_(other.active_) {
  other.active_ = false;
}

ProcessPinning::~ProcessPinning() {
  if (active_) (void)set_all_threads(previous_);
}

}  // namespace fogm2m::testbed
