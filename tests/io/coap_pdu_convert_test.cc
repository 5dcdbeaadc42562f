// io/coap_pdu_convert: lwm2m::CoapMessage <-> libcoap coap_pdu_t.
#include "io/coap_pdu_convert.h"

#include <gtest/gtest.h>

#include <string>

#include "io/coap_asio.h"
#include "lwm2m/coap_code.h"

namespace fogm2m::io {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
namespace opt = lwm2m::coap_option;

CoapMessage response(CoapCode code) {
  CoapMessage m;
  m.code = static_cast<uint8_t>(code);
  return m;
}

TEST(CoapPduConvert, MessageSurvivesTheTripThroughLibcoap) {
  CoapLibrary library;
  CoapMessage m;
  m.type = CoapType::kNon;
  m.code = coap_code(CoapCode::kPost);
  m.message_id = 0xBEEF;
  m.token = std::string("\x01\x00\xff", 3);
  m.set_uri_path("/rd/abc");
  m.add_uri_query("ep=dev-1");
  m.add_uri_query("lt=300");
  m.add_option(opt::kIfNoneMatch, "");
  m.add_uint_option(opt::kContentFormat, 11542);
  m.add_option(2048, std::string(300, 'x'));  // extended option number and length
  m.payload = std::string("\x00\x01payload", 9);

  coap_pdu_t* pdu = make_pdu(m, 0);
  ASSERT_NE(pdu, nullptr);
  CoapMessage back = coap_message_from_pdu(pdu);
  coap_delete_pdu(pdu);
  EXPECT_EQ(back, m) << to_debug_string(back) << " vs " << to_debug_string(m);
}

TEST(CoapPduConvert, TooLargeForThePduFails) {
  CoapLibrary library;
  CoapMessage m = response(CoapCode::kContent);
  m.payload = std::string(2000, 'p');
  EXPECT_EQ(make_pdu(m, 1152), nullptr);
  CoapMessage long_token;
  long_token.token = "123456789";
  EXPECT_EQ(make_pdu(long_token, 0), nullptr);
}

}  // namespace
}  // namespace fogm2m::io
