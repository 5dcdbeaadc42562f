#include "emulated_clients/name_pattern.h"

#include <gtest/gtest.h>

namespace fogm2m::emulated {
namespace {

TEST(NamePattern, FormatsIndexPaddingEndpointAndBraces) {
  auto p = NamePattern::parse("dev-{n}");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->format(42), "dev-42");
  EXPECT_TRUE(p->varies());
  auto padded = NamePattern::parse("acc{n:5}x");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->format(42), "acc00042x");
  EXPECT_EQ(padded->format(1234567), "acc1234567x");
  auto key = NamePattern::parse("key-{ep}-{{{n}}}");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->format(3, "dev-3"), "key-dev-3-{3}");
  auto fixed = NamePattern::parse("one");
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE(fixed->varies());
}

TEST(NamePattern, RejectsWhatItCannotFormatWithThePosition) {
  for (const char* bad : {"dev-{", "dev-{m}", "dev-}", "dev-{n:0}", "dev-{n:21}", "dev-{n:x}"}) {
    auto p = NamePattern::parse(bad);
    ASSERT_FALSE(p.ok()) << bad;
    EXPECT_NE(p.error().message.find(bad), std::string::npos) << p.error().message;
  }
  auto ep_in_ep = NamePattern::parse("x-{ep}", false);
  ASSERT_FALSE(ep_in_ep.ok());
  EXPECT_NE(ep_in_ep.error().message.find("at 3"), std::string::npos) << ep_in_ep.error().message;
}

}  // namespace
}  // namespace fogm2m::emulated
