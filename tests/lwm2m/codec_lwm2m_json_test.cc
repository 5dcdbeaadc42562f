#include <gtest/gtest.h>

#include <string>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/lwm2m_json.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::bytes;

using testing::device_instance;
using testing::kAllTypesObject;

// The JSON example of OMA-TS-LightweightM2M-V1_0 6.4.4 (Read /3/0), whitespace removed.
constexpr std::string_view kSpecDeviceLwm2mJson = R"({"bn":"/3/0/","e":[)"
                                                  R"({"n":"0","sv":"Open Mobile Alliance"},)"
                                                  R"({"n":"1","sv":"Lightweight M2M Client"},)"
                                                  R"({"n":"2","sv":"345000123"},)"
                                                  R"({"n":"3","sv":"1.0"},)"
                                                  R"({"n":"6/0","v":1},)"
                                                  R"({"n":"6/1","v":5},)"
                                                  R"({"n":"7/0","v":3800},)"
                                                  R"({"n":"7/1","v":5000},)"
                                                  R"({"n":"8/0","v":125},)"
                                                  R"({"n":"8/1","v":900},)"
                                                  R"({"n":"9","v":100},)"
                                                  R"({"n":"10","v":15},)"
                                                  R"({"n":"11/0","v":0},)"
                                                  R"({"n":"13","v":1367491215},)"
                                                  R"({"n":"14","sv":"+02:00"},)"
                                                  R"({"n":"16","sv":"U"}]})";

class CodecLwm2mJson : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  Node ok(const Path& p, std::string_view json) {
    auto n = lwm2m_json::decode(p, bytes(json), models);
    EXPECT_TRUE(n.ok()) << json << "\n" << (n.ok() ? "" : n.error().message);
    return n.ok() ? *n : Node();
  }
  Error fails(const Path& p, std::string_view json, ErrorKind kind) {
    auto n = lwm2m_json::decode(p, bytes(json), models);
    EXPECT_FALSE(n.ok()) << json;
    if (n.ok()) return Error{};
    EXPECT_EQ(n.error().kind, kind) << json << "\n" << n.error().message;
    EXPECT_EQ(n.error().message.rfind("LwM2M JSON: ", 0), 0u) << n.error().message;
    return n.error();
  }
  std::string encode(const Path& p, const Node& n) {
    auto e = lwm2m_json::encode(p, n);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return e.ok() ? std::string(e->begin(), e->end()) : std::string();
  }
};

TEST_F(CodecLwm2mJson, SpecDeviceExampleDecodes) {
  EXPECT_EQ(ok(Path(3, 0), kSpecDeviceLwm2mJson), Node(device_instance()));
}

TEST_F(CodecLwm2mJson, SpecDeviceExampleEncodesByteExact) {
  EXPECT_EQ(encode(Path(3, 0), device_instance()), kSpecDeviceLwm2mJson);
}

TEST_F(CodecLwm2mJson, NamesResolveAgainstTheBaseName) {
  const Node device{device_instance()};
  // Root base name, no base name, a base name without its leading slash.
  std::string root = R"({"bn":"/","e":[)";
  std::string none = R"({"e":[)";
  std::string relative = R"({"bn":"3/0/","e":[)";
  const char* names[] = {"0",   "1",   "2", "3",  "6/0",  "6/1", "7/0", "7/1",
                         "8/0", "8/1", "9", "10", "11/0", "13",  "14",  "16"};
  const char* values[] = {R"("sv":"Open Mobile Alliance")",
                          R"("sv":"Lightweight M2M Client")",
                          R"("sv":"345000123")",
                          R"("sv":"1.0")",
                          R"("v":1)",
                          R"("v":5)",
                          R"("v":3800)",
                          R"("v":5000)",
                          R"("v":125)",
                          R"("v":900)",
                          R"("v":100)",
                          R"("v":15)",
                          R"("v":0)",
                          R"("v":1367491215)",
                          R"("sv":"+02:00")",
                          R"("sv":"U")"};
  for (size_t k = 0; k < std::size(names); ++k) {
    const std::string sep = k ? "," : "";
    root += sep + R"({"n":"3/0/)" + names[k] + "\"," + values[k] + "}";
    none += sep + R"({"n":"/3/0/)" + names[k] + "\"," + values[k] + "}";
    relative += sep + R"({"n":")" + names[k] + "\"," + values[k] + "}";
  }
  for (std::string* s : {&root, &none, &relative}) *s += "]}";
  EXPECT_EQ(ok(Path(3, 0), root), device);
  EXPECT_EQ(ok(Path(3, 0), none), device);
  EXPECT_EQ(ok(Path(3, 0), relative), device);
  // Names are concatenated as strings: "3/0/1" + "1/0" is /3/0/11/0.
  EXPECT_EQ(ok(Path(3, 0, 11), R"({"bn":"3/0/1","e":[{"n":"1/0","v":0},{"n":"1/1","v":2}]})"),
            Node(Resource::multi(11, {{0, 0}, {1, 2}})));
}

