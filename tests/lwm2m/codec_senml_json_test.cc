#include <gtest/gtest.h>

#include <string>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/senml_json.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::bytes;

using testing::device_instance;
using testing::kAllTypesObject;

// LwM2M 1.1 TS-Core 7.4.4, SenML JSON example (Read /3/0), whitespace removed.
constexpr std::string_view kSpecDeviceSenmlJson =
    R"([{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},)"
    R"({"n":"1","vs":"Lightweight M2M Client"},)"
    R"({"n":"2","vs":"345000123"},)"
    R"({"n":"3","vs":"1.0"},)"
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
    R"({"n":"14","vs":"+02:00"},)"
    R"({"n":"16","vs":"U"}])";

class CodecSenmlJson : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  Node ok(const Path& p, std::string_view json) {
    auto n = senml_json::decode(p, bytes(json), models);
    EXPECT_TRUE(n.ok()) << json << "\n" << (n.ok() ? "" : n.error().message);
    return n.ok() ? *n : Node();
  }
  Error fails(const Path& p, std::string_view json, ErrorKind kind) {
    auto n = senml_json::decode(p, bytes(json), models);
    EXPECT_FALSE(n.ok()) << json;
    if (n.ok()) return Error{};
    EXPECT_EQ(n.error().kind, kind) << json << "\n" << n.error().message;
    EXPECT_EQ(n.error().message.rfind("SenML JSON: ", 0), 0u) << n.error().message;
    return n.error();
  }
  std::string encode(const Path& p, const Node& n) {
    auto e = senml_json::encode(p, n);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return e.ok() ? std::string(e->begin(), e->end()) : std::string();
  }
};

TEST_F(CodecSenmlJson, SpecDeviceExampleDecodes) {
  EXPECT_EQ(ok(Path(3, 0), kSpecDeviceSenmlJson), Node(device_instance()));
}

TEST_F(CodecSenmlJson, SpecDeviceExampleEncodesByteExact) {
  EXPECT_EQ(encode(Path(3, 0), device_instance()), kSpecDeviceSenmlJson);
}

// The object-link example of 7.4.4 (object 66 part): "bn" changes mid-pack.
TEST_F(CodecSenmlJson, SpecObjectLinkExampleWithChangingBaseName) {
  constexpr std::string_view json = R"([{"bn":"/66/0/","n":"0","vs":"myService 1"},)"
                                    R"({"n":"1","vs":"Internet.15.234"},)"
                                    R"({"n":"2","vlo":"67:0"},)"
                                    R"({"bn":"/66/1/","n":"0","vs":"myService 2"},)"
                                    R"({"n":"1","vs":"Internet.15.235"},)"
                                    R"({"n":"2","vlo":"65535:65535"}])";
  const Object o66{
      66,
      {ObjectInstance{0,
                      {Resource::single(0, "myService 1"), Resource::single(1, "Internet.15.234"),
                       Resource::single(2, ObjectLink{67, 0})}},
       ObjectInstance{1,
                      {Resource::single(0, "myService 2"), Resource::single(1, "Internet.15.235"),
                       Resource::single(2, ObjectLink{65535, 65535})}}}};
  EXPECT_EQ(ok(Path(66), json), Node(o66));
  EXPECT_EQ(encode(Path(66), o66), R"([{"bn":"/66/","n":"0/0","vs":"myService 1"},)"
                                   R"({"n":"0/1","vs":"Internet.15.234"},)"
                                   R"({"n":"0/2","vlo":"67:0"},)"
                                   R"({"n":"1/0","vs":"myService 2"},)"
                                   R"({"n":"1/1","vs":"Internet.15.235"},)"
                                   R"({"n":"1/2","vlo":"65535:65535"}])");
}

