// Running a short external tool (ip, nft, sysctl-like writes) to completion,
// optionally inside a network namespace, with its output captured.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::testbed {

struct CommandResult {
  int exit_code = 0;  // 128 + signal when a signal ended it
  std::string out;
  std::string err;
};

struct CommandOptions {
  std::string netns;  // empty: the caller's namespace
  std::string input;  // written to the tool's stdin
  std::chrono::milliseconds timeout{30000};
};

// Runs argv (argv[0] looked up in PATH) and returns its exit code and output.
// Errors only when it could not be started or did not finish in time (then
// it is killed).
Result<CommandResult> run_command(const std::vector<std::string>& argv,
                                  const CommandOptions& options = {});

// As run_command, but a non-zero exit is an error whose message holds the
// command line and the tool's stderr.
Status run_checked(const std::vector<std::string>& argv, const CommandOptions& options = {});

}  // namespace fogm2m::testbed
