// The CBOR reader and writer (lwm2m/codec/cbor.h) against the examples of
// RFC 8949 Appendix A, plus every error the reader reports.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "lwm2m/codec/cbor.h"

namespace fogm2m::lwm2m::cbor {
namespace {

// "83 01 02 03" -> {0x83, 1, 2, 3}; spaces are ignored.
std::vector<uint8_t> hex(std::string_view text) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : text) {
    if (c == ' ') continue;
    const int v = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  EXPECT_LT(high, 0) << "odd number of hex digits: " << text;
  return out;
}

Item ok(std::string_view hex_text) {
  auto item = parse(hex(hex_text));
  EXPECT_TRUE(item.ok()) << hex_text << ": " << (item.ok() ? "" : item.error().message);
  return item.ok() ? *item : Item{};
}

// The message of the error parsing `hex_text` gives; checks it is
// kMalformed and ends "at offset <offset>".
std::string fails(std::string_view hex_text, size_t offset, const Limits& limits = {}) {
  auto item = parse(hex(hex_text), limits);
  EXPECT_FALSE(item.ok()) << hex_text;
  if (item.ok()) return "";
  EXPECT_EQ(item.error().kind, ErrorKind::kMalformed) << hex_text;
  const std::string suffix = " at offset " + std::to_string(offset);
  const std::string& m = item.error().message;
  EXPECT_TRUE(m.size() >= suffix.size() &&
              m.compare(m.size() - suffix.size(), suffix.size(), suffix) == 0)
      << hex_text << ": " << m;
  return m;
}

template <class F>
std::vector<uint8_t> written(F f) {
  std::vector<uint8_t> out;
  f(out);
  return out;
}

TEST(Cbor, Rfc8949Integers) {
  struct Case {
    const char* hex;
    Type type;
    uint64_t number;
  };
  const Case cases[] = {
      {"00", Type::kUnsigned, 0},
      {"01", Type::kUnsigned, 1},
      {"0a", Type::kUnsigned, 10},
      {"17", Type::kUnsigned, 23},
      {"1818", Type::kUnsigned, 24},
      {"1819", Type::kUnsigned, 25},
      {"1864", Type::kUnsigned, 100},
      {"1903e8", Type::kUnsigned, 1000},
      {"1a000f4240", Type::kUnsigned, 1000000},
      {"1b000000e8d4a51000", Type::kUnsigned, 1000000000000},
      {"1bffffffffffffffff", Type::kUnsigned, 18446744073709551615u},
      {"3bffffffffffffffff", Type::kNegative, 18446744073709551615u},  // -18446744073709551616
      {"20", Type::kNegative, 0},                                      // -1
      {"29", Type::kNegative, 9},                                      // -10
      {"3863", Type::kNegative, 99},                                   // -100
      {"3903e7", Type::kNegative, 999},                                // -1000
  };
  for (const Case& c : cases) {
    const Item item = ok(c.hex);
    EXPECT_EQ(item.type, c.type) << c.hex;
    EXPECT_EQ(item.number, c.number) << c.hex;
  }
  // Not the preferred serialization, but well-formed.
  EXPECT_EQ(ok("1817").number, 23u);
  EXPECT_EQ(ok("1b0000000000000001").number, 1u);

  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 0); }), hex("00"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 23); }), hex("17"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 24); }), hex("1818"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 255); }), hex("18ff"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 256); }), hex("190100"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 1000); }), hex("1903e8"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 65536); }), hex("1a00010000"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 1000000); }), hex("1a000f4240"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 1000000000000); }), hex("1b000000e8d4a51000"));
  EXPECT_EQ(written([](auto& o) { append_unsigned(o, 18446744073709551615u); }),
            hex("1bffffffffffffffff"));
  EXPECT_EQ(written([](auto& o) { append_int(o, 100); }), hex("1864"));
  EXPECT_EQ(written([](auto& o) { append_int(o, -1); }), hex("20"));
  EXPECT_EQ(written([](auto& o) { append_int(o, -10); }), hex("29"));
  EXPECT_EQ(written([](auto& o) { append_int(o, -100); }), hex("3863"));
  EXPECT_EQ(written([](auto& o) { append_int(o, -1000); }), hex("3903e7"));
  EXPECT_EQ(written([](auto& o) { append_int(o, std::numeric_limits<int64_t>::min()); }),
            hex("3b7fffffffffffffff"));
}

