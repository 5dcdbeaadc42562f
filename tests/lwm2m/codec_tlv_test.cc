#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/tlv.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : text) {
    const int v = nibble(c);
    if (v < 0) continue;  // allow spaces for readability
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

class CodecTlv : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  Result<Node> decode(const Path& p, const std::vector<uint8_t>& bytes) {
    return tlv::decode(p, bytes, models);
  }
  // Decodes and expects success.
  Node ok(const Path& p, const std::vector<uint8_t>& bytes) {
    auto n = decode(p, bytes);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message);
    return n.ok() ? *n : Node();
  }
  // Decodes and expects an Error of `kind` whose message starts with "TLV: ".
  Error fails(const Path& p, const std::vector<uint8_t>& bytes, ErrorKind kind) {
    auto n = decode(p, bytes);
    EXPECT_FALSE(n.ok());
    if (n.ok()) return Error{};
    EXPECT_EQ(n.error().kind, kind) << n.error().message;
    EXPECT_EQ(n.error().message.rfind("TLV: ", 0), 0u) << n.error().message;
    return n.error();
  }
};

// --- The LwM2M 1.0 specification's examples (6.4.3), as Leshan's tests hold them. ---

// Device object instance 0 as a sequence of resource TLVs (6.4.3.1).
const char* kDeviceResources =
    "C800144F70656E204D6F62696C6520416C6C69616E6365"      // 0: "Open Mobile Alliance"
    "C801164C69676874776569676874204D324D20436C69656E74"  // 1: "Lightweight M2M Client"
    "C80209333435303030313233"                            // 2: "345000123"
    "C303312E30"                                          // 3: "1.0"
    "86064100014101 05"                                   // 6: [1, 5]
    "88070842000ED842011388"                              // 7: [3800, 5000]
    "870841007D42010384"                                  // 8: [125, 900]
    "C10964"                                              // 9: 100
    "C10A0F"                                              // 10: 15
    "830B410000"                                          // 11: [0]
    "C40D5182428F"                                        // 13: 1367491215
    "C60E2B30323A3030"                                    // 14: "+02:00"
    "C11055";                                             // 16: "U"

// The same instance wrapped in its object-instance TLV (6.4.3.2 A).
const std::string kDeviceInstance = std::string("080079") + kDeviceResources;

using testing::device_instance;

TEST_F(CodecTlv, SpecDeviceInstanceDecodesFromResources) {
  EXPECT_EQ(ok(Path(3, 0), hex(kDeviceResources)), Node(device_instance()));
}

TEST_F(CodecTlv, SpecDeviceInstanceDecodesFromInstanceWrapper) {
  EXPECT_EQ(ok(Path(3, 0), hex(kDeviceInstance)), Node(device_instance()));
}

TEST_F(CodecTlv, SpecDeviceInstanceEncodesByteExact) {
  auto bytes = tlv::encode(Path(3, 0), device_instance());
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, hex(kDeviceResources));
}

TEST_F(CodecTlv, SpecDeviceObjectEncodesWithInstanceWrapper) {
  const Object device{3, {device_instance()}};
  auto bytes = tlv::encode(Path(3), device);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ(*bytes, hex(kDeviceInstance));
  EXPECT_EQ(ok(Path(3), *bytes), Node(device));
}

// A multiple-instance resource (6.4.3.1: Read /3/0/7).
TEST_F(CodecTlv, SpecMultipleInstanceResource) {
  const auto bytes = hex("88 07 08 42 00 0E D8 42 01 13 88");
  const Resource voltage = Resource::multi(7, {{0, 3800}, {1, 5000}});
  EXPECT_EQ(ok(Path(3, 0, 7), bytes), Node(voltage));
  auto encoded = tlv::encode(Path(3, 0, 7), voltage);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, bytes);
}

// The resource instances of a multiple resource without their wrapper, as
// some clients send them.
TEST_F(CodecTlv, BareResourceInstancesDecodeAsMultipleResource) {
  EXPECT_EQ(ok(Path(3, 0, 6), hex("410001 410105")), Node(Resource::multi(6, {{0, 1}, {1, 5}})));
}

// Access Control object with two instances (6.4.3.2 B).
TEST_F(CodecTlv, SpecAccessControlObject) {
  const auto bytes =
      hex("08000EC10001C101008302417F07C1037F"
          "080212C10003C101008702417F0761013601C1037F");
  const Object acl{
      2,
      {ObjectInstance{0,
                      {Resource::single(0, 1), Resource::single(1, 0),
                       Resource::multi(2, {{127, 7}}), Resource::single(3, 127)}},
       ObjectInstance{2,
                      {Resource::single(0, 3), Resource::single(1, 0),
                       Resource::multi(2, {{127, 7}, {310, 1}}), Resource::single(3, 127)}}}};
  EXPECT_EQ(ok(Path(2), bytes), Node(acl));
  auto encoded = tlv::encode(Path(2), acl);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, bytes);
}

