#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "lwm2m/codec/cbor.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/lwm2m_cbor.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::bytes;

using namespace std::string_literals;
using namespace std::string_view_literals;
using testing::device_instance;
using testing::kAllTypesObject;

// The vectors below are written out by hand: each CBOR head as a hex escape,
// each text string's content as plain characters in a literal of its own.

// The specification's Device example (Read /3/0; the instance TS-Core 7.4.x
// gives in TLV, JSON and SenML) in LwM2M CBOR (TS-Core 1.2 7.4.7): maps
// nested from the object down, Time as tag 1.
// clang-format off
constexpr std::string_view kSpecDeviceLwm2mCbor =
    "\xa1" "\x03"                                    // {3:
    "\xa1" "\x00"                                    //  {0:
    "\xad"                                           //   map(13)
    "\x00\x74" "Open Mobile Alliance"
    "\x01\x76" "Lightweight M2M Client"
    "\x02\x69" "345000123"
    "\x03\x63" "1.0"
    "\x06\xa2" "\x00\x01" "\x01\x05"                 // 6: {0: 1, 1: 5}
    "\x07\xa2" "\x00\x19\x0e\xd8" "\x01\x19\x13\x88" // 7: {0: 3800, 1: 5000}
    "\x08\xa2" "\x00\x18\x7d" "\x01\x19\x03\x84"     // 8: {0: 125, 1: 900}
    "\x09\x18\x64"                                   // 9: 100
    "\x0a\x0f"                                       // 10: 15
    "\x0b\xa1" "\x00\x00"                            // 11: {0: 0}
    "\x0d\xc1\x1a\x51\x82\x42\x8f"                   // 13: 1(1367491215)
    "\x0e\x66" "+02:00"
    "\x10\x61" "U"sv;
// clang-format on

class CodecLwm2mCbor : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();
  ModelRegistry no_models;

  Node ok(const Path& p, std::string_view cbor, const ModelRegistry* m = nullptr) {
    auto n = lwm2m_cbor::decode(p, bytes(cbor), m ? *m : models);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message);
    return n.ok() ? *n : Node();
  }
  Error fails(const Path& p, std::string_view cbor, ErrorKind kind) {
    auto n = lwm2m_cbor::decode(p, bytes(cbor), models);
    EXPECT_FALSE(n.ok());
    if (n.ok()) return Error{};
    EXPECT_EQ(n.error().kind, kind) << n.error().message;
    EXPECT_EQ(n.error().message.rfind("LwM2M CBOR: ", 0), 0u) << n.error().message;
    return n.error();
  }
  std::string encode(const Path& p, const Node& n) {
    auto e = lwm2m_cbor::encode(p, n);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return e.ok() ? std::string(e->begin(), e->end()) : std::string();
  }
  Error encode_fails(const Path& p, const Node& n) {
    auto e = lwm2m_cbor::encode(p, n);
    EXPECT_FALSE(e.ok());
    if (e.ok()) return Error{};
    EXPECT_EQ(e.error().kind, ErrorKind::kInvalidArgument) << e.error().message;
    EXPECT_EQ(e.error().message.rfind("LwM2M CBOR: ", 0), 0u) << e.error().message;
    return e.error();
  }
};

TEST_F(CodecLwm2mCbor, SpecDeviceExampleEncodesByteExact) {
  EXPECT_EQ(encode(Path(3, 0), device_instance()), kSpecDeviceLwm2mCbor);
}

TEST_F(CodecLwm2mCbor, SpecDeviceExampleDecodes) {
  EXPECT_EQ(ok(Path(3, 0), kSpecDeviceLwm2mCbor), Node(device_instance()));
  // The same payload answers a Read of the object, and of one resource inside it.
  EXPECT_EQ(ok(Path(3), kSpecDeviceLwm2mCbor), Node(Object{3, {device_instance()}}));
}

