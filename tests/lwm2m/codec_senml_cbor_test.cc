#include <gtest/gtest.h>

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "lwm2m/codec/cbor.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/senml_cbor.h"
#include "tests/lwm2m/codec_test_models.h"

namespace fogm2m::lwm2m {
namespace {

using testing::bytes;

using namespace std::string_literals;
using namespace std::string_view_literals;
using testing::device_instance;
using testing::kAllTypesObject;

// The spec vectors below are written out by hand: each CBOR head as a hex
// escape, each text string's content as plain characters in a literal of
// its own (so no character is read as part of a hex escape).

// LwM2M 1.1 TS-Core 7.4.4's SenML JSON example (Read /3/0) in SenML CBOR:
// [{-2: "/3/0/", 0: "0", 3: "Open Mobile Alliance"}, {0: "1", 3: "Lightweight
// M2M Client"}, ..., {0: "6/0", 2: 1}, ..., {0: "13", 2: 1367491215}, ...].
// clang-format off
constexpr std::string_view kSpecDeviceSenmlCbor =
    "\x90"                                                              // array(16)
    "\xa3" "\x21\x65" "/3/0/" "\x00\x61" "0" "\x03\x74" "Open Mobile Alliance"
    "\xa2" "\x00\x61" "1" "\x03\x76" "Lightweight M2M Client"
    "\xa2" "\x00\x61" "2" "\x03\x69" "345000123"
    "\xa2" "\x00\x61" "3" "\x03\x63" "1.0"
    "\xa2" "\x00\x63" "6/0" "\x02\x01"
    "\xa2" "\x00\x63" "6/1" "\x02\x05"
    "\xa2" "\x00\x63" "7/0" "\x02\x19\x0e\xd8"                          // 3800
    "\xa2" "\x00\x63" "7/1" "\x02\x19\x13\x88"                          // 5000
    "\xa2" "\x00\x63" "8/0" "\x02\x18\x7d"                              // 125
    "\xa2" "\x00\x63" "8/1" "\x02\x19\x03\x84"                          // 900
    "\xa2" "\x00\x61" "9" "\x02\x18\x64"                                // 100
    "\xa2" "\x00\x62" "10" "\x02\x0f"
    "\xa2" "\x00\x64" "11/0" "\x02\x00"
    "\xa2" "\x00\x62" "13" "\x02\x1a\x51\x82\x42\x8f"                   // 1367491215
    "\xa2" "\x00\x62" "14" "\x03\x66" "+02:00"
    "\xa2" "\x00\x62" "16" "\x03\x61" "U"sv;
// clang-format on

// Builders for the other payloads, on the CBOR writer (tested on its own
// against RFC 8949 in cbor_test.cc).
std::string I(int64_t v) {
  std::vector<uint8_t> out;
  cbor::append_int(out, v);
  return std::string(out.begin(), out.end());
}
std::string U(uint64_t v) {
  std::vector<uint8_t> out;
  cbor::append_unsigned(out, v);
  return std::string(out.begin(), out.end());
}
std::string T(std::string_view text) {
  std::vector<uint8_t> out;
  cbor::append_text(out, text);
  return std::string(out.begin(), out.end());
}
std::string B(std::initializer_list<uint8_t> bytes) {
  std::vector<uint8_t> out;
  cbor::append_bytes(out, std::vector<uint8_t>(bytes));
  return std::string(out.begin(), out.end());
}
std::string F(double v) {
  std::vector<uint8_t> out;
  cbor::append_float(out, v);
  return std::string(out.begin(), out.end());
}
// A map of key, value, key, value ...
std::string M(std::initializer_list<std::string> kv) {
  std::vector<uint8_t> out;
  cbor::append_map_head(out, kv.size() / 2);
  std::string s(out.begin(), out.end());
  for (const auto& x : kv) s += x;
  return s;
}
std::string A(std::initializer_list<std::string> items) {
  std::vector<uint8_t> out;
  cbor::append_array_head(out, items.size());
  std::string s(out.begin(), out.end());
  for (const auto& x : items) s += x;
  return s;
}
const std::string kTrue = "\xf5", kFalse = "\xf4", kNull = "\xf6";

class CodecSenmlCbor : public ::testing::Test {
 protected:
  ModelRegistry models = testing::codec_test_models();

