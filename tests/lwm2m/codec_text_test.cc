#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/opaque.h"
#include "lwm2m/codec/text.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::bytes;

using testing::kAllTypesObject;
using testing::kMultipleBase;

class CodecText : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  // The text payload of `v` as the single resource of its type in object 10240.
  std::string encode_value(const Value& v) {
    const auto id = static_cast<uint16_t>(v.type());
    auto e = text::encode(Path(kAllTypesObject, 0, id), Resource::single(id, v));
    if (!e.ok()) {
      ADD_FAILURE() << e.error().message;
      return {};
    }
    return std::string(e->begin(), e->end());
  }
  Result<Value> decode_value(ResourceType type, std::string_view payload) {
    const auto id = static_cast<uint16_t>(type);
    auto n = text::decode(Path(kAllTypesObject, 0, id), bytes(payload), models);
    if (!n.ok()) return n.error();
    return std::get<Resource>(*n).value;
  }
};

TEST_F(CodecText, EncodesEveryType) {
  EXPECT_EQ(encode_value("Open Mobile Alliance"), "Open Mobile Alliance");
  EXPECT_EQ(encode_value(int64_t{-42}), "-42");
  EXPECT_EQ(encode_value(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(encode_value(std::numeric_limits<uint64_t>::max()), "18446744073709551615");
  EXPECT_EQ(encode_value(56.4), "56.4");  // Leshan's example
  EXPECT_EQ(encode_value(0.1), "0.1");
  EXPECT_EQ(encode_value(23.0), "23");
  EXPECT_EQ(encode_value(1e21), "1e+21");
  EXPECT_EQ(encode_value(true), "1");
  EXPECT_EQ(encode_value(false), "0");
  EXPECT_EQ(encode_value(Time{1367491215}), "1367491215");
  EXPECT_EQ(encode_value(ObjectLink{3, 0}), "3:0");
  EXPECT_EQ(encode_value(Opaque{1, 2, 3, 4, 5}), "AQIDBAU=");  // Leshan's example
  EXPECT_EQ(encode_value(CoreLink{"</3/0>;rt=\"oma.lwm2m\""}), "</3/0>;rt=\"oma.lwm2m\"");
}

TEST_F(CodecText, DecodesEveryTypeByTheModel) {
  EXPECT_EQ(*decode_value(ResourceType::kString, "a b"), Value("a b"));
  EXPECT_EQ(*decode_value(ResourceType::kInteger, "-42"), Value(int64_t{-42}));
  EXPECT_EQ(*decode_value(ResourceType::kUnsignedInteger, "18446744073709551615"),
            Value(std::numeric_limits<uint64_t>::max()));
  EXPECT_EQ(*decode_value(ResourceType::kFloat, "56.4"), Value(56.4));
  EXPECT_EQ(*decode_value(ResourceType::kFloat, "-1.5e3"), Value(-1500.0));
  EXPECT_EQ(*decode_value(ResourceType::kFloat, "7"), Value(7.0));
  EXPECT_EQ(*decode_value(ResourceType::kBoolean, "1"), Value(true));
  EXPECT_EQ(*decode_value(ResourceType::kBoolean, "0"), Value(false));
  EXPECT_EQ(*decode_value(ResourceType::kTime, "1367491215"), Value(Time{1367491215}));
  EXPECT_EQ(*decode_value(ResourceType::kObjlnk, "65535:65535"), Value(ObjectLink{65535, 65535}));
  EXPECT_EQ(*decode_value(ResourceType::kOpaque, "AQIDBAU="), Value(Opaque{1, 2, 3, 4, 5}));
  EXPECT_EQ(*decode_value(ResourceType::kOpaque, ""), Value(Opaque{}));
  EXPECT_EQ(*decode_value(ResourceType::kCorelnk, "</1>"), Value(CoreLink{"</1>"}));
}

TEST_F(CodecText, DeviceResourcesFromLeshanExamples) {
  auto n = text::decode(Path(3, 0, 0), bytes("MyManufacturer"), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(0, "MyManufacturer")));
  n = text::decode(Path(3, 0, 9), bytes("100"), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(9, 100)));
  n = text::decode(Path(5, 0, 0), bytes("AQIDBAU="), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(0, Opaque{1, 2, 3, 4, 5})));
}

TEST_F(CodecText, ResourceInstancesAndUnmodelledResources) {
  auto n = text::decode(Path(3, 0, 7, 1), bytes("5000"), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node((ResourceInstance{1, 5000})));
  auto e = text::encode(Path(3, 0, 7, 1), ResourceInstance{1, 5000});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, bytes("5000"));
  // Without a model (or for an executable resource) text is a String.
  n = text::decode(Path(4242, 0, 1), bytes("12"), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(1, "12")));
  n = text::decode(Path(3, 0, 4), bytes(""), models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(4, "")));
}

