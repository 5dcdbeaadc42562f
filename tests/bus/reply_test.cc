// Replies on the bus: the thesis' shapes written as text, byte for byte as
// boost::json would write the same objects; read back whole, by their head,
// and as typed device answers.
#include "bus/reply.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "bus/node_json.h"
#include "lwm2m/coap_code.h"

namespace fogm2m::bus {
namespace {

using namespace fogm2m::lwm2m;
namespace json = boost::json;

// The rep object of `response` as a DOM, in the member order reply.h gives.
json::object dom(const DeviceResponse& r) {
  json::object o{{"code", coap_code_name(r.code)}, {"coapCode", coap_code_string(r.code)}};
  if (!r.error_message.empty()) o["errorMessage"] = r.error_message;
  if (!r.location.empty()) o["location"] = r.location;
  if (r.links) {
    json::array links;
    for (const auto& l : *r.links) {
      json::object at;
      for (const auto& a : l.attributes)
        at[a.name] = a.value ? json::value(*a.value) : json::value(nullptr);
      links.push_back(json::object{{"url", l.uri}, {"at", std::move(at)}});
    }
    o["links"] = std::move(links);
  }
  if (r.content) {
    o["contentFormat"] = to_name(*r.content_format);
    o["content"] = node_to_json(*r.content);
  }
  if (r.observe) {
    o["observe"] = *r.observe;
    o["token"] = r.token_hex;
  }
  return o;
}

std::vector<DeviceResponse> responses() {
  std::vector<DeviceResponse> out;
  DeviceResponse content;
  content.code = coap_code(CoapCode::kContent);
  content.content_format = ContentFormat::kTlv;
  content.content = Resource::single(5702, 1.25);
  out.push_back(content);
  DeviceResponse instance = content;
  instance.content_format = ContentFormat::kSenmlJson;
  instance.content = ObjectInstance{
      0, {Resource::single(5701, std::string("m/s\"2")), Resource::single(5702, -1.0)}};
  instance.observe = true;
  instance.token_hex = "0a0b0c0d";
  out.push_back(instance);
  DeviceResponse error;
  error.code = coap_code(CoapCode::kNotFound);
  error.error_message = "no \"such\" resource\n";
  out.push_back(error);
  DeviceResponse created;
  created.code = coap_code(CoapCode::kCreated);
  created.location = "/3313/1";
  out.push_back(created);
  DeviceResponse discover;
  discover.code = coap_code(CoapCode::kContent);
  discover.links =
      std::vector<Link>{{"/3313/0", {{"dim", "2"}, {"obs", std::nullopt}}}, {"/3313/0/5702", {}}};
  out.push_back(discover);
  DeviceResponse changed;
  changed.code = coap_code(CoapCode::kChanged);
  out.push_back(changed);
  return out;
}

TEST(BusReply, AckAndErrHaveTheThesisShapes) {
  EXPECT_EQ(format_ack("t1"), R"({"ticket":"t1","ack":true})");
  EXPECT_EQ(format_err("t1", "unknown endpoint x"),
            R"({"ticket":"t1","err":{"errorMessage":"unknown endpoint x"}})");
  EXPECT_EQ(format_err("t\"2", "a\nb"),
            json::serialize(
                json::object{{"ticket", "t\"2"}, {"err", json::object{{"errorMessage", "a\nb"}}}}));
}

TEST(BusReply, DeviceAnswersAreTheDomByteForByte) {
  for (const DeviceResponse& r : responses()) {
    for (const std::string ticket : {"r-1", "a\"b\\c", ""}) {
      const std::string expected =
          json::serialize(json::object{{"ticket", ticket}, {"rep", dom(r)}});
      EXPECT_EQ(format_rep(ticket, r), expected);
    }
  }
}

TEST(BusReply, NotificationsAreTheDomByteForByte) {
  const std::vector<Path> paths{Path(3313, 0, 5702), Path(3313, 0), Path(3, 0, 7, 3), Path(3),
                                Path()};
  for (const DeviceResponse& r : responses()) {
    for (const Path& path : paths) {
      for (const std::string ep : {"bench-7", "ep \x01 \xc3\xa9"}) {
        json::object rep = dom(r);
        rep["notification"] = true;
        rep["ep"] = ep;
        rep["path"] = path.to_string();
        const std::string text = format_notification("obs-1", r, NotificationSource{ep, path});
        EXPECT_EQ(text, json::serialize(json::object{{"ticket", "obs-1"}, {"rep", rep}}));
        auto parsed = parse_reply(text);
        ASSERT_TRUE(parsed.ok()) << parsed.error().message;
        EXPECT_EQ(parsed->type, ReplyType::kRep);
        EXPECT_EQ(parsed->body, rep);
      }
    }
  }
}

TEST(BusReply, CancelAndSecInfoShapes) {
  EXPECT_EQ(format_cancelled("c1", "o1", coap_code(CoapCode::kContent), ""),
            R"({"ticket":"c1","rep":{"code":"CANCELLED","observeTicket":"o1","coapCode":"2.05"}})");
  EXPECT_EQ(format_cancelled("c1", "o1", std::nullopt, "no response within 5000 ms"),
            R"({"ticket":"c1","rep":{"code":"CANCELLED","observeTicket":"o1","coapCode":null,)"
            R"("warning":"no response within 5000 ms"}})");
  const store::SecurityInfo info{"dev-1", "id-1", "secret"};
  const std::string created = format_sec_info("s1", "CREATED", &info);
  EXPECT_EQ(
      created,
      R"({"ticket":"s1","rep":{"code":"CREATED","secInfo":{"ep":"dev-1","identity":"id-1"}}})");
  EXPECT_EQ(created.find("secret"), std::string::npos);  // never the key
  EXPECT_EQ(format_sec_info("s2", "DELETED", nullptr),
            R"({"ticket":"s2","rep":{"code":"DELETED"}})");
}

TEST(BusReply, ParseReadsEveryTypeAndRefusesTheRest) {
  auto rep = parse_reply(format_rep("t2", responses()[0]));
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(rep->type, ReplyType::kRep);
  EXPECT_EQ(rep->body.at("code").as_string(), "CONTENT");
  EXPECT_EQ(parse_reply(format_ack("t"))->type, ReplyType::kAck);
  EXPECT_EQ(parse_reply(format_err("t", "x"))->type, ReplyType::kErr);
  for (const char* bad :
       {R"({"ticket":"t"})", "[1]", "{", R"({"ticket":1,"ack":true})", R"({"ticket":"t","rep":5})"})
    EXPECT_FALSE(parse_reply(bad).ok()) << bad;
}

TEST(BusReply, HeadIsReadWithoutTheRest) {
  for (const std::string& message :
       {format_ack("t-1"), format_err("t-1", "x"), format_rep("t-1", responses()[1]),
        format_notification("t-1", responses()[0], NotificationSource{"dev-1", Path(3313, 0)})}) {
    auto head = parse_reply_head(message);
    ASSERT_TRUE(head.ok()) << message << ": " << head.error().message;
    auto whole = parse_reply(message);
    EXPECT_EQ(head->ticket, whole->ticket);
    EXPECT_EQ(head->type, whole->type);
  }
  // Members in any order, escapes in the ticket, and what follows the head
  // is not looked at.
  auto late = parse_reply_head(
      R"({"rep":{"ticket":"inner","x":[1,{"ack":true}]},"other":null,"ticket":"t\u0041\"1"})");
  ASSERT_TRUE(late.ok()) << late.error().message;
  EXPECT_EQ(late->ticket, "tA\"1");
  EXPECT_EQ(late->type, ReplyType::kRep);
  EXPECT_TRUE(parse_reply_head(R"({"ticket":"t","ack":true,)").ok());
  for (const char* bad : {R"({"ticket":"t"})", R"({"ack":true})", R"({"ticket":7,"ack":true})",
                          "nonsense", "", R"({"ticket":"t","ack":1})", R"({"ticket":"t","rep":5})",
                          R"({"x":{"ticket":"t","ack":true}})"}) {
    EXPECT_FALSE(parse_reply_head(bad).ok()) << bad;
  }
}

TEST(BusReply, DeviceAnswersReadBack) {
  const ModelRegistry models = ModelRegistry::builtin();
  const std::vector<Path> paths{Path(3313, 0, 5702), Path(3313, 0), Path(),
                                Path(3313),          Path(3313, 0), Path(3313, 0)};
  const auto all = responses();
  for (size_t i = 0; i < all.size(); ++i) {
    auto parsed = parse_reply(format_rep("t", all[i]));
    ASSERT_TRUE(parsed.ok());
    auto back = device_response_from_json(parsed->body, paths[i], models);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->code, all[i].code);
    EXPECT_EQ(back->error_message, all[i].error_message);
    EXPECT_EQ(back->location, all[i].location);
    EXPECT_EQ(back->links, all[i].links);
    EXPECT_EQ(back->content_format, all[i].content_format);
    EXPECT_EQ(back->content.has_value(), all[i].content.has_value());
    if (back->content) {
      EXPECT_EQ(json::serialize(node_to_json(*back->content)),
                json::serialize(node_to_json(*all[i].content)));
    }
    EXPECT_EQ(back->observe, all[i].observe);
    EXPECT_EQ(back->token_hex, all[i].token_hex);
  }
  EXPECT_FALSE(device_response_from_json(json::object{{"code", "CONTENT"}}, Path(3), models).ok());
  EXPECT_FALSE(device_response_from_json(
                   json::object{{"coapCode", "2.05"}, {"contentFormat", "XML"}, {"content", 1}},
                   Path(3), models)
                   .ok());
}