TEST_F(CodecLwm2mJson, TypedByTheModelAndUntypedByTheJson) {
  // Objects 1024 has no model: numbers keep their JSON kind, "sv" is a String.
  EXPECT_EQ(
      ok(Path(1024, 0), R"({"bn":"1024/0/","e":[{"n":"0","sv":"a string"},{"n":"1","v":10.5},)"
                        R"({"n":"2","bv":true},{"n":"3","v":7},{"n":"4","ov":"3:0"}]})"),
      Node(ObjectInstance{
          0,
          {Resource::single(0, "a string"), Resource::single(1, 10.5), Resource::single(2, true),
           Resource::single(3, 7), Resource::single(4, ObjectLink{3, 0})}}));
  // The model decides: 3.8e3 for an Integer, 3 for a Float, base64 for an Opaque.
  EXPECT_EQ(ok(Path(3, 0, 7, 0), R"({"bn":"/3/0/7/0","e":[{"v":3.8e3}]})"),
            Node((ResourceInstance{0, 3800})));
  EXPECT_EQ(ok(Path(3313, 0, 5702), R"({"bn":"/3313/0/5702","e":[{"v":3}]})"),
            Node(Resource::single(5702, 3.0)));
  EXPECT_EQ(ok(Path(5, 0, 0), R"({"bn":"/5/0/0","e":[{"sv":"AQIDBAU="}]})"),
            Node(Resource::single(0, Opaque{1, 2, 3, 4, 5})));
  EXPECT_EQ(ok(Path(3, 0, 13), R"({"e":[{"n":"/3/0/13","v":1367491215}]})"),
            Node(Resource::single(13, Time{1367491215})));
}

TEST_F(CodecLwm2mJson, TimestampsAreAcceptedAndTheNewestValueWins) {
  // Leshan's timestamped example: three values of /1024/0/1.
  EXPECT_EQ(ok(Path(1024, 0, 1), R"({"bn":"/1024/0/1","e":[{"v":22.9,"t":-30},)"
                                 R"({"v":22.4,"t":-5},{"v":24.1,"t":-50}],"bt":25462634})"),
            Node(Resource::single(1, 22.4)));
  fails(Path(1024, 0, 1), R"({"bn":"/1024/0/1","e":[{"v":22.9,"t":5},{"v":22.4,"t":5}]})",
        ErrorKind::kMalformed);
  fails(Path(3, 0), R"({"bn":"3/0/","e":[{"n":"1","sv":"a"},{"n":"1","sv":"b"}]})",
        ErrorKind::kMalformed);
}

TEST_F(CodecLwm2mJson, EmptyListsAndShapes) {
  EXPECT_EQ(ok(Path(2), R"({"e":[]})"), Node(Object{2, {}}));
  EXPECT_EQ(ok(Path(2), R"({"bn":"2","e":[]})"), Node(Object{2, {}}));
  EXPECT_EQ(ok(Path(2, 0), R"({"e":[]})"), Node(ObjectInstance{0, {}}));
  EXPECT_EQ(ok(Path(3, 0, 6), R"({"bn":"3/0/6","e":[]})"), Node(Resource::multi(6, {})));
  fails(Path(2, 0, 0), R"({"bn":"2/0/0","e":[]})", ErrorKind::kMalformed);
  fails(Path(2), "{}", ErrorKind::kMalformed);

  EXPECT_EQ(encode(Path(3, 0), ObjectInstance{0, {}}), R"({"bn":"/3/0/","e":[]})");
  EXPECT_EQ(encode(Path(3, 0, 9), Resource::single(9, 100)), R"({"bn":"/3/0/9","e":[{"v":100}]})");
  EXPECT_EQ(encode(Path(3, 0, 7), Resource::multi(7, {{0, 3800}, {1, 5000}})),
            R"({"bn":"/3/0/7/","e":[{"n":"0","v":3800},{"n":"1","v":5000}]})");
  EXPECT_EQ(encode(Path(3, 0, 7, 1), ResourceInstance{1, 5000}),
            R"({"bn":"/3/0/7/1","e":[{"v":5000}]})");
  EXPECT_EQ(
      encode(Path(66), Object{66, {ObjectInstance{1, {Resource::single(2, ObjectLink{67, 0})}}}}),
      R"({"bn":"/66/","e":[{"n":"1/2","ov":"67:0"}]})");
}

