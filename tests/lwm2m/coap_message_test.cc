#include "lwm2m/coap_message.h"

#include <gtest/gtest.h>

namespace fogm2m::lwm2m {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(CoapMessage, EncodesRegisterRequestExactly) {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = coap_code(CoapCode::kPost);
  m.message_id = 0x1234;
  m.token = bytes({0xa1, 0xb2});
  m.set_uri_path("/rd");
  m.add_uri_query("ep=d");
  m.add_uint_option(coap_option::kContentFormat, 40);
  m.payload = "</3/0>";
  auto wire = encode_coap(m);
  ASSERT_TRUE(wire.ok());
  // 0x42: ver 1, CON, tkl 2; 0x02 POST; mid; token; Uri-Path(11) "rd": delta 11 len 2;
  // Content-Format(12): delta 1 len 1 = 40; Uri-Query(15): delta 3 len 4.
  const std::string expected = bytes({0x42, 0x02, 0x12, 0x34, 0xa1, 0xb2, 0xb2, 'r', 'd', 0x11, 40,
                                      0x34, 'e', 'p', '=', 'd', 0xff}) +
                               "</3/0>";
  EXPECT_EQ(*wire, expected);
  EXPECT_EQ(coap_encoded_size(m), expected.size());
  auto back = decode_coap(*wire);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(back->uri_path(), "/rd");
  EXPECT_EQ(back->query_value("ep"), "d");
  EXPECT_EQ(back->query_value("lt"), std::nullopt);
  EXPECT_EQ(back->content_format(), 40u);
}

TEST(CoapMessage, ExtendedDeltasAndLengths) {
  CoapMessage m;
  m.code = coap_code(CoapCode::kContent);
  m.type = CoapType::kAck;
  m.add_option(coap_option::kSize1, std::string(20, 'x'));  // delta 60 -> 13+47, length 20 -> 13+7
  m.add_option(2048, std::string(300, 'y'));                // delta 1988 -> 14, length 300 -> 14
  m.payload = "p";
  auto wire = encode_coap(m);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(coap_encoded_size(m), wire->size());
  auto back = decode_coap(*wire);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
}

TEST(CoapMessage, EmptyAckAndRst) {
  auto ack = decode_coap(bytes({0x60, 0x00, 0x00, 0x07}));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(ack->type, CoapType::kAck);
  EXPECT_TRUE(ack->is_empty());
  EXPECT_EQ(ack->message_id, 7);
}

TEST(CoapMessage, OptionsHelpers) {
  CoapMessage m;
  m.set_uri_path("/3313/0/5702");
  EXPECT_EQ(m.uri_path_segments().size(), 3u);
  EXPECT_EQ(m.uri_path(), "/3313/0/5702");
  m.set_location_path("/rd/Ab12");
  EXPECT_EQ(m.location_path(), "/rd/Ab12");
  m.add_uint_option(coap_option::kObserve, 0);
  EXPECT_EQ(m.observe(), 0u);
  EXPECT_EQ(m.find_option(coap_option::kObserve)->value.size(), 0u);  // 0 encodes as no bytes
  m.add_uint_option(coap_option::kAccept, 11542);
  EXPECT_EQ(m.uint_option(coap_option::kAccept), 11542u);
  m.add_uri_query("lt");
  EXPECT_EQ(m.query_value("lt"), "");
  m.remove_option(coap_option::kUriPath);
  EXPECT_EQ(m.uri_path(), "/");
  EXPECT_NE(to_debug_string(m).find("loc=/rd/Ab12"), std::string::npos);
}

TEST(CoapMessage, RejectsMalformedDatagrams) {
  struct Case {
    std::string data;
    const char* reason;
  };
  for (const Case& c : {
           Case{bytes({0x40, 0x01}), "shorter than"},
           Case{bytes({0x80, 0x01, 0, 0}), "version 2"},
           Case{bytes({0x49, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), "token length 9"},
           Case{bytes({0x44, 0x01, 0, 0, 1, 2}), "truncated token"},
           Case{bytes({0x40, 0x01, 0, 0, 0xb5, 'a'}), "runs past the end"},
           Case{bytes({0x40, 0x01, 0, 0, 0xd0}), "truncated option delta"},
           Case{bytes({0x40, 0x01, 0, 0, 0x0e, 0x01}), "truncated option length"},
           Case{bytes({0x40, 0x01, 0, 0, 0xf0}), "delta nibble 15"},
           Case{bytes({0x40, 0x01, 0, 0, 0x0f}), "length nibble 15"},
           Case{bytes({0x40, 0x01, 0, 0, 0xff}), "payload marker without payload"},
           Case{bytes({0x60, 0x00, 0, 0, 0xff, 'x'}), "empty message"},
           Case{bytes({0x40, 0x01, 0, 0, 0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff}), "over 65535"},
       }) {
    auto r = decode_coap(c.data);
    ASSERT_FALSE(r.ok()) << c.reason;
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << r.error().message;
  }
}

TEST(CoapMessage, RejectsLongTokenOnEncode) {
  CoapMessage m;
  m.token = std::string(9, 't');
  EXPECT_FALSE(encode_coap(m).ok());
}

}  // namespace
}  // namespace fogm2m::lwm2m