// Keys start at the object whatever the request path: a single resource,
// a resource instance and a multiple resource.
TEST_F(CodecLwm2mCbor, KeysStartAtTheObject) {
  EXPECT_EQ(encode(Path(3, 0, 9), Resource::single(9, 100)), "\xa1\x03\xa1\x00\xa1\x09\x18\x64"s);
  EXPECT_EQ(encode(Path(3, 0, 6, 1), ResourceInstance{1, 5}),
            "\xa1\x03\xa1\x00\xa1\x06\xa1\x01\x05"s);
  EXPECT_EQ(encode(Path(3, 0, 6), Resource::multi(6, {{0, 1}, {1, 5}})),
            "\xa1\x03\xa1\x00\xa1\x06\xa2\x00\x01\x01\x05"s);
  EXPECT_EQ(ok(Path(3, 0, 9), "\xa1\x03\xa1\x00\xa1\x09\x18\x64"sv),
            Node(Resource::single(9, 100)));
}

// A key may be an array of path components (TS-Core 1.2 7.4.7); these
// payloads are the ones other implementations' decoders are tested with:
// {[13, 26, 1]: 42} in every spelling, for an unmodelled object.
TEST_F(CodecLwm2mCbor, ArrayKeysAndIndefiniteLengths) {
  const Node want = Resource::single(1, 42);
  const Path p(13, 26, 1);
  EXPECT_EQ(ok(p, "\xa1\x83\x0d\x18\x1a\x01\x18\x2a"sv, &no_models), want);
  EXPECT_EQ(ok(p, "\xbf\x9f\x0d\x18\x1a\x01\xff\x18\x2a\xff"sv, &no_models), want);
  EXPECT_EQ(ok(p, "\xa1\x0d\xa1\x18\x1a\xa1\x01\x18\x2a"sv, &no_models), want);
  EXPECT_EQ(ok(p, "\xbf\x0d\xbf\x18\x1a\xbf\x01\x18\x2a\xff\xff\xff"sv, &no_models), want);
  EXPECT_EQ(ok(p, "\xa1\x81\x0d\xa1\x81\x18\x1a\xa1\x81\x01\x18\x2a"sv, &no_models), want);
  // Two resources reached by different keys: {[13, 26]: {1: 42}, [13, 26, 2]: 21}.
  const Node two = ObjectInstance{26, {Resource::single(1, 42), Resource::single(2, 21)}};
  EXPECT_EQ(ok(Path(13, 26), "\xa2\x82\x0d\x18\x1a\xa1\x01\x18\x2a\x83\x0d\x18\x1a\x02\x15"sv,
               &no_models),
            two);
  EXPECT_EQ(ok(Path(13, 26), "\xa2\x83\x0d\x18\x1a\x01\x18\x2a\x82\x0d\x18\x1a\xa1\x81\x02\x15"sv,
               &no_models),
            two);
}

// A decimal fraction (tag 4): {[13, 26, 1, 2]: 4([-1, 45])} is 4.5.
TEST_F(CodecLwm2mCbor, DecimalFraction) {
  EXPECT_EQ(
      ok(Path(13, 26, 1, 2), "\xa1\x84\x0d\x18\x1a\x01\x02\xc4\x82\x20\x18\x2d"sv, &no_models),
      Node(ResourceInstance{2, 4.5}));
}

