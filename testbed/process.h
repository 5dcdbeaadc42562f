// Launcher of the testbed's processes (Redis, nodes, fleets, helper tools).
//
// launch() forks; before the child execs, the parent runs a hook with the
// child's pid (the deployment puts the child into its cgroup there, so the
// program's first instruction is already accounted and limited), then lets
// the child go on: it enters the network namespace, becomes the leader of a
// new process group (or of a new session when detached), points stdin at
// /dev/null and stdout/stderr at a log file, and execs. launch() returns once
// exec succeeded, or with the reason it failed (program not found, namespace
// gone, hook failed).
//
// Unless detached, the child gets PR_SET_PDEATHSIG(SIGKILL): it dies with the
// thread that launched it, even when the launcher crashes. Detached children
// (for `fogm2m cluster up`) outlive the launcher.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct LaunchOptions {
  // argv[0] is the program: a path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Named network namespace to run in; empty: the launcher's.
  std::string netns;
  // stdout and stderr are appended to this file; empty: /dev/null.
  std::string log_path;
  // When >= 0, used as the child's stdin/stdout/stderr instead (run_command).
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Runs in the parent with the child's pid before the child execs; an error
  // kills the child and fails the launch. E.g. Cgroup::add_process.
  std::function<Status(pid_t)> before_exec;
  // New session instead of a new process group, and no PDEATHSIG.
  bool detach = false;
  // PR_SET_PDEATHSIG(SIGKILL) (when not detached): the child dies with the
  // thread that launched it. Off for a child (re)started from a short-lived
  // thread (a fault injector's), which its owner stops by other means.
  bool die_with_thread = true;
};

// One child process. Move-only; destroying a Process that still runs stops
// it (see stop()), unless it was released.
class Process {
 public:
  static Result<Process> launch(const LaunchOptions& options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }

  // True until the child exited (reaps it when it has).
  bool running();

  // Waits up to `timeout` for the child to exit. Returns its exit code, or
  // 128 + signal number when a signal ended it; kTimeout when still running.
  Result<int> wait(std::chrono::milliseconds timeout);

  // SIGTERM to the child's process group, up to `grace` for it to exit, then
  // SIGKILL. Returns the exit code as wait() does. Idempotent.
  Result<int> stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  // Sends `signo` to the child's process group (SIGKILL, SIGSTOP, SIGCONT
  // for faults); use wait()/running() to see the effect.
  Status signal(int signo);

  // Forgets the child without stopping it (it keeps running detached);
  // pid() stays valid, running()/wait()/stop() no longer act on it.
  void release();

 private:
  Process() = default;
  void reap_status(int status);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  std::optional<int> exit_code_;
  bool released_ = false;
};

// Sends SIGTERM to a process that is not our child (e.g. one left by an
// earlier `cluster up`), waits up to `grace` for it to go away, then SIGKILLs
// it. When `start_time` is non-zero, the process is touched only if its
// start time (field 22 of /proc/<pid>/stat) still matches, so a recycled pid
// is left alone. Returns true when the process was found and is gone.
bool stop_foreign_process(pid_t pid, unsigned long long start_time,
                          std::chrono::milliseconds grace);

// True while the process exists and is not a zombie.
bool process_alive(pid_t pid);

// Start time of a process in clock ticks since boot (0 when it does not exist).
unsigned long long process_start_time(pid_t pid);

}  // namespace fogm2m::testbed
