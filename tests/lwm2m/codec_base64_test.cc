#include <gtest/gtest.h>

#include <string>

#include "lwm2m/codec/base64.h"

namespace fogm2m::lwm2m::base64 {
namespace {

Opaque bytes(std::string_view s) {
  return Opaque(s.begin(), s.end());
}

// RFC 4648 section 10 test vectors.
TEST(CodecBase64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(encode(bytes(plain), Alphabet::kStandard, true), encoded);
    auto d = decode(encoded, Alphabet::kStandard, Padding::kRequired);
    ASSERT_TRUE(d.ok()) << encoded << ": " << d.error().message;
    EXPECT_EQ(*d, bytes(plain));
  }
}

TEST(CodecBase64, UrlAlphabetWithoutPadding) {
  const Opaque data = {0xfb, 0xff, 0xbf, 0x01};
  EXPECT_EQ(encode(data, Alphabet::kStandard, true), "+/+/AQ==");
  EXPECT_EQ(encode(data, Alphabet::kUrl, false), "-_-_AQ");
  auto d = decode("-_-_AQ", Alphabet::kUrl, Padding::kForbidden);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, data);
  // Optional padding takes both forms.
  EXPECT_TRUE(decode("-_-_AQ==", Alphabet::kUrl, Padding::kOptional).ok());
  EXPECT_TRUE(decode("-_-_AQ", Alphabet::kUrl, Padding::kOptional).ok());
}

TEST(CodecBase64, LeshanOpaqueExample) {
  EXPECT_EQ(encode(Opaque{1, 2, 3, 4, 5}, Alphabet::kStandard, true), "AQIDBAU=");
}

TEST(CodecBase64, RejectsMalformedText) {
  const char* bad[] = {
      "Zg=",        // padding does not complete the group
      "Zg===",      // too much padding
      "Z",          // a single character in the last group
      "Zm9v Yg==",  // whitespace
      "Zm=9v",      // '=' inside
      "Zh==",       // non-zero unused bits
      "Zm9=",       // non-zero unused bits
      "!,-INVALID$_'",
      "-_-_",  // URL alphabet given to the standard decoder
  };
  for (const char* text : bad) {
    auto d = decode(text, Alphabet::kStandard, Padding::kOptional);
    EXPECT_FALSE(d.ok()) << text;
    if (!d.ok()) {
      EXPECT_EQ(d.error().kind, ErrorKind::kMalformed);
      EXPECT_EQ(d.error().message.rfind("base64: ", 0), 0u) << d.error().message;
    }
  }
  EXPECT_FALSE(decode("Zg", Alphabet::kStandard, Padding::kRequired).ok());
  EXPECT_FALSE(decode("Zg==", Alphabet::kStandard, Padding::kForbidden).ok());
  EXPECT_FALSE(decode("+/", Alphabet::kUrl, Padding::kOptional).ok());
}

TEST(CodecBase64, RoundTripsEveryLength) {
  Opaque data;
  for (int n = 0; n < 70; ++n) {
    for (auto alphabet : {Alphabet::kStandard, Alphabet::kUrl}) {
      for (bool pad : {true, false}) {
        const std::string text = encode(data, alphabet, pad);
        auto d = decode(text, alphabet, pad ? Padding::kRequired : Padding::kForbidden);
        ASSERT_TRUE(d.ok()) << text;
        EXPECT_EQ(*d, data);
      }
    }
    data.push_back(static_cast<uint8_t>(n * 37 + 11));
  }
}

}  // namespace
}  // namespace fogm2m::lwm2m::base64