// ---- Composite answers ---------------------------------------------------------------------

CompositeResponse composite_content() {
  CompositeResponse r;
  r.code = coap_code(CoapCode::kContent);
  r.content_format = ContentFormat::kSenmlJson;
  r.content =
      std::vector<PathContent>{{Path(3, 0, 9), Resource::single(9, int64_t{87})},
                               {Path(3313, 0), ObjectInstance{0, {Resource::single(5702, 1.5)}}},
                               {Path(3303, 0), std::nullopt}};
  return r;
}

TEST(BusReply, CompositeAnswersHaveTheirShape) {
  const CompositeResponse r = composite_content();
  const std::string text = format_composite_rep("c1", r);
  json::object content{{"/3/0/9", node_to_json(*(*r.content)[0].node)},
                       {"/3313/0", node_to_json(*(*r.content)[1].node)},
                       {"/3303/0", nullptr}};
  json::object rep{{"code", "CONTENT"},
                   {"coapCode", "2.05"},
                   {"contentFormat", "SENML_JSON"},
                   {"content", content}};
  EXPECT_EQ(text, json::serialize(json::object{{"ticket", "c1"}, {"rep", rep}}));

  // Observe: observe and token; a notification: "notification", "ep", "paths".
  CompositeResponse observed = r;
  observed.observe = true;
  observed.token_hex = "0a0b";
  const std::vector<Path> paths{Path(3, 0, 9), Path(3313, 0), Path(3303, 0)};
  const std::string n =
      format_composite_notification("o1", observed, CompositeSource{"dev-\"1", paths});
  rep["observe"] = true;
  rep["token"] = "0a0b";
  rep["notification"] = true;
  rep["ep"] = "dev-\"1";
  rep["paths"] = json::array{"/3/0/9", "/3313/0", "/3303/0"};
  EXPECT_EQ(n, json::serialize(json::object{{"ticket", "o1"}, {"rep", rep}}));
  auto head = parse_reply_head(n);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->ticket, "o1");
  EXPECT_EQ(head->type, ReplyType::kRep);

  // A write: only the code; an error: its message.
  CompositeResponse changed;
  changed.code = coap_code(CoapCode::kChanged);
  EXPECT_EQ(format_composite_rep("w1", changed),
            R"({"ticket":"w1","rep":{"code":"CHANGED","coapCode":"2.04"}})");
  CompositeResponse refused;
  refused.code = coap_code(CoapCode::kMethodNotAllowed);
  refused.error_message = "read-only";
  EXPECT_EQ(format_composite_rep("w2", refused),
            R"({"ticket":"w2","rep":{"code":"METHOD_NOT_ALLOWED","coapCode":"4.05",)"
            R"("errorMessage":"read-only"}})");
}

