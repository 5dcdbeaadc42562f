#include "gateway/event_hub.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace fogm2m::gateway {
namespace {

TEST(EventHub, EveryListenerOrOneEndpoints) {
  EventHub hub;
  std::vector<std::string> all, one;
  const uint64_t a = hub.subscribe([&](const GatewayEvent& e) { all.push_back(e.endpoint); });
  const uint64_t b =
      hub.subscribe([&](const GatewayEvent& e) { one.push_back(e.endpoint); }, "dev-2");
  EXPECT_EQ(hub.listeners(), 2u);
  hub.publish({"NOTIFICATION", "dev-1", "{}"});
  hub.publish({"NOTIFICATION", "dev-2", "{}"});
  EXPECT_EQ(all, (std::vector<std::string>{"dev-1", "dev-2"}));
  EXPECT_EQ(one, (std::vector<std::string>{"dev-2"}));
  hub.unsubscribe(a);
  hub.unsubscribe(b);
  hub.unsubscribe(b);  // twice is harmless
  EXPECT_FALSE(hub.has_listeners());
  hub.publish({"NOTIFICATION", "dev-2", "{}"});
  EXPECT_EQ(one.size(), 1u);
}

TEST(EventHub, ListenerMayUnsubscribeOthersWhileEventsGoOut) {
  EventHub hub;
  int second_calls = 0;
  uint64_t second = 0;
  hub.subscribe([&](const GatewayEvent&) { hub.unsubscribe(second); });
  second = hub.subscribe([&](const GatewayEvent&) { ++second_calls; });
  hub.publish({"REGISTRATION", "d", "{}"});
  EXPECT_EQ(second_calls, 0);
}

TEST(Events, RegistrationEventsInLeshansShape) {
  store::Registration reg;
  reg.endpoint = "dev-1";
  reg.reg_id = "r1";
  reg.peer = {"127.0.0.1", 5000};
  auto created = registration_event(bus::RegistrationEventKind::kNew, reg);
  EXPECT_EQ(created.name, "REGISTRATION");
  EXPECT_EQ(created.endpoint, "dev-1");
  EXPECT_EQ(boost::json::parse(created.data).at("registrationId"), "r1");
  auto updated = registration_event(bus::RegistrationEventKind::kUpdate, reg);
  EXPECT_EQ(updated.name, "UPDATED");
  const auto u = boost::json::parse(updated.data);
  EXPECT_EQ(u.at("registration").at("endpoint"), "dev-1");
  EXPECT_EQ(u.at("update").at("address"), "127.0.0.1:5000");
  EXPECT_EQ(registration_event(bus::RegistrationEventKind::kDelete, reg).name, "DEREGISTRATION");
}

TEST(Events, NotificationFromABusReply) {
  BusReply reply;
  reply.type = bus::ReplyType::kRep;
  reply.body = boost::json::parse(
                   R"({"code":"CONTENT","coapCode":"2.05","contentFormat":"TLV",
                       "content":{"id":5702,"type":"FLOAT","value":0.5},
                       "notification":true,"ep":"dev-3","path":"/3313/0/5702"})")
                   .as_object();
  auto e = notification_event(reply, lwm2m::ModelRegistry::builtin());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "NOTIFICATION");
  EXPECT_EQ(e->endpoint, "dev-3");
  EXPECT_EQ(boost::json::parse(e->data),
            boost::json::parse(R"({"ep":"dev-3","kind":"single","res":"/3313/0/5702",
               "val":{"kind":"singleResource","id":5702,"type":"FLOAT","value":"0.5"}})"));
  reply.body.erase("ep");
  EXPECT_FALSE(notification_event(reply, lwm2m::ModelRegistry::builtin()));
}

TEST(Events, CompositeNotificationsCarryEveryPath) {
  BusReply reply;
  reply.type = bus::ReplyType::kRep;
  reply.body = boost::json::parse(
                   R"({"code":"CONTENT","coapCode":"2.05","contentFormat":"SENML_JSON",
                       "content":{"/3313/0/5702":{"id":5702,"type":"FLOAT","value":0.5},
                                  "/3303/0":null},
                       "notification":true,"ep":"dev-3","paths":["/3313/0/5702","/3303/0"]})")
                   .as_object();
  auto e = notification_event(reply, lwm2m::ModelRegistry::builtin());
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "NOTIFICATION");
  EXPECT_EQ(e->endpoint, "dev-3");
  EXPECT_EQ(boost::json::parse(e->data), boost::json::parse(R"({"ep":"dev-3","kind":"composite",
               "val":{"/3313/0/5702":{"kind":"singleResource","id":5702,"type":"FLOAT",
                                      "value":"0.5"},"/3303/0":null},
               "paths":["/3313/0/5702","/3303/0"]})"));
  EXPECT_EQ(e->data.find(R"({"ep":"dev-3","kind":"composite","val":)"), 0u);
  reply.body["paths"] = "/3313/0/5702";  // not an array
  EXPECT_FALSE(notification_event(reply, lwm2m::ModelRegistry::builtin()));
}

}  // namespace
}  // namespace fogm2m::gateway

namespace fogm2m::gateway {
namespace {

TEST(Events, SendSleepingAwakeInLeshansShape) {
  const lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  const std::vector<lwm2m::PathNode> nodes{
      {lwm2m::Path(3313, 0, 5702), lwm2m::Resource::single(5702, lwm2m::Value(1.5))}};
  auto send = device_event(
      bus::format_send_event("dev-1", 7, lwm2m::ContentFormat::kSenmlJson, nodes), models);
  ASSERT_TRUE(send);
  EXPECT_EQ(send->name, "SEND");
  EXPECT_EQ(send->endpoint, "dev-1");
  const auto data = boost::json::parse(send->data).as_object();
  EXPECT_EQ(data.at("ep").as_string(), "dev-1");
  const auto& val = data.at("val").as_object().at("/3313/0/5702").as_object();
  EXPECT_EQ(val.at("kind").as_string(), "singleResource");
  EXPECT_EQ(val.at("id").to_number<int64_t>(), 5702);

  auto sleeping =
      device_event(bus::format_presence_event(bus::DeviceEventKind::kSleeping, "dev-1", 8), models);
  ASSERT_TRUE(sleeping);
  EXPECT_EQ(sleeping->name, "SLEEPING");
  EXPECT_EQ(sleeping->data, R"({"ep":"dev-1"})");
  auto awake =
      device_event(bus::format_presence_event(bus::DeviceEventKind::kAwake, "dev-1", 9), models);
  ASSERT_TRUE(awake);
  EXPECT_EQ(awake->name, "AWAKE");
  EXPECT_EQ(awake->data, R"({"ep":"dev-1"})");

  EXPECT_FALSE(device_event(R"({"kind":"send"})", models));
}

}  // namespace
}  // namespace fogm2m::gateway
