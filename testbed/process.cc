#include "testbed/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "testbed/netns.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace fogm2m::testbed {

namespace {

using Clock = std::chrono::steady_clock;

// The program's path: argv[0] itself when it has a slash, else the first
// executable of that name in PATH.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string dirs =
      path != nullptr ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::stringstream ss(dirs);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// What the child reports through the exec pipe when it cannot exec.
struct ChildFailure {
  int stage;  // index into kStages
  int error;  // errno
};
constexpr const char* kStages[] = {"wait for parent", "enter namespace", "open log file", "exec"};

[[noreturn]] void child_fail(int pipe_fd, int stage) {
  ChildFailure failure{stage, errno};
  (void)!::write(pipe_fd, &failure, sizeof(failure));
  ::_exit(127);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<Process> Process::launch(const LaunchOptions& options) {
  if (options.argv.empty())
    return make_error(ErrorKind::kInvalidArgument, "launch: empty command line");
  const std::string program = resolve_program(options.argv[0]);
  if (program.empty() || ::access(program.c_str(), X_OK) != 0) {
    return make_error(ErrorKind::kNotFound, "launch: program " + options.argv[0] + " not found");
  }

  // Everything the child needs is prepared before fork(): between fork and
  // exec only async-signal-safe calls are allowed in a threaded process.
  int netns_fd = -1;
  if (!options.netns.empty()) {
    Result<int> fd = open_netns(options.netns);
    if (!fd) return fd.error();
    netns_fd = *fd;
  }
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = options.log_path.empty() ? "/dev/null" : options.log_path;
  const pid_t parent = ::getpid();
  const bool detach = options.detach;
  const bool die_with_thread = options.die_with_thread;

  int go[2];    // parent -> child: "you are in your cgroup, go on"
  int exec[2];  // child -> parent: a ChildFailure, or EOF once exec succeeded
  if (::pipe2(go, O_CLOEXEC) != 0) {
    if (netns_fd >= 0) ::close(netns_fd);
    return make_error(ErrorKind::kIo, std::string("pipe: ") + std::strerror(errno));
  }
  if (::pipe2(exec, O_CLOEXEC) != 0) {
    ::close(go[0]);
    ::close(go[1]);
    if (netns_fd >= 0) ::close(netns_fd);
    return make_error(ErrorKind::kIo, std::string("pipe: ") + std::strerror(errno));
  }

  pid_t child = ::fork();
  if (child < 0) {
    for (int fd : {go[0], go[1], exec[0], exec[1], netns_fd}) {
      if (fd >= 0) ::close(fd);
    }
    return make_error(ErrorKind::kIo, std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    ::close(go[1]);
    ::close(exec[0]);
    if (detach) {
      ::setsid();
    } else {
      if (die_with_thread) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
      }
      ::setpgid(0, 0);
    }
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) child_fail(exec[1], 0);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) child_fail(exec[1], 1);
    int in_fd = options.stdin_fd >= 0 ? options.stdin_fd : ::open("/dev/null", O_RDONLY);
    int out_fd = options.stdout_fd >= 0
                     ? options.stdout_fd
                     : ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int err_fd = options.stderr_fd >= 0 ? options.stderr_fd : out_fd;
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) child_fail(exec[1], 2);
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    // No descriptor of the launcher (sockets, lock files) reaches the program;
    // the exec pipe closes on exec and so tells the parent it worked.
    ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig = 1; sig < 32; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    }
    ::execv(program.c_str(), argv.data());
    child_fail(exec[1], 3);
  }

  ::close(go[0]);
  ::close(exec[1]);
  if (netns_fd >= 0) ::close(netns_fd);
  Process process;
  process.pid_ = child;
  process.pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  if (!detach) ::setpgid(child, child);  // also done by the child; whoever is first wins

  Status hooked = options.before_exec ? options.before_exec(child) : Status{};
  if (!hooked) {
    ::close(go[1]);  // EOF: the child exits without exec
    ::close(exec[0]);
    (void)process.wait(std::chrono::milliseconds(5000));
    return make_error(hooked.error().kind,
                      "launch " + options.argv[0] + ": " + hooked.error().message);
  }
  const char byte = 1;
  (void)!::write(go[1], &byte, 1);
  ::close(go[1]);
  ChildFailure failure{};
  ssize_t n;
  do {
    n = ::read(exec[0], &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  ::close(exec[0]);
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    (void)process.wait(std::chrono::milliseconds(5000));
    const int stage = failure.stage >= 0 && failure.stage < 4 ? failure.stage : 3;
    return make_error(
        failure.error == ENOENT && stage == 3 ? ErrorKind::kNotFound : ErrorKind::kIo,
        "launch " + options.argv[0] + ": " + kStages[stage] + ": " + std::strerror(failure.error));
  }
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_),
      pidfd_(other.pidfd_),
      exit_code_(other.exit_code_),
      released_(other.released_) {
  other.pid_ = -1;
  other.pidfd_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0 && !exit_code_ && !released_) (void)stop();
    if (pidfd_ >= 0) ::close(pidfd_);
    pid_ = other.pid_;
    pidfd_ = other.pidfd_;
    exit_code_ = other.exit_code_;
    released_ = other.released_;
    other.pid_ = -1;
    other.pidfd_ = -1;
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_ && !released_) (void)stop();
  if (pidfd_ >= 0) ::close(pidfd_);
}