  Node ok(const Path& p, std::string_view cbor) {
    auto n = senml_cbor::decode(p, bytes(cbor), models);
    EXPECT_TRUE(n.ok()) << (n.ok() ? "" : n.error().message);
    return n.ok() ? *n : Node();
  }
  Error fails(const Path& p, std::string_view cbor, ErrorKind kind) {
    auto n = senml_cbor::decode(p, bytes(cbor), models);
    EXPECT_FALSE(n.ok());
    if (n.ok()) return Error{};
    EXPECT_EQ(n.error().kind, kind) << n.error().message;
    EXPECT_EQ(n.error().message.rfind("SenML CBOR: ", 0), 0u) << n.error().message;
    return n.error();
  }
  std::string encode(const Path& p, const Node& n) {
    auto e = senml_cbor::encode(p, n);
    EXPECT_TRUE(e.ok()) << (e.ok() ? "" : e.error().message);
    return e.ok() ? std::string(e->begin(), e->end()) : std::string();
  }
  Error encode_fails(const Path& p, const Node& n) {
    auto e = senml_cbor::encode(p, n);
    EXPECT_FALSE(e.ok());
    if (e.ok()) return Error{};
    EXPECT_EQ(e.error().kind, ErrorKind::kInvalidArgument) << e.error().message;
    EXPECT_EQ(e.error().message.rfind("SenML CBOR: ", 0), 0u) << e.error().message;
    return e.error();
  }
};

TEST_F(CodecSenmlCbor, SpecDeviceExampleDecodes) {
  EXPECT_EQ(ok(Path(3, 0), kSpecDeviceSenmlCbor), Node(device_instance()));
}

TEST_F(CodecSenmlCbor, SpecDeviceExampleEncodesByteExact) {
  EXPECT_EQ(encode(Path(3, 0), device_instance()), kSpecDeviceSenmlCbor);
}

// The object-link example of TS-Core 7.4.4 (object 66 part) in SenML CBOR:
// "vlo" is a text label with a text value; "bn" changes mid-pack.
// clang-format off
TEST_F(CodecSenmlCbor, SpecObjectLinkExampleWithChangingBaseName) {
  constexpr std::string_view cbor =
      "\x86"
      "\xa3" "\x21\x66" "/66/0/" "\x00\x61" "0" "\x03\x6b" "myService 1"
      "\xa2" "\x00\x61" "1" "\x03\x6f" "Internet.15.234"
      "\xa2" "\x00\x61" "2" "\x63" "vlo" "\x64" "67:0"
      "\xa3" "\x21\x66" "/66/1/" "\x00\x61" "0" "\x03\x6b" "myService 2"
      "\xa2" "\x00\x61" "1" "\x03\x6f" "Internet.15.235"
      "\xa2" "\x00\x61" "2" "\x63" "vlo" "\x6b" "65535:65535"sv;
  const Object o66{
      66,
      {ObjectInstance{0,
                      {Resource::single(0, "myService 1"), Resource::single(1, "Internet.15.234"),
                       Resource::single(2, ObjectLink{67, 0})}},
       ObjectInstance{1,
                      {Resource::single(0, "myService 2"), Resource::single(1, "Internet.15.235"),
                       Resource::single(2, ObjectLink{65535, 65535})}}}};
  EXPECT_EQ(ok(Path(66), cbor), Node(o66));
  EXPECT_EQ(encode(Path(66), o66),
            "\x86"
            "\xa3" "\x21\x64" "/66/" "\x00\x63" "0/0" "\x03\x6b" "myService 1"
            "\xa2" "\x00\x63" "0/1" "\x03\x6f" "Internet.15.234"
            "\xa2" "\x00\x63" "0/2" "\x63" "vlo" "\x64" "67:0"
            "\xa2" "\x00\x63" "1/0" "\x03\x6b" "myService 2"
            "\xa2" "\x00\x63" "1/1" "\x03\x6f" "Internet.15.235"
            "\xa2" "\x00\x63" "1/2" "\x63" "vlo" "\x6b" "65535:65535"sv);
}
// clang-format on

// RFC 8428 section 6's CBOR example (bver, base time, base unit, a series
// of timestamped values), with its names replaced by LwM2M paths:
// [{-2: "/3313/0/", -3: 1276020076.001, -4: "A", -1: 5, 0: "5702", 1: "V",
//   2: 120.1}, {0: "5703", 6: -5, 2: 1.2}, {0: "5703", 6: -4, 2: 1.3}, ...
//  {0: "5703", 6: 0, 2: 1.7}]. Of the series the newest value (t = 0) wins;
// 1.5 comes as a half float, the others as doubles.
// clang-format off
TEST_F(CodecSenmlCbor, Rfc8428ExampleWithTimesAndUnits) {
  constexpr std::string_view cbor =
      "\x87"
      "\xa7" "\x21\x68" "/3313/0/" "\x22\xfb\x41\xd3\x03\xa1\x5b\x00\x10\x62" "\x23\x61" "A"
      "\x20\x05" "\x00\x64" "5702" "\x01\x61" "V" "\x02\xfb\x40\x5e\x06\x66\x66\x66\x66\x66"
      "\xa3" "\x00\x64" "5703" "\x06\x24" "\x02\xfb\x3f\xf3\x33\x33\x33\x33\x33\x33"
      "\xa3" "\x00\x64" "5703" "\x06\x23" "\x02\xfb\x3f\xf4\xcc\xcc\xcc\xcc\xcc\xcd"
      "\xa3" "\x00\x64" "5703" "\x06\x22" "\x02\xfb\x3f\xf6\x66\x66\x66\x66\x66\x66"
      "\xa3" "\x00\x64" "5703" "\x06\x21" "\x02\xf9\x3e\x00"
      "\xa3" "\x00\x64" "5703" "\x06\x20" "\x02\xfb\x3f\xf9\x99\x99\x99\x99\x99\x9a"
      "\xa3" "\x00\x64" "5703" "\x06\x00" "\x02\xfb\x3f\xfb\x33\x33\x33\x33\x33\x33"sv;
  EXPECT_EQ(ok(Path(3313, 0), cbor),
            Node(ObjectInstance{0, {Resource::single(5702, 120.1), Resource::single(5703, 1.7)}}));
}
// clang-format on

// clang-format off
TEST_F(CodecSenmlCbor, SingleValuesAndEmptyNodes) {
  EXPECT_EQ(encode(Path(3, 0, 0), Resource::single(0, "Open Mobile Alliance")),
            "\x81\xa2" "\x21\x66" "/3/0/0" "\x03\x74" "Open Mobile Alliance"sv);
  EXPECT_EQ(encode(Path(3, 0, 7), Resource::multi(7, {{0, 3800}, {1, 5000}})),
            "\x82"
            "\xa3" "\x21\x67" "/3/0/7/" "\x00\x61" "0" "\x02\x19\x0e\xd8"
            "\xa2" "\x00\x61" "1" "\x02\x19\x13\x88"sv);
  EXPECT_EQ(encode(Path(3, 0, 7, 1), ResourceInstance{1, 5000}),
            "\x81\xa2" "\x21\x68" "/3/0/7/1" "\x02\x19\x13\x88"sv);
  EXPECT_EQ(encode(Path(3, 0), ObjectInstance{0, {}}), "\x80"sv);
  EXPECT_EQ(ok(Path(3, 0, 7, 1), "\x81\xa2" "\x21\x68" "/3/0/7/1" "\x02\x19\x13\x88"sv),
            Node(ResourceInstance{1, 5000}));
  EXPECT_EQ(ok(Path(3, 0), "\x80"sv), Node(ObjectInstance{0, {}}));
  EXPECT_EQ(ok(Path(3, 0, 7), "\x80"sv), Node(Resource::multi(7, {})));
  // The full path as "n" alone, as for SenML JSON.
  EXPECT_EQ(ok(Path(6, 0, 3), A({M({I(0), T("/6/0/3"), I(2), F(20.0)})})),
            Node(Resource::single(3, 20.0)));
}
// clang-format on

TEST_F(CodecSenmlCbor, ValueLabelsAndShortestNumbers) {
  const Path p(kAllTypesObject, 0);
  auto one = [&](uint16_t id, Value v) {
    return encode(p, ObjectInstance{0, {Resource::single(id, std::move(v))}});
  };
  // [{-2: "/10240/0/", 0: "<id>", <label>: <value>}]
  auto expected = [](std::string_view id, std::string_view value) {
    return std::string(
               "\x81\xa3"
               "\x21\x69"
               "/10240/0/"
               "\x00\x61"sv) +
           std::string(id) + std::string(value);
  };
  EXPECT_EQ(one(5, true), expected("5", "\x04\xf5"));
  EXPECT_EQ(one(6, Opaque{0xfb, 0xff, 0xbf, 0x01}), expected("6", "\x08\x44\xfb\xff\xbf\x01"));
  EXPECT_EQ(one(7, Time{-5}), expected("7", "\x02\x24"));
  EXPECT_EQ(one(8, ObjectLink{3, 0}), expected("8",
                                               "\x63"
                                               "vlo"
                                               "\x63"
                                               "3:0"));
  EXPECT_EQ(one(9, CoreLink{"</3>"}), expected("9",
                                               "\x03\x64"
                                               "</3>"));
  EXPECT_EQ(one(1, "h\xc3\xa9"), expected("1",
                                          "\x03\x63"
                                          "h\xc3\xa9"));
  EXPECT_EQ(one(2, std::numeric_limits<int64_t>::min()),
            expected("2", "\x02\x3b\x7f\xff\xff\xff\xff\xff\xff\xff"));
  EXPECT_EQ(one(3, std::numeric_limits<uint64_t>::max()),
            expected("3", "\x02\x1b\xff\xff\xff\xff\xff\xff\xff\xff"));
  // Floats in the shortest width that holds them exactly.
  EXPECT_EQ(one(4, -0.0), expected("4", "\x02\xf9\x80\x00"sv));
  EXPECT_EQ(one(4, 1.5), expected("4", "\x02\xf9\x3e\x00"sv));
  EXPECT_EQ(one(4, 100000.0), expected("4", "\x02\xfa\x47\xc3\x50\x00"sv));
  EXPECT_EQ(one(4, 0.1), expected("4", "\x02\xfb\x3f\xb9\x99\x99\x99\x99\x99\x9a"));
}

TEST_F(CodecSenmlCbor, UntypedValuesKeepTheirCborKind) {
  EXPECT_EQ(ok(Path(1024, 0), A({M({I(-2), T("/1024/0/"), I(0), T("0"), I(3), T("s")}),
                                 M({I(0), T("1"), I(2), F(1.5)}), M({I(0), T("2"), I(4), kFalse}),
                                 M({I(0), T("3"), I(2), I(-7)}), M({I(0), T("4"), I(8), B({1})}),
                                 M({I(0), T("5"), T("vlo"), T("1:2")}),
                                 M({I(0), T("6"), I(2), U(std::numeric_limits<uint64_t>::max())}),
                                 M({I(0), T("7"), I(2), "\x3b\xff\xff\xff\xff\xff\xff\xff\xff"}),
                                 M({I(0), T("8"), I(2), F(2.0)})})),
            Node(ObjectInstance{
                0,
                {Resource::single(0, "s"), Resource::single(1, 1.5), Resource::single(2, false),
                 Resource::single(3, -7), Resource::single(4, Opaque{1}),
                 Resource::single(5, ObjectLink{1, 2}),
                 Resource::single(6, std::numeric_limits<uint64_t>::max()),
                 Resource::single(7, -18446744073709551616.0), Resource::single(8, 2.0)}}));
}

// clang-format off
TEST_F(CodecSenmlCbor, NumbersAreTypedByTheModel) {
  // A half float for an Integer resource instance, a single for a Float.
  EXPECT_EQ(ok(Path(3, 0, 7, 0), "\x81\xa2" "\x21\x68" "/3/0/7/0" "\x02\xf9\x6b\x6c"sv),
            Node(ResourceInstance{0, 3800}));
  EXPECT_EQ(ok(Path(3313, 0, 5702),
               "\x81\xa2" "\x21\x6c" "/3313/0/5702" "\x02\xfa\x41\xbc\x00\x00"sv),
            Node(Resource::single(5702, 23.5)));
  // An integer for a Float, Time and Unsigned Integer resources.
  EXPECT_EQ(ok(Path(3313, 0, 5702), A({M({I(-2), T("/3313/0/5702"), I(2), I(-3)})})),
            Node(Resource::single(5702, -3.0)));
  EXPECT_EQ(ok(Path(3, 0, 13), A({M({I(-2), T("/3/0/13"), I(2), I(1367491215)})})),
            Node(Resource::single(13, Time{1367491215})));
  EXPECT_EQ(ok(Path(kAllTypesObject, 0, 3), A({M({I(-2), T("/10240/0/3"), I(2), I(5)})})),
            Node(Resource::single(3, uint64_t{5})));
  // Decimal fractions (tag 4): 4([-2, 27315]) is 273.15, 4([2, 38]) 3800.
  EXPECT_EQ(ok(Path(3313, 0, 5702),
               "\x81\xa2" "\x21\x6c" "/3313/0/5702" "\x02\xc4\x82\x21\x19\x6a\xb3"sv),
            Node(Resource::single(5702, 273.15)));
  EXPECT_EQ(ok(Path(3, 0, 9), "\x81\xa2" "\x21\x66" "/3/0/9" "\x02\xc4\x82\x02\x18\x26"sv),
            Node(Resource::single(9, 3800)));
}
// clang-format on

// clang-format off
TEST_F(CodecSenmlCbor, IndefiniteLengthsAndAnyLabelOrder) {
  // [_ {_ -2: (_ "/3", "/0/"), 0: "9", 2: 100}, {_ 0: "10", 2: 15}]
  EXPECT_EQ(ok(Path(3, 0),
               "\x9f"
               "\xbf" "\x21\x7f\x62" "/3" "\x63" "/0/" "\xff" "\x00\x61" "9" "\x02\x18\x64" "\xff"
               "\xbf" "\x00\x62" "10" "\x02\x0f" "\xff"
               "\xff"sv),
            Node(ObjectInstance{0, {Resource::single(9, 100), Resource::single(10, 15)}}));
  // vd as (_ h'0102', h'03')
  EXPECT_EQ(ok(Path(5, 0, 0), "\x81\xa2" "\x21\x66" "/5/0/0" "\x08\x5f\x42\x01\x02\x41\x03\xff"sv),
            Node(Resource::single(0, Opaque{1, 2, 3})));
  // Value first, base name last.
  EXPECT_EQ(ok(Path(3, 0), A({M({I(2), I(100), I(0), T("9"), I(-2), T("/3/0/")})})),
            Node(ObjectInstance{0, {Resource::single(9, 100)}}));
}
// clang-format on

// clang-format off
TEST_F(CodecSenmlCbor, IgnoredLabels) {
  // {-1: 10, -4: "m/s2", -2: "/3313/0/5702", 1: "m/s2", 7: 5, 2: -0.25}
  EXPECT_EQ(ok(Path(3313, 0, 5702),
               "\x81\xa6" "\x20\x0a" "\x23\x64" "m/s2" "\x21\x6c" "/3313/0/5702" "\x01\x64" "m/s2"
               "\x07\x05" "\x02\xf9\xb4\x00"sv),
            Node(Resource::single(5702, -0.25)));
}
// clang-format on

// clang-format off
TEST_F(CodecSenmlCbor, BaseTimeCarriesForwardAndTheNewestValueWins) {
  // [{-2: "/3313/0/", -3: 1000, 0: "5702", 2: 1.0}, {0: "5702", 6: 2, 2: 2.0},
  //  {-3: 900, 0: "5702", 6: 50, 2: 3.0}, {0: "5703", 2: 4.0}]
  EXPECT_EQ(ok(Path(3313, 0),
               "\x84"
               "\xa4" "\x21\x68" "/3313/0/" "\x22\x19\x03\xe8" "\x00\x64" "5702" "\x02\xf9\x3c\x00"
               "\xa3" "\x00\x64" "5702" "\x06\x02" "\x02\xf9\x40\x00"
               "\xa4" "\x22\x19\x03\x84" "\x00\x64" "5702" "\x06\x18\x32" "\x02\xf9\x42\x00"
               "\xa2" "\x00\x64" "5703" "\x02\xf9\x44\x00"sv),
            Node(ObjectInstance{0, {Resource::single(5702, 2.0), Resource::single(5703, 4.0)}}));
  fails(Path(3313, 0),
        A({M({I(-2), T("/3313/0/"), I(0), T("5702"), I(2), F(1.0)}),
           M({I(0), T("5702"), I(2), F(2.0)})}),
        ErrorKind::kMalformed);
}
// clang-format on

TEST_F(CodecSenmlCbor, RejectsMalformedDocuments) {
  const Path p(3, 0);
  auto rec = [](std::initializer_list<std::string> kv) { return A({M(kv)}); };
  const std::string bn = I(-2), n = I(0), v = I(2), vs = I(3), vb = I(4), vd = I(8);
  // Not CBOR, not an array of maps; the CBOR errors name the offset.
  EXPECT_NE(fails(p, "", ErrorKind::kMalformed).message.find("at offset 0"), std::string::npos);
  EXPECT_NE(fails(p, "\x81\x62\x61", ErrorKind::kMalformed).message.find("at offset 1"),
            std::string::npos);
  fails(p, A({}) + "\x00"s, ErrorKind::kMalformed);
  fails(p, "\x5f\x61\x00\xff"sv, ErrorKind::kMalformed);
  fails(p, M({}), ErrorKind::kMalformed);
  fails(p, A({I(1)}), ErrorKind::kMalformed);
  fails(p, A({A({})}), ErrorKind::kMalformed);
  fails(p, A({kNull}), ErrorKind::kMalformed);
  std::string deep = "\x81";
  for (int k = 0; k < 20; ++k) deep += "\x81";
  fails(p, deep + "\x00"s, ErrorKind::kMalformed);
  // Wrong CBOR types.
  fails(p, rec({bn, I(3), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, I(9), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, T("1")}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, kNull}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, "\xf7"}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), vs, kFalse}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), vs, B({0x41})}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), vb, I(1)}), ErrorKind::kMalformed);
  fails(Path(5, 0, 0), rec({bn, T("/5/0/0"), vd, T("AQ")}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), T("vlo"), A({I(3), I(0)})}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), I(-3), T("x"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(6), kTrue, v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(1), I(1), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(7), T("5"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({I(-1), I(-10), bn, T("/3/0/"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({I(-1), F(10.0), bn, T("/3/0/"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  // Unknown, unsupported, repeated labels; missing or double values.
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(9), I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(-7), I(1), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(100), I(1), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), "\x3b\xff\xff\xff\xff\xff\xff\xff\xff", I(1), v, I(1)}),
        ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), T("x"), I(1), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({T("bn"), T("/3/0/"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), T("v"), I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), F(2.0), I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), A({}), I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(-5), I(1), v, I(1)}), ErrorKind::kUnsupported);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(-6), I(1), v, I(1)}), ErrorKind::kUnsupported);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), I(5), I(1)}), ErrorKind::kUnsupported);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, I(1), T("foo_"), I(1)}), ErrorKind::kUnsupported);
  fails(p, rec({bn, T("/3/0/"), n, T("9")}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, I(1), vs, T("1")}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), T("vlo"), T("1:1"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), bn, T("/3/0/"), n, T("9"), v, I(1)}), ErrorKind::kMalformed);
  // Names.
  fails(p, rec({v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("nine"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("09"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T("65535"), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/0/"), n, T(""), v, I(1)}), ErrorKind::kMalformed);
  fails(p, rec({bn, T("/3/1/"), n, T("9"), v, I(1)}), ErrorKind::kInvalidArgument);
  fails(p, A({M({bn, T("/3/0/"), n, T("9"), v, I(1)}), M({bn, T("/1/0/"), n, T("1"), v, I(1)})}),
        ErrorKind::kInvalidArgument);
  fails(Path(3, 0, 7, 1), rec({bn, T("/3/0/7/0"), v, I(1)}), ErrorKind::kInvalidArgument);
  // Types against the model.
  fails(p, rec({bn, T("/3/0/"), n, T("9"), vs, T("100")}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), v, I(1)}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), vd, B({1})}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), T("vlo"), T("1:1")}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("0"), vb, kTrue}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, F(-1.5)}), ErrorKind::kTypeMismatch);
  fails(p, rec({bn, T("/3/0/"), n, T("7"), v, I(3800)}), ErrorKind::kTypeMismatch);
  // Numbers out of range, not finite, or tagged otherwise than 4.
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, U(uint64_t{1} << 63)}), ErrorKind::kInvalidArgument);
  fails(p, rec({bn, T("/3/0/"), n, T("9"), v, "\x3b\x80\x00\x00\x00\x00\x00\x00\x00"s}),
        ErrorKind::kInvalidArgument);
  fails(p, rec({bn, T("/3/0/"), n, T("13"), v, "\x3b\xff\xff\xff\xff\xff\xff\xff\xff"}),
        ErrorKind::kInvalidArgument);
  const Path unsigned_path(kAllTypesObject, 0, 3);
  fails(unsigned_path, rec({bn, T("/10240/0/3"), v, I(-1)}), ErrorKind::kInvalidArgument);
  fails(unsigned_path, rec({bn, T("/10240/0/3"), v, "\x3b\xff\xff\xff\xff\xff\xff\xff\xff"}),
        ErrorKind::kInvalidArgument);
  const Path float_path(3313, 0, 5702);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, F(std::nan(""))}), ErrorKind::kInvalidArgument);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, F(-INFINITY)}), ErrorKind::kInvalidArgument);
  fails(Path(4242, 0, 1), rec({bn, T("/4242/0/1"), v, F(INFINITY)}), ErrorKind::kInvalidArgument);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, "\xc1\x01"}), ErrorKind::kUnsupported);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, "\xc4\x81\x01"}), ErrorKind::kMalformed);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, "\xc4\x82\x01\xf9\x3c\x00"s}),
        ErrorKind::kMalformed);
  fails(float_path, rec({bn, T("/3313/0/5702"), v, "\xc4\x82\x19\x01\x90\x01"}),
        ErrorKind::kInvalidArgument);  // 1e400
  fails(float_path, rec({bn, T("/3313/0/5702"), I(-3), F(INFINITY), v, I(1)}),
        ErrorKind::kInvalidArgument);
  // Bad object links.
  fails(Path(65, 0, 0, 0), rec({bn, T("/65/0/0/0"), T("vlo"), T("66:")}), ErrorKind::kMalformed);
  fails(Path(65, 0, 0, 0), rec({bn, T("/65/0/0/0"), T("vlo"), T("66:0:1")}), ErrorKind::kMalformed);
  // Empty single resource, root path.
  fails(Path(3, 0, 9), A({}), ErrorKind::kMalformed);
  fails(Path(), A({}), ErrorKind::kUnsupported);
}