// Leshan's examples: the ACL object, single and multiple resources.
TEST_F(CodecSenmlJson, LeshanExamples) {
  EXPECT_EQ(
      ok(Path(2), R"([{"bn":"/2/3/","n":"0","v":3},{"n":"1","v":1},{"n":"3","v":123},)"
                  R"({"bn":"/2/2/","n":"0","v":4},{"n":"1","v":2},{"n":"3","v":124}])"),
      Node(Object{
          2,
          {ObjectInstance{
               2, {Resource::single(0, 4), Resource::single(1, 2), Resource::single(3, 124)}},
           ObjectInstance{
               3, {Resource::single(0, 3), Resource::single(1, 1), Resource::single(3, 123)}}}}));
  EXPECT_EQ(ok(Path(3, 0, 0), R"([{"bn":"/3/0/0","vs":"Open Mobile Alliance"}])"),
            Node(Resource::single(0, "Open Mobile Alliance")));
  EXPECT_EQ(ok(Path(6, 0, 3), R"([{"n":"/6/0/3","v":20.0}])"), Node(Resource::single(3, 20.0)));
  EXPECT_EQ(ok(Path(3, 0, 7), R"([{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}])"),
            Node(Resource::multi(7, {{0, 3800}, {1, 5000}})));

  EXPECT_EQ(encode(Path(3, 0, 0), Resource::single(0, "Open Mobile Alliance")),
            R"([{"bn":"/3/0/0","vs":"Open Mobile Alliance"}])");
  EXPECT_EQ(encode(Path(3, 0, 7), Resource::multi(7, {{0, 3800}, {1, 5000}})),
            R"([{"bn":"/3/0/7/","n":"0","v":3800},{"n":"1","v":5000}])");
  EXPECT_EQ(encode(Path(3, 0, 7, 1), ResourceInstance{1, 5000}), R"([{"bn":"/3/0/7/1","v":5000}])");
  EXPECT_EQ(encode(Path(3, 0), ObjectInstance{0, {}}), "[]");
}

TEST_F(CodecSenmlJson, ValueKeysAndUntypedValues) {
  const Path p(kAllTypesObject, 0);
  auto one = [&](uint16_t id, Value v) {
    return encode(p, ObjectInstance{0, {Resource::single(id, std::move(v))}});
  };
  EXPECT_EQ(one(5, true), R"([{"bn":"/10240/0/","n":"5","vb":true}])");
  EXPECT_EQ(one(6, Opaque{0xfb, 0xff, 0xbf, 0x01}),
            R"([{"bn":"/10240/0/","n":"6","vd":"-_-_AQ"}])");
  EXPECT_EQ(one(7, Time{-5}), R"([{"bn":"/10240/0/","n":"7","v":-5}])");
  EXPECT_EQ(one(8, ObjectLink{3, 0}), R"([{"bn":"/10240/0/","n":"8","vlo":"3:0"}])");
  EXPECT_EQ(one(9, CoreLink{"</3>"}), R"([{"bn":"/10240/0/","n":"9","vs":"</3>"}])");
  EXPECT_EQ(one(4, -0.0), R"([{"bn":"/10240/0/","n":"4","v":-0.0}])");

  // Padding in "vd" is tolerated.
  EXPECT_EQ(ok(Path(kAllTypesObject, 0, 6), R"([{"bn":"/10240/0/6","vd":"-_-_AQ=="}])"),
            Node(Resource::single(6, Opaque{0xfb, 0xff, 0xbf, 0x01})));
  // Without a model, every value key gives its own type.
  EXPECT_EQ(
      ok(Path(1024, 0), R"([{"bn":"/1024/0/","n":"0","vs":"s"},{"n":"1","v":1.5},)"
                        R"({"n":"2","vb":false},{"n":"3","v":-7},{"n":"4","vd":"AQ"},)"
                        R"({"n":"5","vlo":"1:2"},{"n":"6","v":18446744073709551615}])"),
      Node(ObjectInstance{0,
                          {Resource::single(0, "s"), Resource::single(1, 1.5),
                           Resource::single(2, false), Resource::single(3, -7),
                           Resource::single(4, Opaque{1}), Resource::single(5, ObjectLink{1, 2}),
                           Resource::single(6, std::numeric_limits<uint64_t>::max())}}));
  // Ignored fields: units, version, update time.
  EXPECT_EQ(ok(Path(3313, 0, 5702),
               R"([{"bver":10,"bu":"m/s2","bn":"/3313/0/5702","u":"m/s2","ut":5,"v":-0.25}])"),
            Node(Resource::single(5702, -0.25)));
}