// Every value type, encoded and decoded by the model.
TEST_F(CodecLwm2mCbor, EveryType) {
  const Path p(kAllTypesObject, 0);
  const ObjectInstance oi{
      0,
      {Resource::single(1, "x"), Resource::single(2, int64_t{-5}), Resource::single(3, uint64_t{7}),
       Resource::single(4, 1.5), Resource::single(5, true), Resource::single(6, Opaque{0xde, 0xad}),
       Resource::single(7, Time{-1}), Resource::single(8, ObjectLink{17, 18}),
       Resource::single(9, CoreLink{"</3/0>"})}};
  // kAllTypesObject = 10240 = 0x2800
  // clang-format off
  const std::string want =
      "\xa1\x19\x28\x00" "\xa1\x00" "\xa9"
      "\x01\x61" "x"
      "\x02\x24"
      "\x03\x07"
      "\x04\xf9\x3e\x00"
      "\x05\xf5"
      "\x06\x42\xde\xad"
      "\x07\xc1\x20"
      "\x08\x65" "17:18"
      "\x09\x66" "</3/0>"s;
  // clang-format on
  EXPECT_EQ(encode(p, oi), want);
  EXPECT_EQ(ok(p, want), Node(oi));
}

// Integer, Unsigned and Time resources take any integral number; Time also
// untagged; a Float takes integers.
TEST_F(CodecLwm2mCbor, NumbersByModel) {
  const auto res = [](uint16_t id) { return Path(kAllTypesObject, 0, id); };
  const auto top = [](uint16_t id, std::string_view value) {
    return "\xa1\x19\x28\x00\xa1\x00\xa1"s + static_cast<char>(id) + std::string(value);
  };
  EXPECT_EQ(ok(res(7), top(7, "\x1a\x51\x82\x42\x8f"sv)),
            Node(Resource::single(7, Time{1367491215})));
  EXPECT_EQ(ok(res(2), top(2, "\xf9\x40\x00"sv)), Node(Resource::single(2, int64_t{2})));
  EXPECT_EQ(ok(res(4), top(4, "\x02"sv)), Node(Resource::single(4, 2.0)));
  EXPECT_EQ(ok(res(3), top(3, "\x1b\xff\xff\xff\xff\xff\xff\xff\xff"sv)),
            Node(Resource::single(3, std::numeric_limits<uint64_t>::max())));
  fails(res(3), top(3, "\x20"sv), ErrorKind::kInvalidArgument);       // -1 for Unsigned
  fails(res(2), top(2, "\xf9\x3e\x00"sv), ErrorKind::kTypeMismatch);  // 1.5 for Integer
  fails(res(2), top(2, "\x3b\xff\xff\xff\xff\xff\xff\xff\xff"sv), ErrorKind::kInvalidArgument);
  fails(res(4), top(4, "\xf9\x7e\x00"sv), ErrorKind::kInvalidArgument);  // NaN
  fails(res(2), top(2, "\xc1\x01"sv), ErrorKind::kTypeMismatch);         // a time for an Integer
}

// Without a model the CBOR type decides.
TEST_F(CodecLwm2mCbor, ValuesWithoutModel) {
  const Path p(4242, 1);
  const ObjectInstance oi{
      1,
      {Resource::single(0, "text"), Resource::single(1, int64_t{-5}),
       Resource::single(2, std::numeric_limits<uint64_t>::max()), Resource::single(3, 2.0),
       Resource::single(4, true), Resource::single(5, Opaque{9, 8}),
       Resource::single(6, Time{1700000000}), Resource::multi(7, {{0, 1.25}, {1, 1e-7}})}};
  const std::string b = encode(p, oi);
  EXPECT_EQ(ok(p, b), Node(oi));
}

TEST_F(CodecLwm2mCbor, EmptyNodes) {
  EXPECT_EQ(encode(Path(3), Object{3, {}}), "\xa0"s);
  EXPECT_EQ(encode(Path(3, 0), ObjectInstance{0, {}}), "\xa0"s);
  EXPECT_EQ(ok(Path(3), "\xa0"sv), Node(Object{3, {}}));
  EXPECT_EQ(ok(Path(3, 0), "\xa1\x03\xa0"sv), Node(ObjectInstance{0, {}}));
  fails(Path(3, 0, 9), "\xa0"sv, ErrorKind::kMalformed);  // a single resource needs a value
}