TEST_F(CodecSenmlCbor, RejectsWhatItCannotEncode) {
  const Path p(kAllTypesObject, 0, 4);
  encode_fails(p, Resource::single(4, std::nan("")));
  encode_fails(p, Resource::single(4, INFINITY));
  encode_fails(p, Resource::single(4, Value{}));
  encode_fails(Path(kAllTypesObject, 0, 1), Resource::single(1, "\xc3\x28"));
  encode_fails(Path(kAllTypesObject, 0), Resource::single(1, "x"));
  encode_fails(Path(kAllTypesObject, 0, 1), Resource::single(2, "x"));
}

TEST_F(CodecSenmlCbor, ThroughTheCodecDispatch) {
  EXPECT_TRUE(can_encode(ContentFormat::kSenmlCbor, Path(3)));
  EXPECT_TRUE(can_encode(ContentFormat::kSenmlCbor, Path(3, 0, 7, 1)));
  EXPECT_FALSE(can_encode(ContentFormat::kSenmlCbor, Path()));
  auto e = lwm2m::encode(ContentFormat::kSenmlCbor, Path(3, 0), device_instance());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(std::string(e->begin(), e->end()), kSpecDeviceSenmlCbor);
  auto d = lwm2m::decode(ContentFormat::kSenmlCbor, Path(3, 0), *e, models);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, Node(device_instance()));
  EXPECT_EQ(parse_content_format("SENML_CBOR"), ContentFormat::kSenmlCbor);
  EXPECT_EQ(parse_content_format("112"), ContentFormat::kSenmlCbor);
  EXPECT_STREQ(to_name(ContentFormat::kSenmlCbor), "SENML_CBOR");
}

}  // namespace
}  // namespace fogm2m::lwm2m