// Server object with one instance (6.4.3.2 C).
TEST_F(CodecTlv, SpecServerObject) {
  const auto bytes = hex("08000FC10001C40100015180C10601C10755");
  const Object server{1,
                      {ObjectInstance{0,
                                      {Resource::single(0, 1), Resource::single(1, 86400),
                                       Resource::single(6, true), Resource::single(7, "U")}}}};
  EXPECT_EQ(ok(Path(1), bytes), Node(server));
  auto encoded = tlv::encode(Path(1), server);
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(*encoded, bytes);
}

// Object links (6.4.3.3): an instance of object 65 and object 66.
TEST_F(CodecTlv, SpecObjectLinks) {
  const auto obj65 =
      hex("88000C440000420000440100420001"
          "C8010D38363133383030373535353030"
          "C40212345678");
  const ObjectInstance i65{0,
                           {Resource::multi(0, {{0, ObjectLink{66, 0}}, {1, ObjectLink{66, 1}}}),
                            Resource::single(1, "8613800755500"), Resource::single(2, 305419896)}};
  EXPECT_EQ(ok(Path(65, 0), obj65), Node(i65));
  auto e65 = tlv::encode(Path(65, 0), i65);
  ASSERT_TRUE(e65.ok());
  EXPECT_EQ(*e65, obj65);

  const auto obj66 =
      hex("080026C8000B6D79536572766963652031C8010F496E7465726E65742E31352E323334C40200430000"
          "080126C8000B6D79536572766963652032C8010F496E7465726E65742E31352E323335C402FFFFFFFF");
  const Object o66{
      66,
      {ObjectInstance{0,
                      {Resource::single(0, "myService 1"), Resource::single(1, "Internet.15.234"),
                       Resource::single(2, ObjectLink{67, 0})}},
       ObjectInstance{1,
                      {Resource::single(0, "myService 2"), Resource::single(1, "Internet.15.235"),
                       Resource::single(2, ObjectLink{65535, 65535})}}}};
  EXPECT_EQ(ok(Path(66), obj66), Node(o66));
  auto e66 = tlv::encode(Path(66), o66);
  ASSERT_TRUE(e66.ok());
  EXPECT_EQ(*e66, obj66);
}

// --- Value encodings ---

using testing::kAllTypesObject;

// The value bytes of `v` as the single resource of its type in object 10240.
std::vector<uint8_t> value_bytes(const Value& v) {
  const auto id = static_cast<uint16_t>(v.type());
  auto e = tlv::encode(Path(kAllTypesObject, 0, id), Resource::single(id, v));
  if (!e.ok()) {
    ADD_FAILURE() << e.error().message;
    return {};
  }
  const uint8_t b = (*e)[0];
  const size_t header = 2 + ((b & 0x20) ? 1 : 0) + ((b >> 3) & 3);
  return std::vector<uint8_t>(e->begin() + static_cast<long>(header), e->end());
}

// Decodes `bytes` as the value of the single resource of `type` in object 10240.
Result<Value> decode_value(const ModelRegistry& models, ResourceType type,
                           const std::vector<uint8_t>& bytes) {
  const auto id = static_cast<uint16_t>(type);
  std::vector<uint8_t> tlv = {static_cast<uint8_t>(0xC8), static_cast<uint8_t>(id),
                              static_cast<uint8_t>(bytes.size())};
  tlv.insert(tlv.end(), bytes.begin(), bytes.end());
  auto n = tlv::decode(Path(kAllTypesObject, 0, id), tlv, models);
  if (!n.ok()) return n.error();
  return std::get<Resource>(*n).value;
}

