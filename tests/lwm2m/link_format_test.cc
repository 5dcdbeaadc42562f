#include "lwm2m/link_format.h"

#include <gtest/gtest.h>

namespace fogm2m::lwm2m {
namespace {

TEST(LinkFormat, ParsesRegistrationPayload) {
  auto r = parse_link_format("</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</3313/0>;ver=1.1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].uri, "/");
  EXPECT_EQ((*r)[0].attribute("rt"), "oma.lwm2m");
  EXPECT_EQ((*r)[0].attribute("ct"), "11543");
  EXPECT_EQ((*r)[1].uri, "/1/0");
  EXPECT_TRUE((*r)[1].attributes.empty());
  EXPECT_EQ((*r)[3].attribute("ver"), "1.1");
}

TEST(LinkFormat, QuotedValuesFlagsAndWhitespace) {
  auto r = parse_link_format(" </a>;title=\"x, y; \\\"z\\\"\";obs , </b>;ct=\"0 42\"\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].attribute("title"), "x, y; \"z\"");
  EXPECT_TRUE((*r)[0].has_attribute("obs"));
  EXPECT_EQ((*r)[0].attribute("obs"), std::nullopt);
  EXPECT_EQ((*r)[1].attribute("ct"), "0 42");
}

TEST(LinkFormat, DiscoverResponse) {
  auto r = parse_link_format("</3/0>;pmin=10,</3/0/1>,</3/0/7>;dim=2,</3/0/11>;dim=1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[2].attribute("dim"), "2");
  EXPECT_EQ((*r)[0].attribute("pmin"), "10");
}

TEST(LinkFormat, EmptyIsEmpty) {
  auto r = parse_link_format("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(LinkFormat, RejectsMalformedWithOffset) {
  for (const char* bad : {"/1/0", "</1/0", "</1/0>,", "</1/0>;", "</1/0>;=3", "</1/0>;ver=",
                          "</1/0>;rt=\"open", "</1/0> </3/0>", "<1 0>", "</1/0>;ver=1.1 x"}) {
    auto r = parse_link_format(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("link format at offset"), std::string::npos)
        << r.error().message;
  }
}

TEST(LinkFormat, FormatRoundTrips) {
  const std::string text =
      "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3313/0>;ver=1.1;obs,</x>;title=\"a \\\"b\\\"\"";
  auto r = parse_link_format(text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(format_link_format(*r), text);
  auto again = parse_link_format(format_link_format(*r));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
}

}  // namespace
}  // namespace fogm2m::lwm2m
