#include "lwm2m/registration_links.h"

#include <gtest/gtest.h>

namespace fogm2m::lwm2m {
namespace {

TEST(RegistrationLinks, ObjectsInstancesVersions) {
  auto r =
      parse_registration_links("</1/0>,</3/0>,</3313/0>;ver=1.1,</3313/1>,</5>,</3303>;ver=1.1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->root_path, "/");
  EXPECT_EQ(r->objects.size(), 5u);
  EXPECT_EQ(r->objects.at(3313), (std::vector<uint16_t>{0, 1}));
  EXPECT_TRUE(r->objects.at(5).empty());
  EXPECT_EQ(r->object_versions.at(3313), "1.1");
  EXPECT_EQ(r->object_versions.at(3303), "1.1");
  EXPECT_EQ(r->object_versions.count(3), 0u);
  EXPECT_EQ(r->links.size(), 6u);
}

TEST(RegistrationLinks, AlternateRootAndContentFormats) {
  auto r = parse_registration_links(
      "</lwm2m>;rt=\"oma.lwm2m\";ct=\"110 11542\",</lwm2m/3/0>,</other/9>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->root_path, "/lwm2m/");
  EXPECT_EQ(r->content_formats, (std::vector<uint16_t>{110, 11542}));
  EXPECT_TRUE(r->has_object(3));
  EXPECT_FALSE(r->has_object(9));  // outside the root: kept, not interpreted
  EXPECT_EQ(r->links.size(), 3u);
}

TEST(RegistrationLinks, Rejects) {
  for (const char* bad : {"</3/0/1>", "</3/x>", "</70000/0>", "</3/0>;ver=one",
                          "</>;rt=\"oma.lwm2m\";ct=abc", "</3/0"}) {
    auto r = parse_registration_links(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message.rfind("registration payload: ", 0), 0u) << r.error().message;
  }
}

}  // namespace
}  // namespace fogm2m::lwm2m
