#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fogm2m::test {

namespace {

using Clock = std::chrono::steady_clock;

// A loopback TCP port that was free a moment ago (the kernel picks it).
Result<uint16_t> pick_free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return make_error(ErrorKind::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::string why = std::strerror(errno);
    ::close(s);
    return make_error(ErrorKind::kIo, "bind 127.0.0.1:0: " + why);
  }
  ::close(s);
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

// Connects to 127.0.0.1:port, sends PING and expects +PONG, all within
// roughly `budget`. Any failure just means "not ready yet".
bool answers_ping(uint16_t port, std::chrono::milliseconds budget) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (s < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = false;
  auto deadline = Clock::now() + budget;
  auto wait_for = [&](short events) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{s, events, 0};
    return ::poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & events) &&
           !(p.revents & (POLLERR | POLLHUP));
  };
  int rc = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  if (rc == 0 || (errno == EINPROGRESS && wait_for(POLLOUT))) {
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
    static constexpr char kPing[] = "PING\r\n";
    if (err == 0 && ::send(s, kPing, sizeof(kPing) - 1, MSG_NOSIGNAL) == sizeof(kPing) - 1) {
      std::string got;
      char buf[64];
      while (got.size() < 7 && wait_for(POLLIN)) {
        ssize_t n = ::recv(s, buf, sizeof(buf), 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ok = got.starts_with("+PONG\r\n");
    }
  }
  ::close(s);
  return ok;
}

// True when the server on 127.0.0.1:port is process `pid` (INFO server's
// process_id). A port picked as free may be taken by another test's server
// before ours binds it; that server answers PING while ours fails to start.
bool served_by(uint16_t port, pid_t pid, std::chrono::milliseconds budget) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return false;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(budget.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((budget.count() % 1000) * 1000);
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  std::string got;
  static constexpr char kInfo[] = "INFO server\r\n";
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(s, kInfo, sizeof(kInfo) - 1, MSG_NOSIGNAL) == sizeof(kInfo) - 1) {
    // A bulk reply: "$<length>\r\n<text>\r\n".
    const auto deadline = Clock::now() + budget;
    char buf[4096];
    size_t want = std::string::npos;
    while (Clock::now() < deadline && (want == std::string::npos || got.size() < want)) {
      ssize_t n = ::recv(s, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
      const size_t eol = got.find("\r\n");
      if (want == std::string::npos && eol != std::string::npos && got.front() == '$')
        want = eol + 2 + std::strtoul(got.c_str() + 1, nullptr, 10) + 2;
    }
  }
  ::close(s);
  return got.find("process_id:" + std::to_string(pid) + "\r\n") != std::string::npos;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string tail(const std::string& text, size_t max = 2000) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

std::string temp_root() {
  const char* env = std::getenv("TMPDIR");
  return env != nullptr && env[0] != '\0' ? env : "/tmp";
}

// Directories are named fogm2m-redis-<pid of the test process>-XXXXXX. A
// test process that was killed leaves its directory behind (its server dies
// with it, see PR_SET_DEATHSIG); the next start() removes directories of
// processes that no longer exist.
constexpr std::string_view kDirPrefix = "fogm2m-redis-";

void remove_stale_dirs(const std::string& root) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with(kDirPrefix)) continue;
    size_t dash = name.find('-', kDirPrefix.size());
    if (dash == std::string::npos) continue;
    long pid = std::strtol(name.c_str() + kDirPrefix.size(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
}

}  // namespace

Result<std::unique_ptr<RedisServer>> RedisServer::start(RedisServerOptions options) {
  if (::access(options.binary.c_str(), X_OK) != 0) {
    return make_error(ErrorKind::kNotFound, "redis-server not found at " + options.binary);
  }
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->options_ = std::move(options);
  Status st = server->launch();
  if (!st) return st.error();  // the destructor cleans up what launch() left
  return server;
}

// Forks and execs the server, then waits for PING. A port taken between
// pick_free_port() and the server's bind() shows up as an early exit with
// "Address already in use" in the log; then it tries another port.
Status RedisServer::launch() {
  remove_stale_dirs(temp_root());
  std::string templ =
      temp_root() + "/" + std::string(kDirPrefix) + std::to_string(::getpid()) + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    return make_error(ErrorKind::kIo, "mkdtemp " + templ + ": " + std::strerror(errno));
  }
  dir_ = buf.data();

  constexpr int kAttempts = 5;
  std::string last_log;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    Result<uint16_t> port = pick_free_port();
    if (!port) return port.error();
    port_ = *port;
    last_log.clear();
    Status st = spawn_and_wait(last_log);
    if (st || last_log.empty()) return st;
    if (last_log.find("Address already in use") == std::string::npos) break;
    if (::truncate(log_path().c_str(), 0) != 0) break;
  }
  return make_error(ErrorKind::kIo, "redis-server exited during start-up; log:\n" + tail(last_log));
}