void Process::reap_status(int status) {
  exit_code_ = exit_code_of(status);
}

bool Process::running() {
  if (pid_ <= 0 || exit_code_ || released_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reap_status(status);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    exit_code_ = -1;  // someone else reaped it
    return false;
  }
  return true;
}

Result<int> Process::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || released_) return make_error(ErrorKind::kInvalidArgument, "wait: no process");
  const auto deadline = Clock::now() + timeout;
  while (running()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return make_error(ErrorKind::kTimeout, "process " + std::to_string(pid_) + " still running");
    }
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long long>(left.count(), 5)));
    }
  }
  return *exit_code_;
}

Result<int> Process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || released_) return make_error(ErrorKind::kInvalidArgument, "stop: no process");
  if (!running()) return *exit_code_;
  if (::kill(-pid_, SIGTERM) != 0) ::kill(pid_, SIGTERM);
  Result<int> code = wait(grace);
  if (code) return code;
  if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);
  return wait(std::chrono::milliseconds(10000));
}

Status Process::signal(int signo) {
  if (pid_ <= 0 || released_) return make_error(ErrorKind::kInvalidArgument, "signal: no process");
  if (!running()) return make_error(ErrorKind::kNotFound, "signal: the process has exited");
  if (::kill(-pid_, signo) != 0 && ::kill(pid_, signo) != 0)
    return make_error(ErrorKind::kIo, std::string("kill: ") + std::strerror(errno));
  return {};
}

void Process::release() {
  released_ = true;
}

unsigned long long process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: skip to the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::stringstream rest(stat.substr(close + 2));
  std::string field;
  // Fields 3.. follow; the start time is field 22, the 20th of the rest.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return 0;
  }
  return std::strtoull(field.c_str(), nullptr, 10);
}

namespace {

// Gone or a zombie (a zombie of someone else's is as good as gone for us).
bool process_gone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos || close + 2 >= stat.size()) return true;
  return stat[close + 2] == 'Z' || stat[close + 2] == 'X';
}

bool wait_gone(pid_t pid, std::chrono::milliseconds budget) {
  const auto deadline = Clock::now() + budget;
  while (!process_gone(pid)) {
    if (Clock::now() >= deadline) return false;
    // Our own child (e.g. in tests) must be reaped to disappear.
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  int status = 0;
  ::waitpid(pid, &status, WNOHANG);
  return true;
}

}  // namespace

bool process_alive(pid_t pid) {
  return pid > 0 && !process_gone(pid);
}

bool stop_foreign_process(pid_t pid, unsigned long long start_time,
                          std::chrono::milliseconds grace) {
  if (pid <= 1 || process_gone(pid)) return false;
  if (start_time != 0 && process_start_time(pid) != start_time) return false;
  ::kill(pid, SIGTERM);
  if (wait_gone(pid, grace)) return true;
  ::kill(pid, SIGKILL);
  return wait_gone(pid, std::chrono::milliseconds(5000));
}

}  // namespace fogm2m::testbed
