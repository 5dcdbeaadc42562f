// The device's bootstrap client, fed requests as a bootstrap server sends
// them (no sockets; the UDP runs are in tests/cluster/bootstrap_test.cc).
#include "emulated_clients/bootstrap_client.h"

#include <gtest/gtest.h>

#include "lwm2m/coap_code.h"
#include "lwm2m/codec/codec.h"

namespace fogm2m::emulated {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ObjectInstance;
using lwm2m::Opaque;
using lwm2m::Path;
using lwm2m::Resource;

CoapMessage request(CoapCode code, std::string_view path, uint16_t mid = 1) {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = coap_code(code);
  m.message_id = mid;
  m.token = "s";
  m.set_uri_path(path);
  return m;
}

CoapMessage put(const Path& path, const lwm2m::Node& node,
                lwm2m::ContentFormat f = lwm2m::ContentFormat::kTlv) {
  CoapMessage m = request(CoapCode::kPut, path.to_string());
  m.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(f));
  lwm2m::Node n = node;  // the instance takes the path's id
  if (auto* oi = std::get_if<ObjectInstance>(&n)) oi->id = path.instance_id();
  auto body = lwm2m::encode(f, path, n);
  EXPECT_TRUE(body.ok());
  if (body) m.payload.assign(body->begin(), body->end());
  return m;
}

ObjectInstance security(std::string uri, int64_t mode, std::string id, std::string key,
                        int64_t ssid, bool bootstrap = false) {
  return ObjectInstance{
      1,
      {Resource::single(0, std::move(uri)), Resource::single(1, bootstrap),
       Resource::single(2, mode), Resource::single(3, Opaque(id.begin(), id.end())),
       Resource::single(5, Opaque(key.begin(), key.end())), Resource::single(10, ssid)}};
}

ObjectInstance server(int64_t ssid, int64_t lifetime) {
  return ObjectInstance{0,
                        {Resource::single(0, ssid), Resource::single(1, lifetime),
                         Resource::single(6, false), Resource::single(7, "U")}};
}

uint8_t code(BootstrapClient& c, const CoapMessage& m) {
  return c.handle_request(m).code;
}