TEST(Cbor, Rfc8949Floats) {
  struct Case {
    const char* hex;  // preferred serialization: the writer gives it back
    double value;
  };
  const Case cases[] = {
      {"f90000", 0.0},
      {"f98000", -0.0},
      {"f93c00", 1.0},
      {"fb3ff199999999999a", 1.1},
      {"f93e00", 1.5},
      {"f97bff", 65504.0},
      {"fa47c35000", 100000.0},
      {"fa7f7fffff", 3.4028234663852886e+38},
      {"fb7e37e43c8800759c", 1.0e+300},
      {"f90001", 5.960464477539063e-8},
      {"f90400", 0.00006103515625},
      {"f9c400", -4.0},
      {"fbc010666666666666", -4.1},
      {"f97c00", std::numeric_limits<double>::infinity()},
      {"f9fc00", -std::numeric_limits<double>::infinity()},
      // Beyond Appendix A: the edges of each width.
      {"f903ff", 0x3ffp-24},                           // the largest half subnormal
      {"fa33000000", 0x1p-25},                         // below the half range: single
      {"fa47800000", 65536.0},                         // above the half range: single
      {"fa00000001", 0x1p-149},                        // the smallest single subnormal
      {"fb3670000000000000", 0x1p-152},                // below the single range: double
      {"fa3f800001", 1.0 + 0x1p-23},                   // 24 significant bits: single
      {"fb3ff0000000000001", 1.0 + 0x1p-52},           // 53 significant bits: double
      {"fb47effffff0000000", 3.4028235677973366e+38},  // above FLT_MAX: double
  };
  for (const Case& c : cases) {
    const Item item = ok(c.hex);
    EXPECT_EQ(item.type, Type::kFloat) << c.hex;
    EXPECT_EQ(item.real, c.value) << c.hex;
    EXPECT_EQ(std::signbit(item.real), std::signbit(c.value)) << c.hex;
    EXPECT_EQ(written([&](auto& o) { append_float(o, c.value); }), hex(c.hex)) << c.hex;
  }
  // Every NaN decodes as NaN and encodes as the half 7e00.
  for (const char* nan : {"f97e00", "fa7fc00000", "fb7ff8000000000000", "f97c01"})
    EXPECT_TRUE(std::isnan(ok(nan).real)) << nan;
  EXPECT_EQ(written([](auto& o) { append_float(o, std::nan("")); }), hex("f97e00"));
  // Wider forms of values a half holds decode alike.
  EXPECT_EQ(ok("fa3fc00000").real, 1.5);
  EXPECT_EQ(ok("fb3ff8000000000000").real, 1.5);
}

TEST(Cbor, Rfc8949SimpleValuesAndTags) {
  EXPECT_EQ(ok("f4").type, Type::kFalse);
  EXPECT_EQ(ok("f5").type, Type::kTrue);
  EXPECT_EQ(ok("f6").type, Type::kNull);
  EXPECT_EQ(ok("f7").type, Type::kUndefined);
  const Item simple16 = ok("f0");
  EXPECT_EQ(simple16.type, Type::kSimple);
  EXPECT_EQ(simple16.number, 16u);
  const Item simple255 = ok("f8ff");
  EXPECT_EQ(simple255.type, Type::kSimple);
  EXPECT_EQ(simple255.number, 255u);
  EXPECT_EQ(written([](auto& o) { append_bool(o, false); }), hex("f4"));
  EXPECT_EQ(written([](auto& o) { append_bool(o, true); }), hex("f5"));
  EXPECT_EQ(written([](auto& o) { append_null(o); }), hex("f6"));

  // 0("2013-03-21T20:04:00Z"), 1(1363896240), 23(h'01020304')
  const Item date = ok("c074323031332d30332d32315432303a30343a30305a");
  EXPECT_EQ(date.type, Type::kTag);
  EXPECT_EQ(date.number, 0u);
  EXPECT_EQ(date.items.at(0).text, "2013-03-21T20:04:00Z");
  const Item epoch = ok("c11a514b67b0");
  EXPECT_EQ(epoch.number, 1u);
  EXPECT_EQ(epoch.items.at(0).number, 1363896240u);
  EXPECT_EQ(ok("d74401020304").items.at(0).bytes, (std::vector<uint8_t>{1, 2, 3, 4}));
}