TEST_F(CodecText, RejectsMalformedValues) {
  const std::pair<ResourceType, const char*> bad[] = {
      {ResourceType::kInteger, ""},
      {ResourceType::kInteger, "12a"},
      {ResourceType::kInteger, "+1"},
      {ResourceType::kInteger, " 1"},
      {ResourceType::kInteger, "1.0"},
      {ResourceType::kInteger, "9223372036854775808"},
      {ResourceType::kInteger, "-"},
      {ResourceType::kUnsignedInteger, "-1"},
      {ResourceType::kUnsignedInteger, "18446744073709551616"},
      {ResourceType::kFloat, "inf"},
      {ResourceType::kFloat, "nan"},
      {ResourceType::kFloat, "1e999"},
      {ResourceType::kFloat, "0x1p3"},
      {ResourceType::kFloat, "+1"},
      {ResourceType::kFloat, "1.5x"},
      {ResourceType::kBoolean, "true"},
      {ResourceType::kBoolean, "2"},
      {ResourceType::kTime, "2013-05-02"},
      {ResourceType::kObjlnk, "3"},
      {ResourceType::kObjlnk, "3:"},
      {ResourceType::kObjlnk, "3:65536"},
      {ResourceType::kObjlnk, "-3:0"},
      {ResourceType::kOpaque, "!,-INVALID$_'"},
      {ResourceType::kString, "\xC3\x28"},
  };
  for (const auto& [type, text] : bad) {
    auto v = decode_value(type, text);
    EXPECT_FALSE(v.ok()) << to_string(type) << " \"" << text << "\"";
    if (!v.ok()) {
      EXPECT_EQ(v.error().kind, ErrorKind::kMalformed) << v.error().message;
      EXPECT_EQ(v.error().message.rfind("TEXT: ", 0), 0u) << v.error().message;
    }
  }
}

TEST_F(CodecText, CarriesSingleValuesOnly) {
  EXPECT_FALSE(text::decode(Path(3, 0), bytes("1"), models).ok());
  EXPECT_FALSE(text::decode(Path(3), bytes("1"), models).ok());
  auto multi = text::decode(Path(3, 0, 6), bytes("1"), models);
  ASSERT_FALSE(multi.ok());
  EXPECT_EQ(multi.error().kind, ErrorKind::kTypeMismatch);
  auto single_ri = text::decode(Path(3, 0, 9, 0), bytes("1"), models);
  ASSERT_FALSE(single_ri.ok());
  EXPECT_EQ(single_ri.error().kind, ErrorKind::kTypeMismatch);

  auto e = text::encode(Path(3, 0, 6), Resource::multi(6, {{0, 1}, {1, 5}}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kUnsupported);
  e = text::encode(Path(3, 0), ObjectInstance{0, {}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kUnsupported);
  e = text::encode(Path(3, 0, 9), Resource::single(9, Value{}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kInvalidArgument);
  e = text::encode(Path(kAllTypesObject, 0, 4),
                   Resource::single(4, std::numeric_limits<double>::infinity()));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kInvalidArgument);

  EXPECT_TRUE(can_encode(ContentFormat::kText, Path(3, 0, 9)));
  EXPECT_TRUE(can_encode(ContentFormat::kText, Path(3, 0, 6, 0)));
  EXPECT_FALSE(can_encode(ContentFormat::kText, Path(3, 0)));
  EXPECT_FALSE(can_encode(ContentFormat::kOpaque, Path(3)));
  EXPECT_TRUE(can_encode(ContentFormat::kTlv, Path(3)));
  EXPECT_FALSE(can_encode(ContentFormat::kTlv, Path()));
  EXPECT_FALSE(can_encode(ContentFormat::kLinkFormat, Path(3, 0, 9)));
}

TEST_F(CodecText, FloatTextIsShortestRoundTrip) {
  const double samples[] = {0.1,    1.0 / 3,      56.4, -2.5e-300, 1.7976931348623157e308,
                            5e-324, 123456789.125};
  for (double d : samples) {
    const std::string t = encode_value(d);
    auto back = decode_value(ResourceType::kFloat, t);
    ASSERT_TRUE(back.ok()) << t;
    EXPECT_EQ(back->as<double>(), d) << t;
  }
}

// --- Opaque (content-format 42) ---

TEST(CodecOpaque, CarriesRawBytesOfOpaqueResources) {
  const ModelRegistry models = testing::codec_test_models();
  const std::vector<uint8_t> payload = {0x00, 0xFF, 0x10};
  auto n = opaque::decode(Path(5, 0, 0), payload, models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(0, Opaque(payload))));
  auto e = opaque::encode(Path(5, 0, 0), *n);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, payload);

  // Resource instances, resources without a model, empty payloads.
  const uint16_t multi = kMultipleBase + static_cast<uint16_t>(ResourceType::kOpaque);
  n = opaque::decode(Path(kAllTypesObject, 0, multi, 3), payload, models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node((ResourceInstance{3, Opaque(payload)})));
  n = opaque::decode(Path(4242, 1, 2), {}, models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(2, Opaque{})));
}

TEST(CodecOpaque, RefusesOtherTypesAndShapes) {
  const ModelRegistry models = testing::codec_test_models();
  auto n = opaque::decode(Path(3, 0, 0), bytes("x"), models);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error().kind, ErrorKind::kTypeMismatch);
  EXPECT_EQ(n.error().message.rfind("OPAQUE: ", 0), 0u);
  EXPECT_FALSE(opaque::decode(Path(5, 0), bytes("x"), models).ok());
  auto e = opaque::encode(Path(3, 0, 0), Resource::single(0, "text"));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kTypeMismatch);
  e = opaque::encode(Path(5), Object{5, {}});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().kind, ErrorKind::kUnsupported);
}

}  // namespace
}  // namespace fogm2m::lwm2m
