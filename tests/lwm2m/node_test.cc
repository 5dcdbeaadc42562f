#include "lwm2m/node.h"

#include <gtest/gtest.h>

#include "lwm2m/content_format.h"

namespace fogm2m::lwm2m {
namespace {

ObjectInstance sample_device() {
  return ObjectInstance{0,
                        {Resource::single(0, "Open Mobile Alliance"),
                         Resource::multi(7, {{0, int64_t{3800}}, {1, int64_t{5000}}}),
                         Resource::single(13, Time{1367491215})}};
}

TEST(Node, FindsChildrenById) {
  auto oi = sample_device();
  ASSERT_NE(oi.find(7), nullptr);
  EXPECT_EQ(oi.find(7)->find(1)->value, Value(int64_t{5000}));
  EXPECT_EQ(oi.find(8), nullptr);
  EXPECT_EQ(oi.find(7)->find(2), nullptr);
  Object o{3, {oi}};
  EXPECT_NE(o.find(0), nullptr);
  EXPECT_EQ(o.find(1), nullptr);
}

TEST(Node, FlattensInPathOrder) {
  Object o{3, {sample_device()}};
  auto leaves = flatten(Path(3), o);
  ASSERT_EQ(leaves.size(), 4u);
  EXPECT_EQ(leaves[0].path, Path(3, 0, 0));
  EXPECT_EQ(leaves[1].path, Path(3, 0, 7, 0));
  EXPECT_EQ(leaves[2].path, Path(3, 0, 7, 1));
  EXPECT_EQ(leaves[3].path, Path(3, 0, 13));
  EXPECT_EQ(leaves[3].value, Value(Time{1367491215}));

  EXPECT_EQ(flatten(Path(3, 0, 7), sample_device().resources[1]).size(), 2u);
  EXPECT_EQ(flatten(Path(3, 0, 7, 1), ResourceInstance{1, int64_t{5}})[0].path, Path(3, 0, 7, 1));
  EXPECT_EQ(node_depth(Node{ResourceInstance{}}), 4);
  EXPECT_EQ(node_depth(Node{Object{}}), 1);
}

TEST(Value, TypesFollowAlternatives) {
  EXPECT_EQ(Value().type(), ResourceType::kNone);
  EXPECT_EQ(Value("x").type(), ResourceType::kString);
  EXPECT_EQ(Value(int64_t{1}).type(), ResourceType::kInteger);
  EXPECT_EQ(Value(uint64_t{1}).type(), ResourceType::kUnsignedInteger);
  EXPECT_EQ(Value(1.5).type(), ResourceType::kFloat);
  EXPECT_EQ(Value(true).type(), ResourceType::kBoolean);
  EXPECT_EQ(Value(Opaque{1, 2}).type(), ResourceType::kOpaque);
  EXPECT_EQ(Value(Time{5}).type(), ResourceType::kTime);
  EXPECT_EQ(Value(ObjectLink{3, 0}).type(), ResourceType::kObjlnk);
  EXPECT_EQ(Value(CoreLink{"</3/0>"}).type(), ResourceType::kCorelnk);
  EXPECT_NE(Value(int64_t{5}), Value(Time{5}));
  EXPECT_EQ(to_debug_string(Value(Opaque{0xde, 0xad})), "0xdead");
  EXPECT_EQ(to_debug_string(Value(ObjectLink{3, 1})), "3:1");
}

TEST(Value, ParsesDdfTypeNames) {
  ResourceType t;
  ASSERT_TRUE(parse_resource_type("Unsigned Integer", &t));
  EXPECT_EQ(t, ResourceType::kUnsignedInteger);
  ASSERT_TRUE(parse_resource_type("objlnk", &t));
  EXPECT_EQ(t, ResourceType::kObjlnk);
  ASSERT_TRUE(parse_resource_type("", &t));
  EXPECT_EQ(t, ResourceType::kNone);
  EXPECT_FALSE(parse_resource_type("Flot", &t));
}

TEST(ContentFormatNames, LeshanNamesAndNumbers) {
  EXPECT_EQ(parse_content_format("JSON"), ContentFormat::kLwm2mJson);
  EXPECT_EQ(parse_content_format("senml-json"), ContentFormat::kSenmlJson);
  EXPECT_EQ(parse_content_format("TLV"), ContentFormat::kTlv);
  EXPECT_EQ(parse_content_format("11542"), ContentFormat::kTlv);
  EXPECT_EQ(parse_content_format("1542"), ContentFormat::kOldTlv);
  EXPECT_EQ(parse_content_format("text"), ContentFormat::kText);
  EXPECT_EQ(parse_content_format("9999"), std::nullopt);
  EXPECT_EQ(parse_content_format("XML"), std::nullopt);
  EXPECT_EQ(parse_content_format("99999999999"), std::nullopt);
  EXPECT_STREQ(to_name(ContentFormat::kSenmlJson), "SENML_JSON");
}

}  // namespace
}  // namespace fogm2m::lwm2m