TEST(Cbor, Rfc8949Strings) {
  EXPECT_EQ(ok("40").type, Type::kBytes);
  EXPECT_TRUE(ok("40").bytes.empty());
  EXPECT_EQ(ok("4401020304").bytes, (std::vector<uint8_t>{1, 2, 3, 4}));
  EXPECT_EQ(ok("60").type, Type::kText);
  EXPECT_EQ(ok("60").text, "");
  EXPECT_EQ(ok("6161").text, "a");
  EXPECT_EQ(ok("6449455446").text, "IETF");
  EXPECT_EQ(ok("62225c").text, "\"\\");
  EXPECT_EQ(ok("62c3bc").text, "\xc3\xbc");
  EXPECT_EQ(ok("63e6b0b4").text, "\xe6\xb0\xb4");
  EXPECT_EQ(ok("64f0908591").text, "\xf0\x90\x85\x91");
  // Indefinite lengths: (_ h'0102', h'030405'), (_ "strea", "ming"), and empty ones.
  EXPECT_EQ(ok("5f42010243030405ff").bytes, (std::vector<uint8_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(ok("7f657374726561646d696e67ff").text, "streaming");
  EXPECT_EQ(ok("5fff").type, Type::kBytes);
  EXPECT_EQ(ok("7f60ff").text, "");

  EXPECT_EQ(written([](auto& o) { append_bytes(o, std::vector<uint8_t>{}); }), hex("40"));
  EXPECT_EQ(written([](auto& o) {
              append_bytes(o, std::vector<uint8_t>{1, 2, 3, 4});
            }),
            hex("4401020304"));
  EXPECT_EQ(written([](auto& o) { append_text(o, ""); }), hex("60"));
  EXPECT_EQ(written([](auto& o) { append_text(o, "IETF"); }), hex("6449455446"));
  EXPECT_EQ(written([](auto& o) { append_text(o, "\xe6\xb0\xb4"); }), hex("63e6b0b4"));
  EXPECT_EQ(written([](auto& o) { append_text(o, std::string(24, 'x')); })[0], 0x78);
  EXPECT_EQ(written([](auto& o) { append_bytes(o, std::vector<uint8_t>(256)); }).size(), 259u);
}

TEST(Cbor, Rfc8949ArraysAndMaps) {
  EXPECT_TRUE(ok("80").items.empty());
  const Item flat = ok("83010203");
  ASSERT_EQ(flat.items.size(), 3u);
  EXPECT_EQ(flat.items[2].number, 3u);
  EXPECT_EQ(flat.items[2].offset, 3u);
  // [1, [2, 3], [4, 5]] in all four mixes of definite and indefinite lengths.
  for (const char* nested : {"8301820203820405", "9f018202039f0405ffff", "9f01820203820405ff",
                             "83018202039f0405ff", "83019f0203ff820405"}) {
    const Item item = ok(nested);
    ASSERT_EQ(item.type, Type::kArray) << nested;
    ASSERT_EQ(item.items.size(), 3u) << nested;
    EXPECT_EQ(item.items[1].items.size(), 2u) << nested;
    EXPECT_EQ(item.items[2].items.at(1).number, 5u) << nested;
  }
  // 25 items: the count takes a second byte.
  const Item long_array = ok("98190102030405060708090a0b0c0d0e0f101112131415161718181819");
  ASSERT_EQ(long_array.items.size(), 25u);
  EXPECT_EQ(long_array.items[24].number, 25u);
  EXPECT_TRUE(ok("9fff").items.empty());

  EXPECT_TRUE(ok("a0").items.empty());
  const Item map = ok("a201020304");  // {1: 2, 3: 4}
  ASSERT_EQ(map.type, Type::kMap);
  ASSERT_EQ(map.items.size(), 4u);
  EXPECT_EQ(map.items[2].number, 3u);
  // {"a": 1, "b": [2, 3]} and {_ "a": 1, "b": [_ 2, 3]}
  for (const char* m : {"a26161016162820203", "bf61610161629f0203ffff"}) {
    const Item item = ok(m);
    ASSERT_EQ(item.items.size(), 4u) << m;
    EXPECT_EQ(item.items[2].text, "b") << m;
    EXPECT_EQ(item.items[3].items.size(), 2u) << m;
  }
  // ["a", {"b": "c"}] and ["a", {_ "b": "c"}]
  EXPECT_EQ(ok("826161a161626163").items.at(1).items.at(1).text, "c");
  EXPECT_EQ(ok("826161bf61626163ff").items.at(1).items.at(1).text, "c");
  EXPECT_TRUE(ok("bfff").items.empty());

  EXPECT_EQ(written([](auto& o) { append_array_head(o, 0); }), hex("80"));
  EXPECT_EQ(written([](auto& o) { append_array_head(o, 25); }), hex("9819"));
  EXPECT_EQ(written([](auto& o) { append_map_head(o, 2); }), hex("a2"));
  EXPECT_EQ(written([](auto& o) { append_map_head(o, 1000); }), hex("b903e8"));
}

TEST(Cbor, WrittenItemsParseBack) {
  std::vector<uint8_t> out;
  append_map_head(out, 3);
  append_int(out, -2);
  append_text(out, "/3/0/");
  append_unsigned(out, 8);
  append_bytes(out, std::vector<uint8_t>{0xff});
  append_text(out, "vlo");
  append_array_head(out, 3);
  append_float(out, 0.1);
  append_bool(out, true);
  append_null(out);
  auto parsed = parse(out);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->items.size(), 6u);
  EXPECT_EQ(parsed->items[0].type, Type::kNegative);
  EXPECT_EQ(parsed->items[0].number, 1u);
  EXPECT_EQ(parsed->items[1].text, "/3/0/");
  EXPECT_EQ(parsed->items[3].bytes, std::vector<uint8_t>{0xff});
  EXPECT_EQ(parsed->items[5].items.at(0).real, 0.1);
  EXPECT_EQ(parsed->items[5].items.at(1).type, Type::kTrue);
  EXPECT_EQ(parsed->items[5].items.at(2).type, Type::kNull);
}

TEST(Cbor, RejectsWhatIsNotWellFormed) {
  fails("", 0);
  // Truncated heads and contents.
  fails("18", 0);
  fails("19 01", 0);
  fails("1a 010203", 0);
  fails("1b 01020304050607", 0);
  fails("f9 00", 0);
  fails("fb 000000", 0);
  fails("62 61", 0);
  fails("44 0102", 0);
  fails("83 0102", 0);
  fails("82 01 82 02", 2);
  fails("a1 01", 0);
  fails("bf 01", 2);
  fails("c1", 1);
  // Huge declared lengths fail before any allocation.
  fails("5b ffffffffffffffff", 0);
  fails("7b 7fffffffffffffff", 0);
  fails("9b ffffffffffffffff", 0);
  fails("bb 7fffffffffffffff 00", 0);
  fails("9a 00010000 9a 00010000 00", 0);
  // Trailing bytes.
  fails("01 02", 1);
  fails("80 80 80", 1);
  // Reserved additional information, indefinite lengths where none may be.
  for (const char* reserved :
       {"1c", "1d", "1e", "3c", "5c", "7d", "9e", "bc", "dc", "fc", "fd", "fe"})
    fails(reserved, 0);
  fails("1f", 0);
  fails("3f", 0);
  fails("df 00", 0);
  // Breaks: alone, in a definite item, after a map key, missing.
  fails("ff", 0);
  fails("81 ff", 1);
  fails("bf 01 ff", 2);
  fails("9f 01", 0);
  fails("bf", 0);
  fails("5f 41 00", 0);
  fails("7f", 0);
  // Chunks of indefinite strings: the wrong major type, nested indefinite.
  fails("5f 61 00 ff", 1);
  fails("7f 41 61 ff", 1);
  fails("5f 5f ff ff", 1);
  fails("5f 01 ff", 1);
  // Two-byte simple values below 32.
  fails("f8 00", 0);
  fails("f8 1f", 0);
  // Text that is not UTF-8: a bad byte, an overlong form, a surrogate, a
  // character split between chunks.
  fails("62 c3 28", 0);
  fails("62 c0 af", 0);
  fails("63 ed a0 80", 0);
  fails("82 00 7f 61 c3 61 bc ff", 3);
  // Nesting: 16 levels are fine, 17 are not (tags count too).
  std::string deep;
  for (int k = 0; k < 16; ++k) deep += "81";
  EXPECT_EQ(ok(deep + "00").type, Type::kArray);
  EXPECT_NE(fails(deep + "81 00", 16).find("nesting deeper than 16"), std::string::npos);
  std::string tags;
  for (int k = 0; k < 17; ++k) tags += "c6";
  fails(tags + "00", 16);
  fails("81 81 81 00", 2, Limits{.max_depth = 2, .max_items = 100});
  // Items in all.
  EXPECT_NE(fails("83 01 02 03", 3, Limits{.max_depth = 16, .max_items = 3}).find("more than 3"),
            std::string::npos);
  EXPECT_TRUE(parse(hex("82 01 02"), Limits{.max_depth = 16, .max_items = 3}).ok());
}

TEST(Cbor, TypeNames) {
  EXPECT_STREQ(to_string(Type::kUnsigned), "unsigned integer");
  EXPECT_STREQ(to_string(Type::kText), "text string");
  EXPECT_STREQ(to_string(Type::kFloat), "float");
}

}  // namespace
}  // namespace fogm2m::lwm2m::cbor