TEST_F(CodecTlv, IntegersUseTheShortestOfOneTwoFourEightBytes) {
  EXPECT_EQ(value_bytes(int64_t{0}), hex("00"));
  EXPECT_EQ(value_bytes(int64_t{-1}), hex("FF"));
  EXPECT_EQ(value_bytes(int64_t{127}), hex("7F"));
  EXPECT_EQ(value_bytes(int64_t{-128}), hex("80"));
  EXPECT_EQ(value_bytes(int64_t{128}), hex("0080"));
  EXPECT_EQ(value_bytes(int64_t{-129}), hex("FF7F"));
  EXPECT_EQ(value_bytes(int64_t{32767}), hex("7FFF"));
  EXPECT_EQ(value_bytes(int64_t{32768}), hex("00008000"));
  EXPECT_EQ(value_bytes(int64_t{-2147483648LL}), hex("80000000"));
  EXPECT_EQ(value_bytes(int64_t{2147483648LL}), hex("0000000080000000"));
  EXPECT_EQ(value_bytes(std::numeric_limits<int64_t>::min()), hex("8000000000000000"));
  EXPECT_EQ(value_bytes(Time{1367491215}), hex("5182428F"));
  EXPECT_EQ(value_bytes(Time{-1}), hex("FF"));
}

TEST_F(CodecTlv, UnsignedIntegersAreUnsigned) {
  EXPECT_EQ(value_bytes(uint64_t{255}), hex("FF"));
  EXPECT_EQ(value_bytes(uint64_t{256}), hex("0100"));
  EXPECT_EQ(value_bytes(uint64_t{65536}), hex("00010000"));
  EXPECT_EQ(value_bytes(std::numeric_limits<uint64_t>::max()), hex("FFFFFFFFFFFFFFFF"));
  auto v = decode_value(models, ResourceType::kUnsignedInteger, hex("FF"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, Value(uint64_t{255}));
}

TEST_F(CodecTlv, SignedDecodingExtendsTheSign) {
  const std::pair<const char*, int64_t> cases[] = {
      {"FF", -1},
      {"80", -128},
      {"7F", 127},
      {"FF7F", -129},
      {"8000", -32768},
      {"00008000", 32768},
      {"FFFFFFFE", -2},
      {"8000000000000000", std::numeric_limits<int64_t>::min()},
      {"7FFFFFFFFFFFFFFF", std::numeric_limits<int64_t>::max()}};
  for (const auto& [bytes, want] : cases) {
    auto v = decode_value(models, ResourceType::kInteger, hex(bytes));
    ASSERT_TRUE(v.ok()) << bytes;
    EXPECT_EQ(*v, Value(want)) << bytes;
  }
}

TEST_F(CodecTlv, FloatsTakeFourBytesOnlyWhenExact) {
  EXPECT_EQ(value_bytes(1.5), hex("3FC00000"));
  EXPECT_EQ(value_bytes(-0.0), hex("80000000"));
  EXPECT_EQ(value_bytes(0.1), hex("3FB999999999999A"));
  EXPECT_EQ(value_bytes(1e300), hex("7E37E43C8800759C"));
  auto four = decode_value(models, ResourceType::kFloat, hex("3FC00000"));
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(*four, Value(1.5));
  auto eight = decode_value(models, ResourceType::kFloat, hex("3FB999999999999A"));
  ASSERT_TRUE(eight.ok());
  EXPECT_EQ(*eight, Value(0.1));
}

TEST_F(CodecTlv, OtherValueEncodings) {
  EXPECT_EQ(value_bytes(true), hex("01"));
  EXPECT_EQ(value_bytes(false), hex("00"));
  EXPECT_EQ(value_bytes(ObjectLink{3, 0}), hex("00030000"));
  EXPECT_EQ(value_bytes(Opaque{0xDE, 0xAD}), hex("DEAD"));
  EXPECT_EQ(value_bytes(CoreLink{"</3>"}), hex("3C2F333E"));
  EXPECT_EQ(value_bytes("h\xC3\xA9"), hex("68C3A9"));
}

// --- Header forms ---

TEST_F(CodecTlv, LongLengthsAndWideIdentifiers) {
  // 16-bit resource id, 8-bit length.
  const Resource x = Resource::single(5702, 1.5);
  auto e = tlv::encode(Path(3313, 0, 5702), x);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, hex("E4 1646 3FC00000"));

  for (size_t size : {7u, 8u, 255u, 256u, 65535u, 65536u, 70000u}) {
    const Opaque data(size, 0xAB);
    const Resource r = Resource::single(6, data);
    auto bytes = tlv::encode(Path(kAllTypesObject, 0, 6), r);
    ASSERT_TRUE(bytes.ok());
    const uint8_t b = (*bytes)[0];
    const int want_type = size < 8 ? 0 : size <= 0xFF ? 1 : size <= 0xFFFF ? 2 : 3;
    EXPECT_EQ((b >> 3) & 3, want_type) << size;
    EXPECT_EQ(ok(Path(kAllTypesObject, 0, 6), *bytes), Node(r)) << size;
  }
  // Leshan and old clients may write a longer length field than needed.
  EXPECT_EQ(ok(Path(3, 0, 9), hex("D8 09 000001 64")), Node(Resource::single(9, 100)));
}

