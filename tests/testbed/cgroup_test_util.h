// Helpers of the testbed's cgroup and collector tests: a writable copy of a
// fake cgroup/procfs tree (tests/data/cgroup/<layout>) removed at the end,
// and a busy child process that spins once it is told to.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fogm2m::testbed::test {

// A temporary copy of tests/data/cgroup/<layout>: <root>/sys is the cgroup
// root, <root>/proc the procfs root.
class FakeTree {
 public:
  explicit FakeTree(const std::string& layout) {
    char tmpl[] = "/tmp/fogm2m-cgroup-test-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    std::filesystem::copy(std::string(FOGM2M_SOURCE_DIR) + "/tests/data/cgroup/" + layout, root_,
                          std::filesystem::copy_options::recursive);
  }
  ~FakeTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  std::string sys() const { return root_ + "/sys"; }
  std::string proc() const { return root_ + "/proc"; }

  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::create_directories(
        std::filesystem::path(root_ + "/" + relative).parent_path());
    std::ofstream(root_ + "/" + relative, std::ios::trunc) << text;
  }
  std::string read(const std::string& relative) const {
    std::ifstream in(root_ + "/" + relative);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  bool exists(const std::string& relative) const {
    return std::filesystem::exists(root_ + "/" + relative);
  }

 private:
  std::string root_;
};

// A child process that waits until go(), then touches kTouchedBytes of
// memory and burns CPU until killed. The destructor kills and reaps it if it
// still runs.
class BusyChild {
 public:
  static constexpr size_t kTouchedBytes = 4u << 20;

  BusyChild() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::close(fds[1]);
      char c;
      if (::read(fds[0], &c, 1) != 1) ::_exit(1);
      // Memory touched after the move is charged to the new group (v1 does
      // not move charges of pages touched before).
      void* block = ::mmap(nullptr, kTouchedBytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (block != MAP_FAILED) std::memset(block, 1, kTouchedBytes);
      volatile unsigned long spins = 0;
      for (;;) {
        spins = spins + 1;
      }
    }
    ::close(fds[0]);
    go_fd_ = fds[1];
  }
  ~BusyChild() {
    if (go_fd_ >= 0) ::close(go_fd_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  BusyChild(const BusyChild&) = delete;
  BusyChild& operator=(const BusyChild&) = delete;

  pid_t pid() const { return pid_; }
  void go() {
    if (go_fd_ >= 0) {
      (void)!::write(go_fd_, "g", 1);
      ::close(go_fd_);
      go_fd_ = -1;
    }
  }
  // Reaps the child; returns the signal that ended it (0 if it exited).
  int wait_for_signal() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }

 private:
  pid_t pid_ = -1;
  int go_fd_ = -1;
  bool reaped_ = false;
};

}  // namespace fogm2m::testbed::test