TEST(BootstrapClient, RequestWritesFinish) {
  BootstrapClient c("dev-1");
  CoapMessage req = c.start();
  EXPECT_EQ(c.state(), BootstrapClient::State::kRequesting);
  EXPECT_EQ(req.type, CoapType::kCon);
  EXPECT_EQ(req.code, coap_code(CoapCode::kPost));
  EXPECT_EQ(req.uri_path(), "/bs");
  EXPECT_EQ(req.query_value("ep"), "dev-1");

  CoapMessage other;
  other.code = coap_code(CoapCode::kChanged);
  other.token = "nope";
  EXPECT_FALSE(c.handle_response(other));
  CoapMessage ok;
  ok.type = CoapType::kAck;
  ok.code = coap_code(CoapCode::kChanged);
  ok.token = req.token;
  EXPECT_TRUE(c.handle_response(ok));
  EXPECT_EQ(c.state(), BootstrapClient::State::kWaiting);

  EXPECT_EQ(code(c, request(CoapCode::kDelete, "/0")), coap_code(CoapCode::kDeleted));
  EXPECT_EQ(code(c, request(CoapCode::kDelete, "/1")), coap_code(CoapCode::kDeleted));
  EXPECT_EQ(code(c, put(Path(0, 1), security("coaps://10.0.0.1:5684", 0, "dev-1", "k3y", 2))),
            coap_code(CoapCode::kChanged));
  // The Server instance in another format, and one resource written on its own.
  EXPECT_EQ(code(c, put(Path(1, 0), server(2, 600), lwm2m::ContentFormat::kSenmlCbor)),
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(code(c, put(Path(1, 0, 1), Resource::single(1, int64_t{700}),
                        lwm2m::ContentFormat::kLwm2mCbor)),
            coap_code(CoapCode::kChanged));
  const CoapMessage finish = c.handle_request(request(CoapCode::kPost, "/bs", 9));
  EXPECT_EQ(finish.code, coap_code(CoapCode::kChanged));
  EXPECT_EQ(finish.type, CoapType::kAck);
  EXPECT_EQ(finish.message_id, 9);
  ASSERT_EQ(c.state(), BootstrapClient::State::kFinished);
  ASSERT_TRUE(c.result());
  EXPECT_EQ(c.result()->server_uri, "coaps://10.0.0.1:5684");
  EXPECT_TRUE(c.result()->psk);
  EXPECT_EQ(c.result()->psk_identity, "dev-1");
  EXPECT_EQ(c.result()->psk_key, "k3y");
  EXPECT_EQ(c.result()->short_server_id, 2);
  EXPECT_EQ(c.result()->lifetime_s, 700u);
}

TEST(BootstrapClient, FinishNeedsAUsableAccount) {
  BootstrapClient c("dev-1");
  c.start();
  auto finish = [&] { return c.handle_request(request(CoapCode::kPost, "/bs")); };
  EXPECT_EQ(finish().code, coap_code(CoapCode::kNotAcceptable));
  // Only a bootstrap-server account.
  c.handle_request(put(Path(0, 0), security("coap://bs", 3, "", "", 1, true)));
  EXPECT_EQ(finish().payload,
            "no usable LwM2M server account: no Security instance of an LwM2M server");
  c.handle_request(put(Path(0, 1), security("coap://127.0.0.1", 3, "", "", 5)));
  EXPECT_EQ(finish().payload,
            "no usable LwM2M server account: no Server instance with Short Server ID 5");
  c.handle_request(put(Path(0, 1), security("coap://127.0.0.1", 1, "", "", 5)));
  EXPECT_EQ(finish().payload,
            "no usable LwM2M server account: security mode 1 (only 0 PSK and 3 NoSec)");
  c.handle_request(put(Path(0, 1), security("coap://127.0.0.1", 0, "", "", 5)));
  c.handle_request(put(Path(1, 0), server(5, 60)));
  EXPECT_EQ(finish().payload, "no usable LwM2M server account: PSK without identity or key");
  c.handle_request(put(Path(0, 1), security("coap://127.0.0.1:5999", 3, "", "", 5)));
  EXPECT_EQ(finish().code, coap_code(CoapCode::kChanged));
  EXPECT_EQ(c.result()->server_uri, "coap://127.0.0.1:5999");
  EXPECT_FALSE(c.result()->psk);
  EXPECT_EQ(c.result()->lifetime_s, 60u);
}

TEST(BootstrapClient, RefusesWhatItDoesNotTake) {
  BootstrapClient c("dev-1");
  c.start();
  CoapMessage garbage = request(CoapCode::kPut, "/0/1");
  garbage.add_uint_option(lwm2m::coap_option::kContentFormat, 11542);
  garbage.payload = "\xff";
  const CoapMessage bad = c.handle_request(garbage);
  EXPECT_EQ(bad.code, coap_code(CoapCode::kBadRequest));
  EXPECT_FALSE(bad.payload.empty());
  CoapMessage unknown_format = garbage;
  unknown_format.remove_option(lwm2m::coap_option::kContentFormat);
  unknown_format.add_uint_option(lwm2m::coap_option::kContentFormat, 9999);
  EXPECT_EQ(code(c, unknown_format), coap_code(CoapCode::kUnsupportedContentFormat));
  EXPECT_EQ(code(c, put(Path(3, 0), ObjectInstance{0, {}})),
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code(c, request(CoapCode::kGet, "/0/1")), coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_TRUE(c.instances(0).empty());

  // A refused Bootstrap-Request fails with the server's reason.
  BootstrapClient d("stranger");
  CoapMessage req = d.start();
  CoapMessage no;
  no.type = CoapType::kAck;
  no.code = coap_code(CoapCode::kBadRequest);
  no.token = req.token;
  no.payload = "no bootstrap configuration for endpoint \"stranger\"";
  EXPECT_TRUE(d.handle_response(no));
  EXPECT_EQ(d.state(), BootstrapClient::State::kFailed);
  EXPECT_EQ(
      d.error(),
      "Bootstrap-Request answered 4.00: no bootstrap configuration for endpoint \"stranger\"");
}

}  // namespace
}  // namespace fogm2m::emulated