TEST_F(CodecTlv, ResourcesWithoutModelDecodeAsOpaque) {
  EXPECT_EQ(ok(Path(4242, 0, 1), hex("C1 01 7F")), Node(Resource::single(1, Opaque{0x7F})));
  EXPECT_EQ(ok(Path(3, 0, 99), hex("C2 63 0102")), Node(Resource::single(99, Opaque{1, 2})));
}

TEST_F(CodecTlv, WrapperAndShortcutForms) {
  // Resource wrapped in its object instance.
  EXPECT_EQ(ok(Path(3, 0, 1), hex("08 00 03 C1 01 41")), Node(Resource::single(1, "A")));
  // Resource instance wrapped in its multiple resource and object instance.
  EXPECT_EQ(ok(Path(3, 0, 7, 1), hex("08 00 07 88 07 04 42 01 13 88")),
            Node((ResourceInstance{1, 5000})));
  EXPECT_EQ(ok(Path(3, 0, 7, 1), hex("42 01 13 88")), Node((ResourceInstance{1, 5000})));
  // A single-instance object sent without its instance TLV reads as instance 0.
  EXPECT_EQ(ok(Path(3), hex("C1 09 64")),
            Node(Object{3, {ObjectInstance{0, {Resource::single(9, 100)}}}}));
  // Empty payloads.
  EXPECT_EQ(ok(Path(3), {}), Node(Object{3, {}}));
  EXPECT_EQ(ok(Path(3, 0), {}), Node(ObjectInstance{0, {}}));
  EXPECT_EQ(ok(Path(3, 0, 6), {}), Node(Resource::multi(6, {})));
  // Children come out sorted by id.
  EXPECT_EQ(ok(Path(3, 0), hex("C10A0F C10964")),
            Node(ObjectInstance{0, {Resource::single(9, 100), Resource::single(10, 15)}}));
}

TEST_F(CodecTlv, OldContentFormatNumberIsAccepted) {
  const auto bytes = hex("C10964");
  auto n = lwm2m::decode(ContentFormat::kOldTlv, Path(3, 0, 9), bytes, models);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, Node(Resource::single(9, 100)));
  auto e = lwm2m::encode(ContentFormat::kOldTlv, Path(3, 0, 9), *n);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, bytes);
}

// --- Malformed input ---

TEST_F(CodecTlv, RejectsTruncatedHeaders) {
  fails(Path(3, 0), hex("C8"), ErrorKind::kMalformed);           // no identifier
  fails(Path(3, 0), hex("E1 16"), ErrorKind::kMalformed);        // 16-bit id cut short
  fails(Path(3, 0), hex("C8 00"), ErrorKind::kMalformed);        // 8-bit length missing
  fails(Path(3, 0), hex("D0 00 01"), ErrorKind::kMalformed);     // 16-bit length cut short
  fails(Path(3, 0), hex("D8 00 00 01"), ErrorKind::kMalformed);  // 24-bit length cut short
  const Error e = fails(Path(3, 0), hex("C10964 C8"), ErrorKind::kMalformed);
  EXPECT_NE(e.message.find("offset 3"), std::string::npos) << e.message;
}

TEST_F(CodecTlv, RejectsLengthBeyondEnd) {
  const Error e = fails(Path(3, 0), hex("C3 00 41"), ErrorKind::kMalformed);
  EXPECT_NE(e.message.find("length 3 exceeds"), std::string::npos) << e.message;
  fails(Path(3, 0), hex("C8 00 14 41 42"), ErrorKind::kMalformed);
  fails(Path(3, 0), hex("D8 00 FFFFFF 00"), ErrorKind::kMalformed);
  // A child longer than its container, even though the payload continues.
  fails(Path(3), hex("08 00 03 C3 00 41 4242"), ErrorKind::kMalformed);
  fails(Path(3, 0, 6), hex("86 06 02 41 01"), ErrorKind::kMalformed);
}

