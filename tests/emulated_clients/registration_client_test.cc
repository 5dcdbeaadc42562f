// The registration client (registration_client.h): Register, Update,
// De-register, retries and what triggers an Update.
#include "emulated_clients/registration_client.h"

#include <gtest/gtest.h>

#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

TEST(DeviceRegistration, RegisterUpdateReRegisterDeregister) {
  Device d = make_device(config(0ms));
  EXPECT_EQ(d.registration_state(), RegistrationState::kStopped);
  EXPECT_EQ(d.next_deadline(), TimePoint::max());
  d.start(T0);
  EXPECT_EQ(d.next_deadline(), T0);

  auto out = tick(d, T0);
  ASSERT_EQ(out.size(), 1u);
  const CoapMessage reg = out[0];
  EXPECT_EQ(reg.type, CoapType::kCon);
  EXPECT_EQ(reg.code, coap_code(CoapCode::kPost));
  EXPECT_EQ(reg.uri_path(), "/rd");
  EXPECT_FALSE(reg.token.empty());
  EXPECT_EQ(reg.query_value("ep"), "dev-001");
  EXPECT_EQ(reg.query_value("lt"), "300");
  EXPECT_EQ(reg.query_value("lwm2m"), "1.1");
  EXPECT_EQ(reg.query_value("b"), "U");
  EXPECT_EQ(reg.content_format(), 40u);
  auto links = lwm2m::parse_registration_links(reg.payload);
  ASSERT_TRUE(links.ok()) << reg.payload;
  EXPECT_FALSE(links->has_object(0));
  EXPECT_EQ(links->objects.at(1), std::vector<uint16_t>{0});
  EXPECT_EQ(links->objects.at(3), std::vector<uint16_t>{0});
  EXPECT_EQ(links->objects.at(3313), std::vector<uint16_t>{0});
  EXPECT_EQ(links->object_versions.at(3), "1.1");
  EXPECT_EQ(links->content_formats, (std::vector<uint16_t>{110, 112, 11542, 11543, 11544}));
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegistering);
  EXPECT_TRUE(tick(d, T0 + 1s).empty());  // one request at a time

  // A response with another token is not ours.
  CoapMessage stray = response_to(reg, CoapCode::kCreated, "rd/zzz");
  stray.token = "other";
  EXPECT_FALSE(d.handle_response(stray, T0 + 1s));

  ASSERT_TRUE(d.handle_response(response_to(reg, CoapCode::kCreated, "rd/abc"), T0 + 1s));
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegistered);
  EXPECT_EQ(d.registration_location(), "/rd/abc");
  EXPECT_EQ(d.counters().registrations, 1u);
  EXPECT_EQ(d.next_deadline(), T0 + 1s + 270s);  // 90% of the lifetime

  out = tick(d, T0 + 271s);
  ASSERT_EQ(out.size(), 1u);
  const CoapMessage upd = out[0];
  EXPECT_EQ(upd.code, coap_code(CoapCode::kPost));
  EXPECT_EQ(upd.uri_path(), "/rd/abc");
  EXPECT_TRUE(upd.uri_queries().empty());
  EXPECT_TRUE(upd.payload.empty());
  EXPECT_NE(upd.token, reg.token);
  EXPECT_EQ(d.registration_state(), RegistrationState::kUpdating);
  EXPECT_TRUE(d.registered());

  // 4.04 on Update: the server forgot us; register again at once.
  ASSERT_TRUE(d.handle_response(response_to(upd, CoapCode::kNotFound), T0 + 272s));
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
  EXPECT_EQ(d.next_deadline(), T0 + 272s);
  out = tick(d, T0 + 272s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].uri_path(), "/rd");
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "rd/def"), T0 + 273s));
  EXPECT_EQ(d.registration_location(), "/rd/def");
  EXPECT_EQ(d.counters().registrations, 2u);
  EXPECT_EQ(d.counters().errors, 1u);

  // A regular Update.
  out = tick(d, T0 + 273s + 270s);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kChanged), T0 + 544s));
  EXPECT_EQ(d.counters().updates, 1u);
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegistered);

  // De-register.
  auto dereg = d.deregister(T0 + 600s);
  ASSERT_TRUE(dereg.has_value());
  EXPECT_EQ(dereg->code, coap_code(CoapCode::kDelete));
  EXPECT_EQ(dereg->uri_path(), "/rd/def");
  EXPECT_EQ(d.registration_state(), RegistrationState::kDeregistering);
  ASSERT_TRUE(d.handle_response(response_to(*dereg, CoapCode::kDeleted), T0 + 601s));
  EXPECT_EQ(d.registration_state(), RegistrationState::kStopped);
  EXPECT_EQ(d.counters().deregistrations, 1u);
  EXPECT_FALSE(d.deregister(T0 + 602s).has_value());
}