std::string RedisServer::log_path() const {
  return dir_ + "/redis.log";
}

// Forks and execs the server on port_ in dir_, then waits for PING. After
// an early exit, `exit_log` holds the server's whole log.
Status RedisServer::spawn_and_wait(std::string& exit_log) {
  // Everything the child needs is prepared before fork(): between fork and
  // exec only async-signal-safe calls are allowed in a threaded process.
  std::vector<std::string> args = {options_.binary,
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   host_,
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--daemonize",
                                   "no",
                                   "--dir",
                                   dir_,
                                   "--logfile",
                                   "",
                                   "--protected-mode",
                                   "yes"};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const char* binary = options_.binary.c_str();
  const std::string log_file_path = log_path();
  const char* log_file = log_file_path.c_str();

  pid_t child = ::fork();
  if (child < 0) return make_error(ErrorKind::kIo, std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    int null_fd = ::open("/dev/null", O_RDONLY);
    int log_fd = ::open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd < 0 || log_fd < 0) ::_exit(125);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // Do not hand the test's sockets (redis connections, CoAP endpoints)
    // to the server: a copy would keep them open after the test closes them.
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
      for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    }
    ::execv(binary, argv.data());
    ::_exit(127);
  }
  pid_ = child;

  auto deadline = Clock::now() + options_.start_timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      exit_log = read_file(log_file_path);
      return make_error(ErrorKind::kIo, "redis-server exited during start-up");
    }
    // Ours, not another server that took the port first (ours then exits
    // with "Address already in use" and is started on another port).
    if (answers_ping(port_, std::chrono::milliseconds(200)) &&
        served_by(port_, pid_, std::chrono::milliseconds(500)))
      return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::string log_text = tail(read_file(log_file_path));
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return make_error(ErrorKind::kTimeout, "redis-server did not answer PING on port " +
                                             std::to_string(port_) + " within " +
                                             std::to_string(options_.start_timeout.count()) +
                                             " ms; log:\n" + log_text);
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);  // a paused server must not stay a stopped zombie-to-be
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

Status RedisServer::restart() {
  kill();
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::string exit_log;
    Status st = spawn_and_wait(exit_log);
    if (st || exit_log.empty()) return st;
    // The port may linger a moment after a kill.
    if (exit_log.find("Address already in use") == std::string::npos)
      return make_error(ErrorKind::kIo, "redis-server exited on restart; log:\n" + tail(exit_log));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return make_error(ErrorKind::kIo,
                    "redis-server could not take port " + std::to_string(port_) + " back");
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

bool RedisServer::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  pid_ = -1;  // exited (r == pid_) or not our child any more
  return false;
}

Status RedisServer::stop() {
  Status result;
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT);  // a paused server would not see the SIGTERM
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + options_.stop_timeout;
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(pid_, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (r == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      result = make_error(ErrorKind::kTimeout, "redis-server ignored SIGTERM for " +
                                                   std::to_string(options_.stop_timeout.count()) +
                                                   " ms and was killed");
    } else if (r == pid_ && !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
               !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)) {
      result = make_error(ErrorKind::kIo, "redis-server exited abnormally, status " +
                                              std::to_string(status) + "; log:\n" + tail(log()));
    }
    pid_ = -1;
  }
  remove_dir();
  return result;
}

RedisServer::~RedisServer() {
  (void)stop();
}

std::string RedisServer::log() const {
  if (dir_.empty()) return {};
  return read_file(dir_ + "/redis.log");
}

void RedisServer::remove_dir() {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  dir_.clear();
}

}  // namespace fogm2m::test
