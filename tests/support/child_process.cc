#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/test_util.h"

extern char** environ;

namespace fogm2m::test {

namespace {

// A new empty temporary file; its path, or "" when none could be made.
std::string temp_file(int* fd) {
  char path[] = "/tmp/fogm2m-child-XXXXXX";
  *fd = ::mkstemp(path);
  return *fd < 0 ? std::string() : std::string(path);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv) {
  int out_fd = -1, err_fd = -1;
  out_path_ = temp_file(&out_fd);
  err_path_ = temp_file(&err_fd);
  if (out_fd < 0 || err_fd < 0 || argv.empty()) {
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
    return;
  }
  std::vector<std::string> storage = argv;
  std::vector<char*> args;
  for (auto& a : storage) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, out_fd);
  posix_spawn_file_actions_addclose(&actions, err_fd);
  if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_fd);
  ::close(err_fd);
}

ChildProcess::ChildProcess(const std::string& program, std::vector<std::string> args)
    : ChildProcess([&] {
        args.insert(args.begin(), program);
        return args;
      }()) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
  }
  if (!out_path_.empty()) ::unlink(out_path_.c_str());
  if (!err_path_.empty()) ::unlink(err_path_.c_str());
}

bool ChildProcess::executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

bool ChildProcess::exited() {
  if (exited_ || pid_ <= 0) return true;
  if (::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
  return exited_;
}

int ChildProcess::exit_code() const {
  return exited_ && WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::string ChildProcess::out() const {
  return slurp(out_path_);
}

std::string ChildProcess::err() const {
  return slurp(err_path_);
}

ChildResult run_child(boost::asio::io_context& io, const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout) {
  ChildProcess child(argv);
  ChildResult r;
  if (!child.started()) return r;
  r.exited = run_until(
      io, [&] { return child.exited(); }, timeout);
  r.status = child.exit_code();
  r.out = child.out();
  r.err = child.err();
  return r;
}

}  // namespace fogm2m::test