TEST(DeviceRegistration, FailuresBackOffWithJitter) {
  auto c = config(0ms);
  c->retry_base = 2000ms;
  c->retry_max = 10000ms;
  Device d = make_device(c);
  d.start(T0);
  TimePoint t = T0;
  const std::pair<int, int> windows_ms[] = {
      {1500, 2500}, {3000, 5000}, {6000, 10000}, {7500, 12500}};
  for (auto [lo, hi] : windows_ms) {
    auto out = tick(d, t);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kServiceUnavailable), t));
    EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
    const auto wait = d.next_deadline() - t;
    EXPECT_GE(wait, std::chrono::milliseconds(lo));
    EXPECT_LT(wait, std::chrono::milliseconds(hi));
    t = d.next_deadline();
  }
  // A transport timeout is a failure too; 2.01 without Location is one.
  auto out = tick(d, t);
  ASSERT_EQ(out.size(), 1u);
  d.on_timeout(out[0].token, t);
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
  t = d.next_deadline();
  out = tick(d, t);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated), t));
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
  EXPECT_EQ(d.counters().errors, 6u);
  // No verdict at all: the request times out on the device's own clock.
  t = d.next_deadline();
  out = tick(d, t);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(d.next_deadline(), t + c->request_timeout);
  out = tick(d, t + c->request_timeout);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
  EXPECT_EQ(d.counters().errors, 7u);
}

// An overloaded server (5.03, or 4.29) says when to come back in Max-Age:
// the device waits that long plus up to a quarter of jitter, not its own
// back-off.
TEST(DeviceRegistration, ServiceUnavailableWithMaxAgeIsRetriedThen) {
  auto c = config(0ms);
  c->retry_base = 2000ms;
  Device d = make_device(c);
  d.start(T0);
  TimePoint t = T0;
  for (auto code : {CoapCode::kServiceUnavailable, CoapCode::kTooManyRequests}) {
    auto out = tick(d, t);
    ASSERT_EQ(out.size(), 1u);
    CoapMessage busy = response_to(out[0], code);
    busy.add_uint_option(opt::kMaxAge, 30);
    ASSERT_TRUE(d.handle_response(busy, t));
    EXPECT_EQ(d.registration_state(), RegistrationState::kRegisterDue);
    const auto wait = d.next_deadline() - t;
    EXPECT_GE(wait, 30000ms);
    EXPECT_LT(wait, 37500ms);
    t = d.next_deadline();
  }
}

TEST(DeviceRegistration, ChangesTriggerUpdates) {
  Device d = make_device(config(0ms));
  d.start(T0);
  auto out = tick(d, T0);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "rd/x1"), T0));
  EXPECT_TRUE(tick(d, T0 + 1s).empty());

  // Registration Update Trigger.
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/1/0/8"), T0 + 2s).code,
            coap_code(CoapCode::kChanged));
  EXPECT_LE(d.next_deadline(), T0 + 2s);
  out = tick(d, T0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].uri_path(), "/rd/x1");
  EXPECT_TRUE(out[0].uri_queries().empty());
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kChanged), T0 + 2s));

  // Lifetime and binding writes: lt= and b=.
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "120"), T0 + 3s).code,
            coap_code(CoapCode::kChanged));
  out = tick(d, T0 + 3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].query_value("lt"), "120");
  EXPECT_FALSE(out[0].query_value("b").has_value());
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kChanged), T0 + 3s));
  EXPECT_EQ(d.next_deadline(), T0 + 3s + 108s);

  // Create: the object list.
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0 + 4s).code,
            coap_code(CoapCode::kCreated));
  out = tick(d, T0 + 4s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].content_format(), 40u);
  auto links = lwm2m::parse_registration_links(out[0].payload);
  ASSERT_TRUE(links.ok());
  EXPECT_EQ(links->objects.at(3313), (std::vector<uint16_t>{0, 1}));
}

TEST(DeviceRegistration, Lwm2m10AndTemperature) {
  auto c = config(0ms);
  c->version = Lwm2mVersion::k1_0;
  c->temperature = true;
  Device d = make_device(c);
  d.start(T0);
  auto out = tick(d, T0);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].query_value("lwm2m"), "1.0");
  auto links = lwm2m::parse_registration_links(out[0].payload);
  ASSERT_TRUE(links.ok());
  EXPECT_TRUE(links->object_versions.empty());
  EXPECT_EQ(links->objects.at(3303), std::vector<uint16_t>{0});
  EXPECT_EQ(local_value(d, "/3303/0/5701"), Value("Cel"));
  EXPECT_EQ(local_value(d, "/3303/0/5700"), Value(21.5));
}

TEST(DeviceRegistration, NewRegistrationDropsObservations) {
  Device d = make_device(config(0ms));
  d.start(T0);
  auto out = tick(d, T0);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "rd/a"), T0));
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5702", "o"), T0).observe().has_value());
  d.start(T0 + 1s);  // e.g. after a reboot of the transport
  out = tick(d, T0 + 1s);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "rd/b"), T0 + 1s));
  EXPECT_EQ(d.observation_count(), 0u);
}

// ---- The sensor ---------------------------------------------------------------------------------

}  // namespace
}  // namespace fogm2m::emulated