TEST_F(CodecLwm2mCbor, MalformedDocuments) {
  EXPECT_NE(fails(Path(3, 0), "\xa1\x03"sv, ErrorKind::kMalformed).message.find("offset"),
            std::string::npos);
  fails(Path(3, 0), "\x80"sv, ErrorKind::kMalformed);                              // an array
  fails(Path(3, 0), "\xa1\x20\xa0"sv, ErrorKind::kMalformed);                      // key -1
  fails(Path(3, 0), "\xa1\x61\x33\xa0"sv, ErrorKind::kMalformed);                  // key "3"
  fails(Path(3, 0), "\xa1\x80\xa0"sv, ErrorKind::kMalformed);                      // key []
  fails(Path(3, 0), "\xa1\x19\xff\xff\xa0"sv, ErrorKind::kMalformed);              // id 65535
  fails(Path(3, 0), "\xa1\x85\x03\x00\x06\x00\x00\x01"sv, ErrorKind::kMalformed);  // depth 5
  fails(Path(3, 0), "\xa1\x82\x03\x00\x05"sv, ErrorKind::kInvalidArgument);      // a value at /3/0
  fails(Path(3, 0), "\xa1\x83\x04\x00\x00\x01"sv, ErrorKind::kInvalidArgument);  // outside /3/0
  // Two values for /3/0/9.
  fails(Path(3, 0), "\xa2\x83\x03\x00\x09\x01\x03\xa1\x00\xa1\x09\x02"sv, ErrorKind::kMalformed);
  fails(Path(3, 0), "\xa1\x83\x03\x00\x09\xf6"sv, ErrorKind::kUnsupported);          // null
  fails(Path(3, 0), "\xa1\x83\x03\x00\x09\xc2\x41\x01"sv, ErrorKind::kUnsupported);  // tag 2
  fails(Path(3, 0), "\xa1\x83\x03\x00\x09\x61\x78"sv,
        ErrorKind::kTypeMismatch);                                            // text for Integer
  fails(Path(3, 0), "\xa1\x83\x03\x00\x00\x05"sv, ErrorKind::kTypeMismatch);  // number for String
  fails(Path(3, 0), "\xa1\x83\x03\x00\x09\x80"sv, ErrorKind::kMalformed);     // an array value
  fails(Path(66, 0), "\xa1\x83\x18\x42\x00\x02\x63\x33\x3a\x78"sv, ErrorKind::kMalformed);  // "3:x"
  fails(Path(), "\xa0"sv, ErrorKind::kUnsupported);
}

TEST_F(CodecLwm2mCbor, EncodeErrors) {
  encode_fails(Path(3, 0, 9), Resource::single(9, std::nan("")));
  encode_fails(Path(3, 0, 9), Resource::single(9, Value()));
  encode_fails(Path(3, 0, 0), Resource::single(0, "\xff"));
  encode_fails(Path(3, 1), ObjectInstance{0, {}});  // id and path disagree
}

// Through codec.h and the content-format table.
TEST_F(CodecLwm2mCbor, RegisteredAs11544) {
  EXPECT_EQ(static_cast<unsigned>(ContentFormat::kLwm2mCbor), 11544u);
  EXPECT_EQ(parse_content_format("LWM2M_CBOR"), ContentFormat::kLwm2mCbor);
  EXPECT_EQ(parse_content_format("11544"), ContentFormat::kLwm2mCbor);
  EXPECT_STREQ(to_name(ContentFormat::kLwm2mCbor), "LWM2M_CBOR");
  EXPECT_TRUE(can_encode(ContentFormat::kLwm2mCbor, Path(3)));
  EXPECT_FALSE(carries_composite(ContentFormat::kLwm2mCbor));
  auto b = lwm2m::encode(ContentFormat::kLwm2mCbor, Path(3, 0), device_instance());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(std::string(b->begin(), b->end()), kSpecDeviceLwm2mCbor);
}

}  // namespace
}  // namespace fogm2m::lwm2m