TEST_F(CodecSenmlJson, BaseTimeCarriesForwardAndTheNewestValueWins) {
  EXPECT_EQ(ok(Path(3313, 0), R"([{"bn":"/3313/0/","bt":1000,"n":"5702","v":1.0},)"
                              R"({"n":"5702","t":2,"v":2.0},)"
                              R"({"bt":900,"n":"5702","t":50,"v":3.0},)"
                              R"({"n":"5703","v":4.0}])"),
            Node(ObjectInstance{0, {Resource::single(5702, 2.0), Resource::single(5703, 4.0)}}));
  fails(Path(3313, 0), R"([{"bn":"/3313/0/","n":"5702","v":1.0},{"n":"5702","v":2.0}])",
        ErrorKind::kMalformed);
}

TEST_F(CodecSenmlJson, RejectsMalformedDocuments) {
  const Path p(3, 0);
  fails(p, "", ErrorKind::kMalformed);
  fails(p, "[", ErrorKind::kMalformed);
  fails(p, "[] []", ErrorKind::kMalformed);
  fails(p, "{}", ErrorKind::kMalformed);
  fails(p, "[1]", ErrorKind::kMalformed);
  fails(p, "[[]]", ErrorKind::kMalformed);
  // Wrong JSON types.
  fails(p, R"([{"bn":3,"n":"9","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":9,"v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":"1"}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"0","vs":false}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"0","vb":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"0","vd":null}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"0","vlo":[3,0]}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","bt":"x","n":"9","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","t":true,"v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","u":1,"v":1}])", ErrorKind::kMalformed);
  // Unknown, unsupported, repeated keys; missing or double values.
  fails(p, R"([{"bn":"/3/0/","n":"9","sv":"1"}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","x":1,"v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","bv":1,"v":1}])", ErrorKind::kUnsupported);
  fails(p, R"([{"bn":"/3/0/","n":"9","s":1}])", ErrorKind::kUnsupported);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":1,"foo_":1}])", ErrorKind::kUnsupported);
  fails(p, R"([{"bn":"/3/0/","n":"9"}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":1,"vs":"1"}])", ErrorKind::kMalformed);
  // Names.
  fails(p, R"([{"v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"nine","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"09","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"65535","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"","v":1}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/1/","n":"9","v":1}])", ErrorKind::kInvalidArgument);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":1},{"bn":"/1/0/","n":"1","v":1}])",
        ErrorKind::kInvalidArgument);
  fails(Path(3, 0, 7, 1), R"([{"bn":"/3/0/7/0","v":1}])", ErrorKind::kInvalidArgument);
  // Types against the model.
  fails(p, R"([{"bn":"/3/0/","n":"9","vs":"100"}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"0","v":1}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"0","vd":"AQ"}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"0","vlo":"1:1"}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"0","vb":true}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":1e400}])", ErrorKind::kMalformed);
  fails(p, R"([{"bn":"/3/0/","n":"9","v":-1.5}])", ErrorKind::kTypeMismatch);
  fails(p, R"([{"bn":"/3/0/","n":"7","v":3800}])", ErrorKind::kTypeMismatch);
  // Bad base64url and object links.
  fails(Path(5, 0, 0), R"([{"bn":"/5/0/0","vd":"+/"}])", ErrorKind::kMalformed);
  fails(Path(5, 0, 0), R"([{"bn":"/5/0/0","vd":"A"}])", ErrorKind::kMalformed);
  fails(Path(65, 0, 0, 0), R"([{"bn":"/65/0/0/0","vlo":"66:"}])", ErrorKind::kMalformed);
  fails(Path(65, 0, 0, 0), R"([{"bn":"/65/0/0/0","vlo":"66:0:1"}])", ErrorKind::kMalformed);
  // Empty single resource, root path.
  fails(Path(3, 0, 9), "[]", ErrorKind::kMalformed);
  fails(Path(), "[]", ErrorKind::kUnsupported);
}

}  // namespace
}  // namespace fogm2m::lwm2m
