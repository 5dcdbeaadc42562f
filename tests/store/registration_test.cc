// The registration record: the reference study's field names, round trips,
// registration ids.
#include "store/registration.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace fogm2m::store {
namespace {

TEST(RegistrationRecord, ThesisFieldsRoundTrip) {
  Registration r;
  r.endpoint = "dev-1";
  r.reg_id = "AbC123xyz0";
  r.lifetime_s = 300;
  r.lwm2m_version = "1.1";
  r.peer = {"10.0.0.7", 40111};
  r.object_links = {{"/", {{"rt", "oma.lwm2m"}}},
                    {"/3313/0", {{"ver", "1.1"}, {"obs", std::nullopt}}}};
  r.registration_date_ms = 1000;
  r.last_update_ms = 2000;
  r.owner = "node-2";
  const std::string j = to_json_string(r);
  for (const char* field :
       {"\"regDate\":1000", "\"identity\":{\"address\":\"10.0.0.7\",\"port\":40111}",
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
}  // namespace fogm2m::store
