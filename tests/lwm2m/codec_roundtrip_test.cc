// Round trips through codec.h: every format, every value type it can carry,
// every node kind.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "lwm2m/codec/codec.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::kAllTypesObject;
using testing::kMultipleBase;

constexpr ResourceType kAllTypes[] = {
    ResourceType::kString, ResourceType::kInteger, ResourceType::kUnsignedInteger,
    ResourceType::kFloat,  ResourceType::kBoolean, ResourceType::kOpaque,
    ResourceType::kTime,   ResourceType::kObjlnk,  ResourceType::kCorelnk};

constexpr ContentFormat kTreeFormats[] = {ContentFormat::kTlv, ContentFormat::kLwm2mJson,
                                          ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor,
                                          ContentFormat::kLwm2mCbor};

// Sample values of `type`; `variant` picks among a few, extremes included.
Value sample(ResourceType type, int variant) {
  switch (type) {
    case ResourceType::kString: {
      const char* s[] = {"Open Mobile Alliance", "",
                         "h\xC3\xA9llo \"w\xC3\xB6rld\"\n\t\\/ \xF0\x9F\x98\x80"};
      return s[variant % 3];
    }
    case ResourceType::kInteger: {
      const int64_t v[] = {-1234567890123, std::numeric_limits<int64_t>::min(),
                           std::numeric_limits<int64_t>::max()};
      return v[variant % 3];
    }
    case ResourceType::kUnsignedInteger: {
      const uint64_t v[] = {0, 4000000000u, std::numeric_limits<uint64_t>::max()};
      return v[variant % 3];
    }
    case ResourceType::kFloat: {
      const double v[] = {3.141592653589793, 1.5, -2.5e-300};
      return v[variant % 3];
    }
    case ResourceType::kBoolean:
      return variant % 2 == 0;
    case ResourceType::kOpaque: {
      const Opaque v[] = {Opaque{0, 1, 2, 0xFF}, Opaque{}, Opaque(300, 0x5A)};
      return v[variant % 3];
    }
    case ResourceType::kTime: {
      const int64_t v[] = {1367491215, -1, 0};
      return Time{v[variant % 3]};
    }
    case ResourceType::kObjlnk: {
      const ObjectLink v[] = {ObjectLink{3, 0}, ObjectLink{65535, 65535}, ObjectLink{0, 1}};
      return v[variant % 3];
    }
    case ResourceType::kCorelnk: {
      const char* v[] = {"</3/0>;rt=\"oma.lwm2m\"", "", "</1>,</3/0/1>"};
      return CoreLink{v[variant % 3]};
    }
    default:
      return Value{};
  }
}

uint16_t single_id(ResourceType t) {
  return static_cast<uint16_t>(t);
}
uint16_t multiple_id(ResourceType t) {
  return static_cast<uint16_t>(kMultipleBase + single_id(t));
}

ObjectInstance all_types_instance(uint16_t id, int variant) {
  ObjectInstance oi{id, {}};
  for (ResourceType t : kAllTypes)
    oi.resources.push_back(Resource::single(single_id(t), sample(t, variant)));
  for (ResourceType t : kAllTypes)
    oi.resources.push_back(Resource::multi(
        multiple_id(t),
        {{0, sample(t, variant + 1)}, {5, sample(t, variant + 2)}, {65534, sample(t, variant)}}));
  return oi;
}

class CodecRoundTrip : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  void round_trip(ContentFormat f, const Path& p, const Node& n) {
    SCOPED_TRACE(std::string(to_name(f)) + " " + p.to_string());
    auto bytes = encode(f, p, n);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    auto back = decode(f, p, *bytes, models);
    ASSERT_TRUE(back.ok()) << back.error().message << "\n"
                           << std::string(bytes->begin(), bytes->end());
    EXPECT_EQ(*back, n) << std::string(bytes->begin(), bytes->end());
  }
};

TEST_F(CodecRoundTrip, ObjectsOfEveryType) {
  const Object o{
      kAllTypesObject,
      {all_types_instance(0, 0), all_types_instance(7, 1), all_types_instance(65534, 2)}};
  for (ContentFormat f : kTreeFormats) round_trip(f, Path(kAllTypesObject), o);
}

TEST_F(CodecRoundTrip, ObjectInstancesOfEveryType) {
  for (int variant = 0; variant < 3; ++variant)
    for (ContentFormat f : kTreeFormats)
      round_trip(f, Path(kAllTypesObject, 3), all_types_instance(3, variant));
}

