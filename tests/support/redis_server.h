// A real redis-server for tests: started on a free loopback port in its own
// temporary directory, stopped and removed without leaving anything behind.
//
// No GoogleTest dependency (redis_test_base.h adds a thin fixture on top), so
// benchmarks and the testbed's tests can use it; every test binary links it
// through the fogm2m_test_support library.
//
// The server runs with persistence off (--save "" --appendonly no; later
// extra_args such as {"--appendonly", "yes"} override it),
// bound to 127.0.0.1 only, in the foreground (--daemonize no) as a child of
// this process. The child gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the
// test process even when that crashes or is killed; note that Linux sends the
// signal when the *thread* that started it exits, so start servers from a
// thread that lives as long as they should (the main thread in gtest).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::test {

struct RedisServerOptions {
  std::string binary = "/usr/bin/redis-server";
  // How long start() waits for the server to answer PING.
  std::chrono::milliseconds start_timeout{10000};
  // How long stop() waits after SIGTERM before it sends SIGKILL.
  std::chrono::milliseconds stop_timeout{5000};
  // Appended to the command line, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
};

// One running redis-server child process. Not copyable or movable (it is
// handed out by unique_ptr); destroying it stops the server.
class RedisServer {
 public:
  // Starts a server and returns once it answers PING (and INFO names this
  // child's pid: another server that took the port first does not count).
  // Retries with another port when the chosen one was taken meanwhile.
  // Errors: kNotFound when the binary is missing, kTimeout when it does not
  // answer in time, kIo otherwise (the message includes the end of the
  // server's log).
  static Result<std::unique_ptr<RedisServer>> start(RedisServerOptions options = {});

  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Sends SIGTERM, waits up to stop_timeout, then SIGKILLs; reaps the child
  // and removes the temporary directory. Idempotent. Returns an error when
  // the server had to be killed or exited with a failure status (it is gone
  // either way).
  Status stop();

  // Faults, for tests of what survives them. kill(): SIGKILL, reaped; the
  // directory (and an AOF file in it) stays. restart(): kill() if running,
  // then a new server on the same port and directory (it reloads its AOF
  // when extra_args turned persistence on); returns once it answers PING.
  // pause()/resume(): SIGSTOP/SIGCONT: connections stay open, nothing is
  // answered meanwhile.
  void kill();
  Status restart();
  void pause();
  void resume();

  // True while the child process has not exited (reaps it if it has).
  bool running();

  const std::string& host() const { return host_; }  // "127.0.0.1"
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }  // the server's working directory
  // The server's log so far (empty once stopped).
  std::string log() const;

 private:
  RedisServer() = default;
  Status launch();
  Status spawn_and_wait(std::string& exit_log);
  std::string log_path() const;
  void remove_dir();

  std::string host_ = "127.0.0.1";
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::string dir_;
  RedisServerOptions options_;
};

}  // namespace fogm2m::test
