// CIDR ranges and address arithmetic (io/address_range.h).
#include "io/address_range.h"

#include <gtest/gtest.h>

namespace fogm2m::io {
namespace {

using boost::asio::ip::make_address;

TEST(AddressRange, ParsesIpv4AndIpv6Ranges) {
  auto v4 = AddressRange::parse("127.64.0.0/10");
  ASSERT_TRUE(v4.ok()) << v4.error().message;
  EXPECT_EQ(v4->size(), uint64_t{1} << 22);
  EXPECT_EQ(v4->at(1), make_address("127.64.0.1"));
  EXPECT_EQ(v4->at(256), make_address("127.64.1.0"));
  EXPECT_TRUE(v4->contains(make_address("127.127.255.255")));
  EXPECT_FALSE(v4->contains(make_address("127.128.0.0")));
  EXPECT_EQ(v4->to_string(), "127.64.0.0/10");

  auto v6 = AddressRange::parse("fd00:77::/96");
  ASSERT_TRUE(v6.ok()) << v6.error().message;
  EXPECT_EQ(v6->size(), uint64_t{1} << 32);
  EXPECT_EQ(v6->at(0x10001), make_address("fd00:77::1:1"));
  EXPECT_TRUE(v6->contains(make_address("fd00:77::ffff:ffff")));
  EXPECT_FALSE(v6->contains(make_address("fd00:78::1")));
}

TEST(AddressRange, RefusesMalformedRangesSayingWhy) {
  for (const char* bad : {"127.64.0.0", "127.64.0.1/10", "127.64.0.0/33", "127.64.0.0/x",
                          "localhost/8", "fd00::/48", "127.64.0.0/"}) {
    auto r = AddressRange::parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST(AddressRange, OffsetsInvertAddressPlus) {
  const auto first = make_address("10.77.0.1");
  EXPECT_EQ(address_plus(first, 70000), make_address("10.78.17.113"));
  EXPECT_EQ(address_offset(first, make_address("10.78.17.113")), 70000u);
  EXPECT_FALSE(address_offset(first, make_address("10.77.0.0")));
  EXPECT_FALSE(address_offset(first, make_address("fd00::1")));
  const auto v6 = make_address("fd00::1:0:0:fff0");
  EXPECT_EQ(address_plus(v6, 0x20), make_address("fd00::1:0:1:10"));
  EXPECT_EQ(address_offset(v6, make_address("fd00::1:0:1:10")), 0x20u);
  EXPECT_FALSE(address_offset(v6, make_address("fd00:0:0:1:1:0:1:10"))) << "another /64";
}

}  // namespace
}  // namespace fogm2m::io
