// The Send operation (POST /dp) on a fake transport and a fake clock: what
// is accepted, stored and announced, and every refusal with its code.
#include "server/services/send_service.h"

#include <gtest/gtest.h>

#include "bus/device_event.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/content_format.h"
#include "server/services/registration_service.h"
#include "store/memory_value_store.h"
#include "tests/server/services/service_fixture.h"

namespace fogm2m::server {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::ContentFormat;
using testing::peer;
using testing::ServiceFixture;

CoapMessage send_request(std::string payload,
                         std::optional<ContentFormat> format = ContentFormat::kSenmlJson) {
  CoapMessage m;
  m.type = lwm2m::CoapType::kCon;
  m.code = static_cast<uint8_t>(CoapCode::kPost);
  m.set_uri_path("/dp");
  if (format) m.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(*format));
  m.payload = std::move(payload);
  return m;
}

const std::string kAccel =
    R"([{"bn":"/3313/0/","n":"5702","v":1.5},{"n":"5703","v":-2.25},{"n":"5704","v":9.75}])";

class SendServiceTest : public ServiceFixture {
 protected:
  SendServiceTest() {
    bus.subscribe(
        {ctx.channels.events},
        [this](std::string_view, std::string_view m) { events.emplace_back(m); }, nullptr);
    CoapTransport::Handlers h;
    h.on_request = [this](const PeerInfo& p, const CoapMessage& m, Responder r) {
      if (m.uri_path_segments().at(0) == "rd") return registration.handle(p, m, std::move(r));
      sends.handle(p, m, std::move(r));
    };
    transport.set_handlers(std::move(h));
    settle();
  }

  void register_device(const std::string& ep, const PeerInfo& from = peer()) {
    CoapMessage m;
    m.type = lwm2m::CoapType::kCon;
    m.code = static_cast<uint8_t>(CoapCode::kPost);
    m.set_uri_path("/rd");
    for (std::string q : {"ep=" + ep, std::string("lt=60"), std::string("lwm2m=1.1")})
      m.add_uri_query(q);
    m.add_uint_option(lwm2m::coap_option::kContentFormat,
                      static_cast<uint32_t>(ContentFormat::kLinkFormat));
    m.payload = "</1/0>,</3/0>,</3313/0>";
    deliver(from, m);
    ASSERT_EQ(code(), coap_code(CoapCode::kCreated));
  }

  void deliver(const PeerInfo& from, const CoapMessage& m) {
    transport.deliver(from, m);
    settle();
  }
  uint8_t code() const { return transport.last_response() ? transport.last_response()->code : 0; }
  std::string diagnostic() const {
    return transport.last_response() ? transport.last_response()->payload : "";
  }
  std::vector<store::LastValue> stored(const std::string& ep) {
    std::vector<store::LastValue> out;
    values.get(ep, [&](Result<std::vector<store::LastValue>> r) { out = std::move(*r); });
    settle();
    return out;
  }

  store::MemoryValueStore values{io};
  RegistrationService registration{ctx};
  SendService sends{ctx, values};
  std::vector<std::string> events;
};

TEST_F(SendServiceTest, AcceptedSendIsStoredAndAnnounced) {
  register_device("dev-1");
  std::vector<std::string> heard;
  sends.on_heard = [&](const std::string& ep) { heard.push_back(ep); };
  deliver(peer(), send_request(kAccel));
  EXPECT_EQ(code(), coap_code(CoapCode::kChanged)) << diagnostic();
  EXPECT_EQ(ctx.counters.sends_received, 1u);
  EXPECT_EQ(heard, std::vector<std::string>{"dev-1"});

  const auto kept = stored("dev-1");
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].path, "/3313/0/5702");
  EXPECT_EQ(kept[0].time_ms, now_ms);
  EXPECT_NE(kept[0].node_json.find("1.5"), std::string::npos) << kept[0].node_json;

  ASSERT_EQ(events.size(), 1u);
  auto event = bus::parse_device_event(events[0], models);
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(event->kind, bus::DeviceEventKind::kSend);
  EXPECT_EQ(event->endpoint, "dev-1");
  EXPECT_EQ(event->time_ms, now_ms);
  EXPECT_EQ(event->content_format, ContentFormat::kSenmlJson);
  ASSERT_EQ(event->content.size(), 3u);
  EXPECT_EQ(event->content[1].path, lwm2m::Path(3313, 0, 5703));
  const auto& r = std::get<lwm2m::Resource>(event->content[1].node);
  EXPECT_DOUBLE_EQ(r.value.as<double>(), -2.25);
}