TEST(BusReply, CompositeAnswersReadBack) {
  const ModelRegistry models = ModelRegistry::builtin();
  CompositeResponse r = composite_content();
  r.observe = true;
  r.token_hex = "ff";
  auto parsed = parse_reply(format_composite_rep("c1", r));
  ASSERT_TRUE(parsed.ok());
  auto back = composite_response_from_json(parsed->body, models);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->code, r.code);
  EXPECT_EQ(back->content_format, r.content_format);
  ASSERT_TRUE(back->content.has_value());
  ASSERT_EQ(back->content->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*back->content)[i].path, (*r.content)[i].path);
    EXPECT_EQ((*back->content)[i].node, (*r.content)[i].node);
  }
  EXPECT_EQ(back->observe, true);
  EXPECT_EQ(back->token_hex, "ff");

  for (const char* bad : {
           R"({"code":"CONTENT"})",
           R"({"coapCode":"2.05","contentFormat":"SENML_JSON","content":[1]})",
           R"({"coapCode":"2.05","contentFormat":"SENML_JSON","content":{"/x":1}})",
           R"({"coapCode":"2.05","contentFormat":"SENML_JSON","content":{"/":null}})",
           R"({"coapCode":"2.05","content":{}})",
           R"({"coapCode":"2.05","contentFormat":"SENML_JSON","content":{"/3/0/9":"x"}})",
       }) {
    EXPECT_FALSE(composite_response_from_json(json::parse(bad).as_object(), models).ok()) << bad;
  }
}

}  // namespace
}  // namespace fogm2m::bus
