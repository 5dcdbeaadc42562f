#include "bus/node_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace fogm2m::bus {
namespace {

using namespace fogm2m::lwm2m;

TEST(NodeJson, LeshanShapes) {
  ObjectInstance oi{
      0,
      {Resource::single(0, "fogm2m"), Resource::multi(7, {{0, int64_t{3800}}, {1, int64_t{5000}}}),
       Resource::single(13, Time{1700000000})}};
  auto j = boost::json::serialize(node_to_json(oi));
  EXPECT_EQ(
      j,
      R"({"id":0,"resources":[{"id":0,"type":"STRING","value":"fogm2m"},)"
      R"({"id":7,"type":"INTEGER","values":{"0":3800,"1":5000}},{"id":13,"type":"TIME","value":1700000000}]})");
}

TEST(NodeJson, RoundTripsEveryType) {
  const ModelRegistry models = ModelRegistry::builtin();
  ObjectInstance oi{
      0,
      {Resource::single(1, "s"), Resource::single(2, int64_t{-5}), Resource::single(3, uint64_t{7}),
       Resource::single(4, 1.5), Resource::single(5, true), Resource::single(6, Opaque{0, 0xff}),
       Resource::single(7, Time{9}), Resource::single(8, ObjectLink{3, 1}),
       Resource::single(9, CoreLink{"</3/0>"})}};
  auto back = node_from_json(node_to_json(oi), Path(10250, 0), models);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(std::get<ObjectInstance>(*back), oi);
}

TEST(NodeJson, TypesFromTheModelWhenAbsent) {
  const ModelRegistry models = ModelRegistry::builtin();
  auto v = boost::json::parse(R"({"id":5702,"value":3})");
  auto r = node_from_json(v, Path(3313, 0, 5702), models);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<Resource>(*r).value, Value(3.0));  // X Value is Float in the model
  auto bad = node_from_json(boost::json::parse(R"({"id":5702,"value":"high"})"),
                            Path(3313, 0, 5702), models);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("/3313/0/5702"), std::string::npos);
  auto wrong_id =
      node_from_json(boost::json::parse(R"({"id":1,"value":3})"), Path(3313, 0, 5702), models);
  EXPECT_FALSE(wrong_id.ok());
}

}  // namespace
}  // namespace fogm2m::bus
