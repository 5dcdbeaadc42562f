#include <hiredis/hiredis.h>

#include <boost/version.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/git_revision.h"
#include "io/build_info.h"

#ifndef FOGM2M_VERSION
#define FOGM2M_VERSION "unknown"
#endif

namespace fogm2m::cli {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version and the libraries fogm2m uses");
  cmd->callback([] {
    std::cout << "fogm2m " << FOGM2M_VERSION << " (" << git_revision() << ")\n"
              << "  libcoap " << io::libcoap_version() << "\n"
              << "  hiredis " << HIREDIS_MAJOR << "." << HIREDIS_MINOR << "." << HIREDIS_PATCH
              << "\n"
              << "  boost " << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "."
              << BOOST_VERSION % 100 << "\n";
  });
}

}  // namespace fogm2m::cli