TEST_F(CodecTlv, RejectsValueLengthsTheModelForbids) {
  const Error e = fails(Path(3, 0, 9), hex("C3 09 000001"), ErrorKind::kTypeMismatch);
  EXPECT_NE(e.message.find("/3/0/9"), std::string::npos) << e.message;
  fails(Path(3, 0, 9), hex("C0 09"), ErrorKind::kTypeMismatch);               // empty integer
  fails(Path(3, 0, 13), hex("C5 0D 0000000000"), ErrorKind::kTypeMismatch);   // 5-byte time
  fails(Path(3313, 0, 5702), hex("E2 1646 0000"), ErrorKind::kTypeMismatch);  // 2-byte float
  fails(Path(1, 0, 6), hex("C2 06 0001"), ErrorKind::kTypeMismatch);          // 2-byte bool
  fails(Path(1, 0, 6), hex("C1 06 02"), ErrorKind::kTypeMismatch);            // bool 2
  fails(Path(65, 0, 0, 0), hex("43 00 000042"), ErrorKind::kTypeMismatch);    // 3-byte objlnk
  fails(Path(3, 0, 0), hex("C2 00 C328"), ErrorKind::kMalformed);             // bad UTF-8
}

TEST_F(CodecTlv, RejectsStructureThatDoesNotFitThePath) {
  // Two resources with the same id, two instances with the same id.
  fails(Path(3, 0), hex("C10964 C10963"), ErrorKind::kMalformed);
  fails(Path(3), hex("0800 00 0800 00"), ErrorKind::kMalformed);
  fails(Path(3, 0, 6), hex("86 06 06 410001 410005"), ErrorKind::kMalformed);
  // Wrong ids against the path.
  fails(Path(3, 0), hex("08 01 03 C10964"), ErrorKind::kMalformed);
  fails(Path(3, 0, 1), hex("C1 02 41"), ErrorKind::kMalformed);
  fails(Path(3, 0, 1), hex("08 01 03 C10141"), ErrorKind::kMalformed);
  fails(Path(3, 0, 7, 1), hex("42 00 1388"), ErrorKind::kMalformed);
  // TLV types at the wrong level.
  fails(Path(3, 0), hex("41 00 01"), ErrorKind::kMalformed);
  fails(Path(3), hex("41 00 01"), ErrorKind::kMalformed);
  fails(Path(3), hex("08 00 03 C10964 C10A0F"), ErrorKind::kMalformed);
  fails(Path(3, 0, 6), hex("86 06 03 C10001"), ErrorKind::kMalformed);
  fails(Path(3, 0, 9), hex("C10964 C10A0F"), ErrorKind::kMalformed);
  // Multiplicity against the model.
  fails(Path(3, 0, 6), hex("C1 06 01"), ErrorKind::kTypeMismatch);
  fails(Path(3, 0, 9), hex("83 09 41 00 64"), ErrorKind::kTypeMismatch);
  fails(Path(3, 0, 9, 0), hex("41 00 64"), ErrorKind::kTypeMismatch);
  fails(Path(3, 0), hex("C1 06 01"), ErrorKind::kTypeMismatch);
  // Nothing for a single resource; the reserved id 65535.
  fails(Path(3, 0, 9), {}, ErrorKind::kMalformed);
  fails(Path(4242, 0, 1), {}, ErrorKind::kMalformed);
  fails(Path(3, 0), hex("E1 FFFF 00"), ErrorKind::kMalformed);
  // The root path cannot be decoded.
  fails(Path(), hex("C10964"), ErrorKind::kUnsupported);
}

TEST_F(CodecTlv, EncodeRejectsNodesThatDoNotFitThePath) {
  auto bad = [](const Path& p, const Node& n, ErrorKind kind) {
    auto e = tlv::encode(p, n);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().kind, kind) << e.error().message;
  };
  bad(Path(3, 0), Resource::single(9, 100), ErrorKind::kInvalidArgument);         // kind
  bad(Path(3, 0, 10), Resource::single(9, 100), ErrorKind::kInvalidArgument);     // id
  bad(Path(3, 0, 9), Resource::single(9, Value{}), ErrorKind::kInvalidArgument);  // none
  bad(Path(3, 0, 0), Resource::single(0, "\xFF"), ErrorKind::kInvalidArgument);   // UTF-8
  bad(Path(3, 0), ObjectInstance{0, {Resource::single(10, 1), Resource::single(9, 1)}},
      ErrorKind::kInvalidArgument);  // unsorted
  bad(Path(3, 0, 6), Resource{6, false, Value{}, {{0, 1}}}, ErrorKind::kInvalidArgument);
  bad(Path(), Object{3, {}}, ErrorKind::kUnsupported);
  bad(Path(kAllTypesObject, 0, 6), Resource::single(6, Opaque(0x1000000, 0)),
      ErrorKind::kInvalidArgument);  // beyond the 24-bit length
}

}  // namespace
}  // namespace fogm2m::lwm2m
