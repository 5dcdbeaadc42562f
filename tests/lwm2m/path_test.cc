#include "lwm2m/path.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace fogm2m::lwm2m {
namespace {

TEST(Path, ParsesEveryDepth) {
  EXPECT_EQ(Path::parse("/").value(), Path());
  EXPECT_EQ(Path::parse("/3").value(), Path(3));
  EXPECT_EQ(Path::parse("/3/0").value(), Path(3, 0));
  EXPECT_EQ(Path::parse("/3313/0/5702").value(), Path(3313, 0, 5702));
  EXPECT_EQ(Path::parse("/3/0/7/1").value(), Path(3, 0, 7, 1));
  EXPECT_EQ(Path::parse("/3/0/").value(), Path(3, 0));
  EXPECT_EQ(Path::parse("/65534").value().object_id(), 65534);
}

TEST(Path, FormatsBack) {
  for (const char* s : {"/", "/3", "/3/0", "/3313/0/5702", "/3/0/7/1", "/0/65534/1/2"})
    EXPECT_EQ(Path::parse(s).value().to_string(), s);
}

TEST(Path, RejectsMalformedWithReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c :
       {Case{"", "empty"}, Case{"3/0", "must start with '/'"}, Case{"//3", "empty object id"},
        Case{"/3//1", "empty"}, Case{"/3/x", "object instance id \"x\" is not a number"},
        Case{"/3/-1", "not a number"}, Case{"/65535", "exceeds 65534"},
        Case{"/99999999999", "exceeds"}, Case{"/3/01", "leading zero"},
        Case{"/1/2/3/4/5", "more than 4 segments"}, Case{"/3/0//", "empty"},
        Case{"/ 3", "not a number"}}) {
    auto r = Path::parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().kind, ErrorKind::kMalformed);
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos)
        << c.text << " -> " << r.error().message;
    EXPECT_NE(r.error().message.find(std::string("\"") + c.text + "\""), std::string::npos);
  }
}

TEST(Path, DepthAndAccessors) {
  Path p(3313, 1, 5702);
  EXPECT_TRUE(p.is_resource());
  EXPECT_EQ(p.depth(), 3);
  EXPECT_EQ(p.object_id(), 3313);
  EXPECT_EQ(p.instance_id(), 1);
  EXPECT_EQ(p.resource_id(), 5702);
  EXPECT_TRUE(Path().is_root());
  EXPECT_TRUE(Path(1).is_object());
  EXPECT_TRUE(Path(1, 0).is_object_instance());
  EXPECT_TRUE(Path(1, 0, 1, 0).is_resource_instance());
}

TEST(Path, ParentChildAndPrefix) {
  Path p(3, 0, 7, 1);
  EXPECT_EQ(p.parent(), Path(3, 0, 7));
  EXPECT_EQ(p.parent().parent().parent().parent(), Path());
  EXPECT_EQ(Path().parent(), Path());
  EXPECT_EQ(Path(3, 0).child(7), Path(3, 0, 7));
  EXPECT_TRUE(p.starts_with(Path(3, 0)));
  EXPECT_TRUE(p.starts_with(Path()));
  EXPECT_TRUE(p.starts_with(p));
  EXPECT_FALSE(p.starts_with(Path(3, 1)));
  EXPECT_FALSE(Path(3).starts_with(Path(3, 0)));
}

TEST(Path, OrdersParentsFirstAndHashes) {
  EXPECT_LT(Path(3), Path(3, 0));
  EXPECT_LT(Path(3, 0, 9), Path(3, 1));
  EXPECT_LT(Path(3, 0, 7), Path(3, 0, 7, 0));
  EXPECT_NE(Path(3, 0), Path(3, 0, 0));
  std::unordered_set<Path> set{Path(3), Path(3, 0), Path(3, 0, 0), Path()};
  EXPECT_EQ(set.size(), 4u);
  EXPECT_EQ(set.count(Path(3, 0)), 1u);
}

}  // namespace
}  // namespace fogm2m::lwm2m
