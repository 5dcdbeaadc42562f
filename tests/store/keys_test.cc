// The key schema: per-endpoint keys carry the endpoint's hash tag, and the
// endpoint is read back from a key name.
#include "store/keys.h"

#include <gtest/gtest.h>

namespace fogm2m::store::keys {
namespace {

TEST(KeySchema, PerEndpointKeysShareTheEndpointsHashTag) {
  EXPECT_EQ(registration("dev-1"), "REG:EP:{dev-1}");
  EXPECT_EQ(owner("dev-1"), "EP#UID:{dev-1}");
  EXPECT_EQ(tokens("dev-1"), "TKNS:EP:{dev-1}");
  EXPECT_EQ(observation("dev-1", "0a0b"), "OBS:TKN:{dev-1}0a0b");
  EXPECT_EQ(security("dev-1"), "SEC:EP:{dev-1}");
  EXPECT_EQ(reg_id_index("AbC"), "EP:REGID:AbC");
  EXPECT_EQ(address_index("10.0.0.1:5683"), "EP:ADDR:10.0.0.1:5683");
  EXPECT_EQ(identity_index("id-1"), "SEC:ID:id-1");
}

TEST(KeySchema, EndpointIsReadBackFromAKey) {
  EXPECT_EQ(endpoint_of(owner("dev-7"), kOwnerPrefix), "dev-7");
  EXPECT_EQ(endpoint_of(registration("a{b}c"), kRegistrationPrefix), "a{b}c");
  EXPECT_EQ(endpoint_of("EP#UID:dev-7", kOwnerPrefix), std::nullopt);  // no tag
  EXPECT_EQ(endpoint_of(registration("dev-7"), kOwnerPrefix), std::nullopt);
  EXPECT_EQ(endpoint_of("EP#UID:{", kOwnerPrefix), std::nullopt);
}

}  // namespace
}  // namespace fogm2m::store::keys
