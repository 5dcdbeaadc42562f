#include "server/node_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/registration.h"

namespace fogm2m::server {
namespace {

using namespace fogm2m::lwm2m;

TEST(NodeJson, LeshanShapes) {
  ObjectInstance oi{0,
                    {Resource::single(0, "fogm2m"), Resource::multi(7, {{0, int64_t{3800}}, {1, int64_t{5000}}}),
                     Resource::single(13, Time{1700000000})}};
  auto j = boost::json::serialize(node_to_json(oi));
  EXPECT_EQ(j, R"({"id":0,"resources":[{"id":0,"type":"STRING","value":"fogm2m"},)"
               R"({"id":7,"type":"INTEGER","values":{"0":3800,"1":5000}},{"id":13,"type":"TIME","value":1700000000}]})");
}

TEST(NodeJson, RoundTripsEveryType) {
  const ModelRegistry models = ModelRegistry::builtin();
  ObjectInstance oi{0,
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
  auto bad = node_from_json(boost::json::parse(R"({"id":5702,"value":"high"})"), Path(3313, 0, 5702), models);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("/3313/0/5702"), std::string::npos);
  auto wrong_id = node_from_json(boost::json::parse(R"({"id":1,"value":3})"), Path(3313, 0, 5702), models);
  EXPECT_FALSE(wrong_id.ok());
}

TEST(RegistrationRecord, ThesisFieldsRoundTrip) {
  Registration r;
  r.endpoint = "dev-1";
  r.reg_id = "AbC123xyz0";
  r.lifetime_s = 300;
  r.lwm2m_version = "1.1";
  r.peer = {"10.0.0.7", 40111};
  r.object_links = {{"/", {{"rt", "oma.lwm2m"}}}, {"/3313/0", {{"ver", "1.1"}, {"obs", std::nullopt}}}};
  r.registration_date_ms = 1000;
  r.last_update_ms = 2000;
  r.owner = "node-2";
  const std::string j = to_json_string(r);
  for (const char* field : {"\"regDate\":1000", "\"identity\":{\"address\":\"10.0.0.7\",\"port\":40111}",
                            "\"regAddr\":\"10.0.0.7\"", "\"regPort\":40111", "\"lt\":300", "\"ver\":\"1.1\"",
                            "\"bnd\":\"U\"", "\"ep\":\"dev-1\"", "\"regId\":\"AbC123xyz0\"", "\"objLink\":[",
                            "\"addAttr\":{}", "\"root\":\"/\"", "\"lastUp\":2000"})
    EXPECT_NE(j.find(field), std::string::npos) << field << " in " << j;
  auto back = registration_from_json_string(j);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->endpoint, r.endpoint);
  EXPECT_EQ(back->peer, r.peer);
  EXPECT_EQ(back->object_links, r.object_links);
  EXPECT_EQ(back->owner, "node-2");
  EXPECT_EQ(back->expiry_ms(), 2000 + 300'000);
  EXPECT_FALSE(registration_from_json_string(R"({"ep":"x"})").ok());
  EXPECT_FALSE(registration_from_json_string(R"({"ep":"x","regId":"y","lt":"long"})").ok());
  EXPECT_EQ(new_registration_id().size(), 10u);
  EXPECT_NE(new_registration_id(), new_registration_id());
}

}  // namespace
}  // namespace fogm2m::server