TEST_F(CodecLwm2mJson, ValueRendering) {
  const Path p(kAllTypesObject, 0);
  auto one = [&](uint16_t id, Value v) {
    return encode(p, ObjectInstance{0, {Resource::single(id, std::move(v))}});
  };
  EXPECT_EQ(one(1, "q\"\\\n\x01"), R"({"bn":"/10240/0/","e":[{"n":"1","sv":"q\"\\\n\u0001"}]})");
  EXPECT_EQ(one(3, std::numeric_limits<uint64_t>::max()),
            R"({"bn":"/10240/0/","e":[{"n":"3","v":18446744073709551615}]})");
  EXPECT_EQ(one(4, 23.0), R"({"bn":"/10240/0/","e":[{"n":"4","v":23.0}]})");
  EXPECT_EQ(one(4, 22.9), R"({"bn":"/10240/0/","e":[{"n":"4","v":22.9}]})");
  EXPECT_EQ(one(4, 1e21), R"({"bn":"/10240/0/","e":[{"n":"4","v":1e+21}]})");
  EXPECT_EQ(one(5, false), R"({"bn":"/10240/0/","e":[{"n":"5","bv":false}]})");
  EXPECT_EQ(one(6, Opaque{1, 2, 3, 4, 5}), R"({"bn":"/10240/0/","e":[{"n":"6","sv":"AQIDBAU="}]})");
  EXPECT_EQ(one(9, CoreLink{"</3>"}), R"({"bn":"/10240/0/","e":[{"n":"9","sv":"</3>"}]})");
  auto nan = lwm2m_json::encode(
      p, ObjectInstance{0, {Resource::single(4, std::numeric_limits<double>::quiet_NaN())}});
  ASSERT_FALSE(nan.ok());
  EXPECT_EQ(nan.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(CodecLwm2mJson, RejectsMalformedDocuments) {
  const Path p(3, 0);
  fails(p, "", ErrorKind::kMalformed);
  fails(p, "{", ErrorKind::kMalformed);
  fails(p, R"({"e":[]} x)", ErrorKind::kMalformed);
  fails(p, "[]", ErrorKind::kMalformed);
  fails(p, "\"e\"", ErrorKind::kMalformed);
  fails(p, "{\"e\":[{\"n\":\"9\",\"sv\":\"\xC3\x28\"}]}", ErrorKind::kMalformed);  // bad UTF-8
  // Wrong JSON types of the fields.
  fails(p, R"({"bn":3,"e":[]})", ErrorKind::kMalformed);
  fails(p, R"({"bt":"0","e":[]})", ErrorKind::kMalformed);
  fails(p, R"({"e":{}})", ErrorKind::kMalformed);
  fails(p, R"({"e":[1]})", ErrorKind::kMalformed);
  fails(p, R"({"e":[{"n":9,"v":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","v":"100"}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","v":100,"t":"now"}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"0","sv":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"0","bv":"true"}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"0","ov":3}]})", ErrorKind::kMalformed);
  // Unknown keys, missing or double values.
  fails(p, R"({"bn":"/3/0/","x":1,"e":[]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","vs":100}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9"}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","v":1,"sv":"1"}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","n":"10","v":1}]})", ErrorKind::kMalformed);
  // Names that are not paths, or outside the request path.
  fails(p, R"({"bn":"/3/0/","e":[{"n":"x","v":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9/0/1","v":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"e":[{"v":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/0","e":[{"v":1}]})", ErrorKind::kMalformed);
  fails(p, R"({"bn":"/3/1/","e":[{"n":"9","v":1}]})", ErrorKind::kInvalidArgument);
  fails(p, R"({"bn":"/4/0/","e":[{"n":"9","v":1}]})", ErrorKind::kInvalidArgument);
  fails(Path(3, 0, 9), R"({"bn":"/3/0/","e":[{"n":"10","v":1}]})", ErrorKind::kInvalidArgument);
  // Types against the model.
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","sv":"100"}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"0","v":1}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","v":1.5}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","bv":true}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","ov":"3:0"}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9","v":9223372036854775808}]})",
        ErrorKind::kInvalidArgument);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"6","v":1}]})", ErrorKind::kTypeMismatch);
  fails(p, R"({"bn":"/3/0/","e":[{"n":"9/0","v":1}]})", ErrorKind::kTypeMismatch);
  fails(Path(1024, 0), R"({"bn":"/1024/0/","e":[{"n":"1","v":1},{"n":"1/0","v":1}]})",
        ErrorKind::kMalformed);
  // Bad base64 and object links.
  fails(Path(5, 0, 0), R"({"bn":"/5/0/0","e":[{"sv":"!!"}]})", ErrorKind::kMalformed);
  fails(Path(1024, 0, 0), R"({"bn":"/1024/0/0","e":[{"ov":"3-0"}]})", ErrorKind::kMalformed);
  fails(Path(), R"({"e":[]})", ErrorKind::kUnsupported);
}

TEST_F(CodecLwm2mJson, OldContentFormatNumberIsAccepted) {
  auto n = lwm2m::decode(ContentFormat::kOldJson, Path(3, 0), bytes(kSpecDeviceLwm2mJson), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(device_instance()));
}

}  // namespace
}  // namespace fogm2m::lwm2m
