#include "gateway/leshan_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "bus/node_json.h"
#include "lwm2m/coap_code.h"

namespace fogm2m::gateway {
namespace {

namespace json = boost::json;
using lwm2m::Path;

json::value parse(std::string_view text) {
  return json::parse(text);
}

TEST(LeshanJson, RegistrationHasLeshansFields) {
  store::Registration reg;
  reg.endpoint = "dev-1";
  reg.reg_id = "abc";
  reg.lifetime_s = 300;
  reg.lwm2m_version = "1.1";
  reg.peer = {"10.1.0.7", 40112};
  reg.registration_date_ms = 1000;
  reg.last_update_ms = 2000;
  reg.object_links = {{"/3/0", {}}, {"/3313/1", {}}, {"/3313/0", {{"ver", "1.1"}}}, {"/1", {}}};
  reg.additional_attributes = {{"imei", "35"}};
  const json::object o = registration_json(reg);
  EXPECT_EQ(o.at("endpoint"), "dev-1");
  EXPECT_EQ(o.at("registrationId"), "abc");
  EXPECT_EQ(o.at("registrationDate"), 1000);
  EXPECT_EQ(o.at("lastUpdate"), 2000);
  EXPECT_EQ(o.at("address"), "10.1.0.7:40112");
  EXPECT_EQ(o.at("lwM2mVersion"), "1.1");
  EXPECT_EQ(o.at("lifetime"), 300);
  EXPECT_EQ(o.at("bindingMode"), "U");
  EXPECT_EQ(o.at("rootPath"), "/");
  EXPECT_EQ(o.at("secure"), false);
  EXPECT_EQ(o.at("queuemode"), false);
  EXPECT_EQ(o.at("additionalRegistrationAttributes"), parse(R"({"imei":"35"})"));
  EXPECT_EQ(o.at("availableInstances"), parse(R"({"3":[0],"3313":[0,1]})"));
  EXPECT_EQ(o.at("objectLinks").as_array().at(2),
            parse(R"({"url":"/3313/0","attributes":{"ver":"1.1"}})"));
  EXPECT_FALSE(o.contains("smsNumber"));  // null fields are left out
}

TEST(LeshanJson, NodesCarryKindAndNumbersAsStrings) {
  lwm2m::ObjectInstance oi{
      0,
      {lwm2m::Resource::single(5702, 1.5), lwm2m::Resource::single(5701, "m/s2"),
       lwm2m::Resource::multi(7, {{0, int64_t{3800}}, {1, int64_t{5000}}}),
       lwm2m::Resource::single(13, lwm2m::Time{10})}};
  EXPECT_EQ(node_json(oi), parse(R"({"kind":"instance","id":0,"resources":[
      {"kind":"singleResource","id":5702,"type":"FLOAT","value":"1.5"},
      {"kind":"singleResource","id":5701,"type":"STRING","value":"m/s2"},
      {"kind":"multiResource","id":7,"type":"INTEGER","values":{"0":"3800","1":"5000"}},
      {"kind":"singleResource","id":13,"type":"TIME","value":10000}]})"));
  EXPECT_EQ(node_json(lwm2m::ResourceInstance{1, int64_t{-4}}),
            parse(R"({"kind":"resourceInstance","id":1,"type":"INTEGER","value":"-4"})"));
  lwm2m::Object obj{3, {lwm2m::ObjectInstance{0, {}}}};
  EXPECT_EQ(
      node_json(obj),
      parse(R"({"kind":"obj","id":3,"instances":[{"kind":"instance","id":0,"resources":[]}]})"));
}

TEST(LeshanJson, ReadsLeshansNodes) {
  const auto models = lwm2m::ModelRegistry::builtin();
  // Numbers as strings (Leshan's way) or as numbers; types from "type" or the model.
  auto r = node_from_json(parse(R"({"kind":"singleResource","id":5702,"value":"2.25"})"),
                          Path(3313, 0, 5702), models);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(std::get<lwm2m::Resource>(*r).value, lwm2m::Value(2.25));
  auto n = node_from_json(parse(R"({"id":5702,"value":3})"), Path(3313, 0, 5702), models);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::get<lwm2m::Resource>(*n).value, lwm2m::Value(3.0));
  auto inst = node_from_json(parse(R"({"kind":"instance","id":0,"resources":[
      {"kind":"singleResource","id":5701,"type":"STRING","value":"g"},
      {"kind":"multiResource","id":9,"type":"INTEGER","values":{"0":"7"}}]})"),
                             Path(3313, 0), models);
  ASSERT_TRUE(inst) << inst.error().message;
  const auto& res = std::get<lwm2m::ObjectInstance>(*inst).resources;
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(res[0].id, 9);  // sorted by id
  EXPECT_EQ(res[0].instances.at(0).value, lwm2m::Value(int64_t{7}));
  auto t = node_from_json(parse(R"({"id":13,"type":"TIME","value":5000})"), Path(3, 0, 13), models);
  ASSERT_TRUE(t);
  EXPECT_EQ(std::get<lwm2m::Resource>(*t).value, lwm2m::Value(lwm2m::Time{5}));
}

TEST(LeshanJson, BadNodesNameTheFault) {
  const auto models = lwm2m::ModelRegistry::builtin();
  auto not_number =
      node_from_json(parse(R"({"id":5702,"value":"abc"})"), Path(3313, 0, 5702), models);
  ASSERT_FALSE(not_number);
  EXPECT_NE(not_number.error().message.find("/3313/0/5702"), std::string::npos);
  EXPECT_FALSE(node_from_json(parse("[1]"), Path(3313, 0, 5702), models));
  EXPECT_FALSE(node_from_json(parse(R"({"id":1})"), Path(3313, 0, 5702), models));
  EXPECT_FALSE(node_from_json(parse(R"({"id":0,"resources":5})"), Path(3313, 0), models));
}

TEST(LeshanJson, ResponsesInLeshansShape) {
  bus::DeviceResponse content;
  content.code = lwm2m::coap_code(2, 5);
  content.content = lwm2m::Resource::single(5702, 1.0);
  EXPECT_EQ(status_text(content.code), "CONTENT(69)");
  const auto o = response_json(content);
  EXPECT_EQ(o.at("status"), "CONTENT(69)");
  EXPECT_EQ(o.at("valid"), true);
  EXPECT_EQ(o.at("success"), true);
  EXPECT_EQ(o.at("failure"), false);
  EXPECT_EQ(o.at("content").at("value"), "1");
  EXPECT_FALSE(o.contains("errormessage"));

  bus::DeviceResponse not_found;
  not_found.code = lwm2m::coap_code(4, 4);
  not_found.error_message = "no such instance";
  const auto e = response_json(not_found);
  EXPECT_EQ(e.at("status"), "NOT_FOUND(132)");
  EXPECT_EQ(e.at("failure"), true);
  EXPECT_EQ(e.at("errormessage"), "no such instance");

  bus::DeviceResponse created;
  created.code = lwm2m::coap_code(2, 1);
  created.location = "/3313/1";
  EXPECT_EQ(response_json(created).at("location"), "/3313/1");

  bus::DeviceResponse discovered;
  discovered.code = lwm2m::coap_code(2, 5);
  discovered.links = std::vector<lwm2m::Link>{{"/3/0/1", {{"dim", "2"}, {"obs", std::nullopt}}}};
  EXPECT_EQ(response_json(discovered).at("objectLinks"),
            parse(R"([{"url":"/3/0/1","attributes":{"dim":"2","obs":null}}])"));
}

}  // namespace
}  // namespace fogm2m::gateway
