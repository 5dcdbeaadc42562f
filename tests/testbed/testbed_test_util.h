// Helpers of the testbed tests that run commands in namespaces and read what
// the processes wrote.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "testbed/command.h"

namespace fogm2m::testbed::test {

// Options that run a command inside the network namespace `netns`.
inline CommandOptions inside(const std::string& netns) {
  CommandOptions options;
  options.netns = netns;
  return options;
}

// The whole content of a text file ("" if it cannot be read).
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace fogm2m::testbed::test
