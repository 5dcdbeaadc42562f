#include "testbed/command.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "testbed/process.h"

namespace fogm2m::testbed {

namespace {

// An anonymous in-memory file: the tool's stdin, stdout or stderr. Unlike a
// pipe it needs no reader thread and cannot fill up.
class MemFile {
 public:
  explicit MemFile(const char* name) : fd_(::memfd_create(name, MFD_CLOEXEC)) {}
  ~MemFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  int fd() const { return fd_; }

  bool write_all(const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
      ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return ::lseek(fd_, 0, SEEK_SET) == 0;
  }

  std::string read_all() const {
    std::string text;
    char buf[4096];
    ssize_t n;
    off_t offset = 0;
    while ((n = ::pread(fd_, buf, sizeof(buf), offset)) > 0) {
      text.append(buf, static_cast<size_t>(n));
      offset += n;
    }
    return text;
  }

 private:
  int fd_;
};

std::string command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) {
    if (!line.empty()) line += ' ';
    line += a;
  }
  return line;
}

}  // namespace

Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  const CommandOptions& options) {
  MemFile in("stdin"), out("stdout"), err("stderr");
  if (in.fd() < 0 || out.fd() < 0 || err.fd() < 0) {
    return make_error(ErrorKind::kIo, std::string("memfd_create: ") + std::strerror(errno));
  }
  if (!in.write_all(options.input))
    return make_error(ErrorKind::kIo, "cannot buffer the input of a command");
  LaunchOptions launch;
  launch.argv = argv;
  launch.netns = options.netns;
  launch.stdin_fd = in.fd();
  launch.stdout_fd = out.fd();
  launch.stderr_fd = err.fd();
  Result<Process> process = Process::launch(launch);
  if (!process) return process.error();
  Result<int> code = process->wait(options.timeout);
  if (!code) {
    (void)process->stop(std::chrono::milliseconds(0));
    return make_error(ErrorKind::kTimeout, command_line(argv) + ": did not finish in time");
  }
  return CommandResult{*code, out.read_all(), err.read_all()};
}

Status run_checked(const std::vector<std::string>& argv, const CommandOptions& options) {
  Result<CommandResult> result = run_command(argv, options);
  if (!result) return result.error();
  if (result->exit_code != 0) {
    std::string why = result->err.empty() ? result->out : result->err;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return make_error(ErrorKind::kIo, (options.netns.empty() ? "" : "[" + options.netns + "] ") +
                                          command_line(argv) + ": exit " +
                                          std::to_string(result->exit_code) + ": " + why);
  }
  return {};
}

}  // namespace fogm2m::testbed