TEST_F(SendServiceTest, NewerValueReplacesTheOlderOne) {
  register_device("dev-1");
  deliver(peer(), send_request(R"([{"n":"/3313/0/5702","v":1.0}])"));
  now_ms += 1000;
  deliver(peer(), send_request(R"([{"n":"/3313/0/5702","v":2.0}])"));
  const auto kept = stored("dev-1");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].time_ms, now_ms);
  EXPECT_NE(kept[0].node_json.find("2"), std::string::npos);
}

TEST_F(SendServiceTest, SenmlCborIsAccepted) {
  register_device("dev-1");
  std::vector<lwm2m::PathNode> nodes{
      {lwm2m::Path(3313, 0, 5702), lwm2m::Resource::single(5702, lwm2m::Value(3.5))}};
  auto cbor = lwm2m::encode_composite(ContentFormat::kSenmlCbor, nodes);
  ASSERT_TRUE(cbor);
  deliver(peer(), send_request(std::string(cbor->begin(), cbor->end()), ContentFormat::kSenmlCbor));
  EXPECT_EQ(code(), coap_code(CoapCode::kChanged)) << diagnostic();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_NE(events[0].find("\"contentFormat\":\"SENML_CBOR\""), std::string::npos) << events[0];
}

TEST_F(SendServiceTest, UnregisteredPeerIsForbidden) {
  deliver(peer(), send_request(kAccel));
  EXPECT_EQ(code(), coap_code(CoapCode::kForbidden));
  EXPECT_NE(diagnostic().find("Register before Send"), std::string::npos) << diagnostic();
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(ctx.counters.sends_rejected, 1u);
}

TEST_F(SendServiceTest, OtherSecurityIsForbidden) {
  register_device("dev-1");
  PeerInfo secure = peer();
  secure.secure = true;
  secure.psk_identity = "someone";
  deliver(secure, send_request(kAccel));
  EXPECT_EQ(code(), coap_code(CoapCode::kForbidden));
  EXPECT_TRUE(events.empty());
}

TEST_F(SendServiceTest, UndecodablePayloadIsBadRequestAndKeepsNothing) {
  register_device("dev-1");
  deliver(peer(), send_request(R"([{"n":"/3313/0/5702","v":)"));
  EXPECT_EQ(code(), coap_code(CoapCode::kBadRequest));
  EXPECT_NE(diagnostic().find("cannot decode the SENML_JSON payload"), std::string::npos)
      << diagnostic();
  deliver(peer(), send_request("[]"));
  EXPECT_EQ(code(), coap_code(CoapCode::kBadRequest));
  EXPECT_NE(diagnostic().find("without records"), std::string::npos) << diagnostic();
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(stored("dev-1").empty());
  EXPECT_EQ(ctx.counters.sends_rejected, 2u);
}

TEST_F(SendServiceTest, WrongOrMissingContentFormatIsBadRequest) {
  register_device("dev-1");
  deliver(peer(), send_request(kAccel, std::nullopt));
  EXPECT_EQ(code(), coap_code(CoapCode::kBadRequest));
  EXPECT_NE(diagnostic().find("needs a Content-Format"), std::string::npos) << diagnostic();
  deliver(peer(), send_request("x", ContentFormat::kText));
  EXPECT_EQ(code(), coap_code(CoapCode::kBadRequest));
  EXPECT_NE(diagnostic().find("content format 0 is not supported"), std::string::npos)
      << diagnostic();
  EXPECT_TRUE(events.empty());
}

TEST_F(SendServiceTest, UnregisteredObjectIsNotFound) {
  register_device("dev-1");
  deliver(peer(), send_request(R"([{"n":"/3303/0/5700","v":21.5}])"));
  EXPECT_EQ(code(), coap_code(CoapCode::kNotFound));
  EXPECT_NE(diagnostic().find("object 3303"), std::string::npos) << diagnostic();
  EXPECT_TRUE(events.empty());
}

TEST_F(SendServiceTest, OnlyPostOnDp) {
  register_device("dev-1");
  CoapMessage get = send_request(kAccel);
  get.code = static_cast<uint8_t>(CoapCode::kGet);
  deliver(peer(), get);
  EXPECT_EQ(code(), coap_code(CoapCode::kMethodNotAllowed));
}

TEST_F(SendServiceTest, DeviceOfAnotherNodeIsFoundInTheStore) {
  register_device("dev-1");
  devices.erase("dev-1");  // as if it had registered through another node
  deliver(peer(), send_request(kAccel));
  EXPECT_EQ(code(), coap_code(CoapCode::kChanged)) << diagnostic();
  EXPECT_EQ(events.size(), 1u);
}

TEST_F(SendServiceTest, StoreAwayIsServiceUnavailable) {
  faults.failing.insert("registrations.get_by_address");
  deliver(peer(), send_request(kAccel));
  EXPECT_EQ(code(), coap_code(CoapCode::kServiceUnavailable));
  EXPECT_TRUE(events.empty());
}

}  // namespace
}  // namespace fogm2m::server
