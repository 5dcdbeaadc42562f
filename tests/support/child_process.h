// A program run as a child of a test (a real CoAP peer such as libcoap's
// coap-client), its stdout and stderr captured in temporary files; killed
// if still running, reaped and cleaned up when the object goes.
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>
#include <vector>

namespace fogm2m::test {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with the rest as its arguments.
  explicit ChildProcess(const std::vector<std::string>& argv);
  // Starts `program` (a path) with `args`.
  ChildProcess(const std::string& program, std::vector<std::string> args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Whether `path` is a program this test can run.
  static bool executable(const std::string& path);

  bool started() const { return pid_ > 0; }
  // True once the child has exited (reaps it).
  bool exited();
  // Its exit status; -1 when it did not exit normally (or not yet).
  int exit_code() const;
  std::string out() const;  // what it wrote to stdout so far
  std::string err() const;  // and to stderr
  std::string output() const { return out() + err(); }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  std::string out_path_, err_path_;
};

// Runs `argv` while `io` keeps running (so a peer on that io_context can
// answer it) until it exits or `timeout` passes; it is killed then.
struct ChildResult {
  bool exited = false;  // on its own, within the timeout
  int status = -1;      // exit status when exited
  std::string out, err;
};
ChildResult run_child(boost::asio::io_context& io, const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace fogm2m::test
