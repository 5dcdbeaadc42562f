// The parameter file: YAML and JSON round trips, clear errors.
#include "sim/sim_params.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace fogm2m::sim {
namespace {

TEST(SimParams, YamlAndJsonRoundTrip) {
  SimParams p;
  p.node_cpu_notification_s = 17.5e-6;
  p.redis_shards = 4;
  p.bus_mode = BusMode::kRouted;
  for (const char* format : {"yaml", "json"}) {
    auto back = parse_sim_params(format_sim_params(p, format), format);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_DOUBLE_EQ(back->node_cpu_notification_s, 17.5e-6);
    EXPECT_DOUBLE_EQ(back->redis_shards, 4);
    EXPECT_EQ(back->bus_mode, BusMode::kRouted);
    EXPECT_DOUBLE_EQ(back->network_hop_latency_s, SimParams{}.network_hop_latency_s);
  }
}

TEST(SimParams, MissingKeysKeepDefaults) {
  auto p = parse_sim_params("node_cpu_request_owned_s: 6.5e-5\n", "yaml");
  ASSERT_TRUE(p.ok());
  EXPECT_DOUBLE_EQ(p->node_cpu_request_owned_s, 6.5e-5);
  EXPECT_DOUBLE_EQ(p->node_cpu_notification_s, SimParams{}.node_cpu_notification_s);
  EXPECT_TRUE(parse_sim_params("", "yaml").ok());
}

TEST(SimParams, ErrorsNameTheKey) {
  auto unknown = parse_sim_params("node_cpu_notifcation_s: 1e-5\n", "yaml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown key \"node_cpu_notifcation_s\""),
            std::string::npos);
  auto negative = parse_sim_params("{\"redis_command_s\": -1}", "json");
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.error().message.find("redis_command_s"), std::string::npos);
  EXPECT_FALSE(parse_sim_params("bus_mode: multicast\n", "yaml").ok());
  EXPECT_FALSE(parse_sim_params("redis_shards: 2.5\n", "yaml").ok());
  EXPECT_FALSE(parse_sim_params("pmin_s: soon\n", "yaml").ok());
  EXPECT_FALSE(parse_sim_params("[1, 2", "yaml").ok());
  EXPECT_FALSE(parse_sim_params("{", "json").ok());
}

TEST(SimParams, FilesByExtension) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("fogm2m-sim-params-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SimParams p;
  p.pmin_s = 2;
  for (const char* name : {"p.yaml", "p.json"}) {
    const std::string path = (dir / name).string();
    ASSERT_TRUE(save_sim_params(p, path).ok());
    auto back = load_sim_params(path);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_DOUBLE_EQ(back->pmin_s, 2);
  }
  auto missing = load_sim_params((dir / "absent.yaml").string());
  EXPECT_FALSE(missing.ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fogm2m::sim
