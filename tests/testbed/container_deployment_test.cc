// The container backend without a container engine: what up() refuses before
// it makes anything, and the cleanup of a crashed run from its record, driven
// through a fake engine (a script that logs its arguments). The real thing,
// podman end to end, is scripts/container-backend-test.sh.
#include "testbed/container_deployment.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "testbed/cleanup.h"
#include "testbed/cluster_backend.h"

namespace fogm2m::testbed {
namespace {

namespace fs = std::filesystem;

DeploymentConfig small_config(const std::string& run) {
  DeploymentConfig c;
  c.run_id = run;
  c.nodes = 1;
  c.devices = 10;
  return c;
}

ContainerOptions fake_engine() {
  ContainerOptions o;
  o.engine = "/bin/true";  // never reached: up() refuses first
  o.fogm2m_image = "localhost/fogm2m:test";
  o.redis_image = "localhost/redis:test";
  return o;
}

TEST(ContainerBackendTest, BackendNames) {
  EXPECT_STREQ(to_string(BackendKind::kNamespaces), "namespaces");
  EXPECT_STREQ(to_string(BackendKind::kContainer), "container");
  EXPECT_EQ(parse_backend("container").value(), BackendKind::kContainer);
  EXPECT_EQ(parse_backend("namespaces").value(), BackendKind::kNamespaces);
  EXPECT_EQ(parse_backend("docker").error().kind, ErrorKind::kInvalidArgument);
}

TEST(ContainerBackendTest, RefusesWithoutImagesBeforeMakingAnything) {
  ::unsetenv("FOGM2M_IMAGE");
  ::unsetenv("REDIS_IMAGE");
  ContainerOptions o = fake_engine();
  o.fogm2m_image.clear();
  auto d = ContainerDeployment::up(small_config("ctest1"), o);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_NE(d.error().message.find("container-run.sh"), std::string::npos) << d.error().message;
  EXPECT_FALSE(fs::exists(run_containers_path("ctest1")));
  EXPECT_FALSE(fs::exists(run_lock_path("ctest1")));
}

TEST(ContainerBackendTest, RefusesWhatItCannotDeploy) {
  DeploymentConfig big = small_config("ctest2");
  big.devices = 30000;  // one fleet: a socket per device, 20,000 descriptors
  auto d = ContainerDeployment::up(big, fake_engine());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().kind, ErrorKind::kUnsupported);
  EXPECT_NE(d.error().message.find("split them over more fleets"), std::string::npos);
  big.fleets = 2;
  big.shared_sockets = SharedSockets::kAlways;
  EXPECT_EQ(ContainerDeployment::up(big, fake_engine()).error().kind, ErrorKind::kUnsupported);

  ContainerOptions o = fake_engine();
  o.network = "10.76.0.0/16";
  EXPECT_EQ(ContainerDeployment::up(small_config("ctest2"), o).error().kind,
            ErrorKind::kInvalidArgument);
  o = fake_engine();
  o.engine = "/nonexistent/podman";
  EXPECT_EQ(ContainerDeployment::up(small_config("ctest2"), o).error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(ContainerDeployment::up(small_config("BAD"), fake_engine()).error().kind,
            ErrorKind::kInvalidArgument);
  EXPECT_FALSE(fs::exists(run_containers_path("ctest2")));
}

// A crashed run's record names a fake engine that lists two containers of the
// run and logs what it is asked; remove_run() removes the fleet first, then
// the rest, then the network, and the record goes.
TEST(ContainerBackendTest, CleanupOfACrashedRunFollowsItsRecord) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (writes /run/fogm2m)";
  char tmpl[] = "/tmp/fogm2m-container-test-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  const std::string log = dir + "/log", engine = dir + "/podman";
  {
    std::ofstream script(engine);
    script << "#!/bin/sh\n"
           << "echo \"$FAKE_CONF $*\" >>" << log << "\n"
           << "case \"$1\" in\n"
           << "  ps) [ -e " << dir
           << "/removed ] || printf 'fm-ctest3-node1\\nfm-ctest3-fleet1\\n' ;;\n"
           << "  rm) touch " << dir << "/removed ;;\n"
           << "esac\n";
  }
  ::chmod(engine.c_str(), 0755);
  fs::create_directories(kStateDir);
  {
    std::ofstream record(run_containers_path("ctest3"));
    record << "engine " << engine << "\nnetwork fm-ctest3\nenv FAKE_CONF=conf1\n";
  }
  const std::vector<std::string> runs = list_runs();
  EXPECT_NE(std::find(runs.begin(), runs.end(), "ctest3"), runs.end());
  CleanupReport report = remove_run("ctest3", nullptr);
  EXPECT_TRUE(report.errors.empty()) << report.errors.front();
  EXPECT_EQ(report.containers, 2);
  EXPECT_FALSE(fs::exists(run_containers_path("ctest3")));
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  const std::string calls = text.str();
  const size_t fleet = calls.find("conf1 rm --force --time 2 fm-ctest3-fleet1");
  const size_t node = calls.find("conf1 rm --force --time 2 fm-ctest3-node1");
  const size_t network = calls.find("conf1 network rm fm-ctest3");
  EXPECT_NE(fleet, std::string::npos) << calls;
  EXPECT_NE(node, std::string::npos) << calls;
  EXPECT_NE(network, std::string::npos) << calls;
  EXPECT_LT(fleet, node);
  EXPECT_LT(node, network);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace fogm2m::testbed
