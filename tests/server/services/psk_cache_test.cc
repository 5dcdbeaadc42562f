// The PSK cache: answers from memory, asks its loader once on a miss, and
// forgets an endpoint's old identity when it gets a new one.
#include "server/services/psk_cache.h"

#include <gtest/gtest.h>

namespace fogm2m::server {
namespace {

TEST(PskCache, AnswersFromMemoryAndLoadsMissesOnce) {
  PskCache cache;
  int loads = 0;
  cache.set_loader([&](std::string_view identity) -> std::optional<store::SecurityInfo> {
    ++loads;
    if (identity != "from-store") return std::nullopt;
    return store::SecurityInfo{"dev-2", "from-store", "k2"};
  });
  cache.put(store::SecurityInfo{"dev-1", "id-1", "k1"});
  EXPECT_EQ(cache.find("id-1")->key, "k1");
  EXPECT_EQ(loads, 0);
  EXPECT_EQ(cache.find("from-store")->endpoint, "dev-2");
  EXPECT_EQ(cache.find("from-store")->key, "k2");
  EXPECT_EQ(loads, 1);  // cached after the first load
  EXPECT_FALSE(cache.find("nobody").has_value());
  EXPECT_EQ(cache.size(), 2u);
}

TEST(PskCache, ANewIdentityReplacesTheEndpointsOld) {
  PskCache cache;
  cache.put(store::SecurityInfo{"dev-1", "old-id", "k1"});
  cache.put(store::SecurityInfo{"dev-1", "new-id", "k2"});
  EXPECT_FALSE(cache.find("old-id").has_value());
  EXPECT_EQ(cache.find("new-id")->key, "k2");
  cache.erase_endpoint("dev-1");
  EXPECT_FALSE(cache.find("new-id").has_value());
  EXPECT_EQ(cache.size(), 0u);
  cache.erase_endpoint("never-there");  // nothing to do
}

}  // namespace
}  // namespace fogm2m::server