TEST_F(CodecRoundTrip, SingleResourcesOfEveryType) {
  for (ResourceType t : kAllTypes) {
    for (int variant = 0; variant < 3; ++variant) {
      const Resource r = Resource::single(single_id(t), sample(t, variant));
      const Path p(kAllTypesObject, 0, single_id(t));
      for (ContentFormat f : kTreeFormats) round_trip(f, p, r);
      round_trip(ContentFormat::kText, p, r);
      if (t == ResourceType::kOpaque) round_trip(ContentFormat::kOpaque, p, r);
    }
  }
}

TEST_F(CodecRoundTrip, MultipleResourcesOfEveryType) {
  for (ResourceType t : kAllTypes) {
    const Resource r = Resource::multi(
        multiple_id(t), {{1, sample(t, 0)}, {300, sample(t, 1)}, {301, sample(t, 2)}});
    for (ContentFormat f : kTreeFormats) round_trip(f, Path(kAllTypesObject, 0, multiple_id(t)), r);
  }
}

TEST_F(CodecRoundTrip, ResourceInstancesOfEveryType) {
  for (ResourceType t : kAllTypes) {
    for (int variant = 0; variant < 3; ++variant) {
      const Path p(kAllTypesObject, 2, multiple_id(t), 300);
      const ResourceInstance ri{300, sample(t, variant)};
      for (ContentFormat f : kTreeFormats) round_trip(f, p, ri);
      round_trip(ContentFormat::kText, p, ri);
      if (t == ResourceType::kOpaque) round_trip(ContentFormat::kOpaque, p, ri);
    }
  }
}

TEST_F(CodecRoundTrip, EmptyContainersInTlv) {
  // TLV can carry an empty multiple resource inside an instance; JSON cannot
  // (it lists leaves only), so this is TLV-only.
  const ObjectInstance oi{0, {Resource::multi(multiple_id(ResourceType::kInteger), {})}};
  round_trip(ContentFormat::kTlv, Path(kAllTypesObject, 0), oi);
  round_trip(ContentFormat::kTlv, Path(kAllTypesObject),
             Object{kAllTypesObject, {ObjectInstance{4, {}}}});
  for (ContentFormat f : kTreeFormats) {
    round_trip(f, Path(kAllTypesObject), Object{kAllTypesObject, {}});
    round_trip(f, Path(kAllTypesObject, 9), ObjectInstance{9, {}});
    round_trip(f, Path(kAllTypesObject, 0, multiple_id(ResourceType::kFloat)),
               Resource::multi(multiple_id(ResourceType::kFloat), {}));
  }
}

// Without a model, values whose type the format itself spells survive: JSON
// numbers, booleans, strings and object links (and SenML's "vd" opaque; SenML
// CBOR's integers and floats alike); TLV keeps opaque bytes.
TEST_F(CodecRoundTrip, ValuesWithoutModel) {
  const Path p(4242, 1);
  const ObjectInstance json_typed{
      1,
      {Resource::single(0, "text"), Resource::single(1, int64_t{-5}),
       Resource::single(2, std::numeric_limits<uint64_t>::max()), Resource::single(3, 2.0),
       Resource::single(4, true), Resource::single(5, ObjectLink{1, 0}),
       Resource::multi(6, {{0, 1.25}, {1, 1e-7}})}};
  round_trip(ContentFormat::kLwm2mJson, p, json_typed);
  ObjectInstance senml_typed = json_typed;
  senml_typed.resources.push_back(Resource::single(7, Opaque{9, 8, 7}));
  round_trip(ContentFormat::kSenmlJson, p, senml_typed);
  round_trip(ContentFormat::kSenmlCbor, p, senml_typed);
  round_trip(
      ContentFormat::kTlv, p,
      ObjectInstance{1, {Resource::single(0, Opaque{1}), Resource::multi(1, {{0, Opaque{}}})}});
  round_trip(ContentFormat::kText, Path(4242, 1, 0), Resource::single(0, "text"));
  round_trip(ContentFormat::kOpaque, Path(4242, 1, 0), Resource::single(0, Opaque{1, 2}));
}

TEST_F(CodecRoundTrip, UnsupportedFormats) {
  for (ContentFormat f : {ContentFormat::kLinkFormat, ContentFormat::kCbor}) {
    auto e = encode(f, Path(3, 0, 9), Resource::single(9, 1));
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().kind, ErrorKind::kUnsupported);
    auto d = decode(f, Path(3, 0, 9), std::vector<uint8_t>{1}, models);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().kind, ErrorKind::kUnsupported);
  }
}

}  // namespace
}  // namespace fogm2m::lwm2m
