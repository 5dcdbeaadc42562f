// The Registration interface on a fake transport and a fake clock: Register,
// Update, De-register, expiry, the security rule, takeovers announced by
// other nodes, and every answer when a store fails.
#include "server/services/registration_service.h"

#include <gtest/gtest.h>

#include <set>

#include "bus/registration_event.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/content_format.h"
#include "tests/server/services/service_fixture.h"

namespace fogm2m::server {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using testing::peer;
using testing::ServiceFixture;

CoapMessage request(CoapCode method, const std::string& path, std::vector<std::string> queries = {},
                    std::string links = "") {
  CoapMessage m;
  m.type = lwm2m::CoapType::kCon;
  m.code = static_cast<uint8_t>(method);
  m.set_uri_path(path);
  for (const auto& q : queries) m.add_uri_query(q);
  if (!links.empty()) {
    m.add_uint_option(lwm2m::coap_option::kContentFormat,
                      static_cast<uint32_t>(lwm2m::ContentFormat::kLinkFormat));
    m.payload = std::move(links);
  }
  return m;
}

class RegistrationServiceTest : public ServiceFixture {
 protected:
  // Registers `ep` from `from`; returns the regId (empty on failure).
  std::string register_device(const std::string& ep, const PeerInfo& from = peer(),
                              int64_t lifetime_s = 60) {
    transport.deliver(from,
                      request(CoapCode::kPost, "/rd",
                              {"ep=" + ep, "lt=" + std::to_string(lifetime_s), "lwm2m=1.1", "b=U"},
                              "</1/0>,</3/0>,</3313/0>"));
    settle();
    const auto& r = transport.last_response();
    if (!r || r->code != coap_code(CoapCode::kCreated)) return "";
    const std::string location = r->location_path();  // "/rd/<id>"
    return location.substr(location.rfind('/') + 1);
  }

  void handle(const PeerInfo& from, const CoapMessage& m) {
    transport.deliver(from, m);
    settle();
  }
  uint8_t last_code() const {
    return transport.last_response() ? transport.last_response()->code : 0;
  }

  RegistrationService service{ctx};
  // The transport hands device requests under /rd to the service, as the node does.
  bool wired = [this] {
    CoapTransport::Handlers h;
    h.on_request = [this](const PeerInfo& p, const CoapMessage& m, Responder r) {
      service.handle(p, m, std::move(r));
    };
    transport.set_handlers(std::move(h));
    return true;
  }();
};

TEST_F(RegistrationServiceTest, RegisterUpdateDeregister) {
  const std::string reg_id = register_device("dev-1");
  ASSERT_EQ(reg_id.size(), 10u);
  const LocalDevice* local = devices.by_endpoint("dev-1");
  ASSERT_NE(local, nullptr);
  EXPECT_EQ(local->registration.registration_date_ms, now_ms);
  EXPECT_EQ(local->registration.object_links.size(), 3u);
  ASSERT_EQ(on("LESHAN_REG_NEW").size(), 1u);
  EXPECT_EQ(bus::parse_registration_event(bus::RegistrationEventKind::kNew, on("LESHAN_REG_NEW")[0])
                ->reg_id,
            reg_id);

  now_ms += 30'000;
  handle(peer(40001),
         request(CoapCode::kPost, "/rd/" + reg_id, {"lt=120"}));  // a new address (NAT rebinding)
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
  local = devices.by_endpoint("dev-1");
  EXPECT_EQ(local->registration.lifetime_s, 120);
  EXPECT_EQ(local->registration.last_update_ms, now_ms);
  EXPECT_EQ(local->peer.address.port, 40001);
  ASSERT_EQ(on("LESHAN_REG_UPD").size(), 1u);

  handle(peer(40001), request(CoapCode::kDelete, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kDeleted));
  EXPECT_EQ(devices.by_endpoint("dev-1"), nullptr);
  EXPECT_EQ(on("LESHAN_REG_DEL").size(), 1u);
  EXPECT_EQ(ctx.counters.registrations, 1u);
  EXPECT_EQ(ctx.counters.updates, 1u);
  EXPECT_EQ(ctx.counters.deregistrations, 1u);
}

TEST_F(RegistrationServiceTest, BadRequestsHaveTheirCodes) {
  struct Case {
    CoapMessage message;
    CoapCode expected;
  };
  for (const Case& c :
       {Case{request(CoapCode::kPost, "/rd", {"lt=60"}), CoapCode::kBadRequest},
        Case{request(CoapCode::kPost, "/rd", {"ep=x", "lt=abc"}), CoapCode::kBadRequest},
        Case{request(CoapCode::kPost, "/rd", {"ep=x", "b=Z"}), CoapCode::kBadRequest},
        Case{request(CoapCode::kPost, "/rd", {"ep=x", "lwm2m=9.9"}), CoapCode::kPreconditionFailed},
        Case{request(CoapCode::kPost, "/rd", {"ep=x"}, "<3/0"), CoapCode::kBadRequest},
        Case{request(CoapCode::kGet, "/rd"), CoapCode::kMethodNotAllowed},
        Case{request(CoapCode::kPost, "/rd/unknown", {"lt=5"}), CoapCode::kNotFound},
        Case{request(CoapCode::kPost, "/rd/x", {"ep=y"}), CoapCode::kBadRequest},
        Case{request(CoapCode::kDelete, "/rd/unknown"), CoapCode::kNotFound},
        Case{request(CoapCode::kPost, "/rd/a/b"), CoapCode::kNotFound}}) {
    handle(peer(), c.message);
    EXPECT_EQ(last_code(), coap_code(c.expected)) << lwm2m::to_debug_string(c.message);
  }
  EXPECT_TRUE(on("LESHAN_REG_NEW").empty());
  EXPECT_EQ(devices.size(), 0u);
}

TEST_F(RegistrationServiceTest, ADeviceWithAKeyMustRegisterOverDtlsWithItsIdentity) {
  ctx.security.put(store::SecurityInfo{"secure-1", "secure-1-id", "key"}, [](Result<bool>) {});
  settle();
  EXPECT_EQ(register_device("secure-1"), "");
  EXPECT_EQ(last_code(), coap_code(CoapCode::kForbidden));
  EXPECT_EQ(register_device("secure-1", PeerInfo{{"10.0.0.7", 1}, true, "someone-else"}), "");
  EXPECT_EQ(last_code(), coap_code(CoapCode::kForbidden));
  const std::string reg_id =
      register_device("secure-1", PeerInfo{{"10.0.0.7", 1}, true, "secure-1-id"});
  ASSERT_FALSE(reg_id.empty());
  // A plain peer may not update or remove a secure registration.
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kForbidden));
  handle(peer(), request(CoapCode::kDelete, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kForbidden));
  // And a DTLS peer without a key in the store may not register at all.
  EXPECT_EQ(register_device("plain-1", PeerInfo{{"10.0.0.8", 1}, true, "nobody"}), "");
  EXPECT_EQ(last_code(), coap_code(CoapCode::kForbidden));
}

// A store out of reach (kIo: Redis lost) is answered 5.03 with Max-Age, so
// the device tries again later; it is counted, and nothing is published.
TEST_F(RegistrationServiceTest, AnUnreachableStoreIsAnswered503WithMaxAge) {
  auto expect_503 = [&](const char* what) {
    EXPECT_EQ(last_code(), coap_code(CoapCode::kServiceUnavailable)) << what;
    EXPECT_EQ(transport.last_response()->uint_option(lwm2m::coap_option::kMaxAge), 2u) << what;
  };
  faults.failing = {"security.get_by_endpoint"};
  EXPECT_EQ(register_device("dev-1"), "");
  expect_503("register, security store");
  EXPECT_EQ(transport.last_response()->payload, "security store unavailable");
  faults.failing = {"registrations.add"};
  EXPECT_EQ(register_device("dev-1"), "");
  expect_503("register, registration store");
  faults.failing = {};
  const std::string reg_id = register_device("dev-1");
  ASSERT_FALSE(reg_id.empty());
  faults.failing = {"registrations.remove"};
  handle(peer(), request(CoapCode::kDelete, "/rd/" + reg_id));
  expect_503("de-register");
  devices.erase("dev-1");  // not known locally: the update looks the regId up first
  faults.failing = {"registrations.get_by_reg_id"};
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id));
  expect_503("update of a device that is not ours");
  EXPECT_EQ(ctx.counters.store_errors, 4u);  // one per failure above
  EXPECT_EQ(on("LESHAN_REG_DEL").size(), 0u);
}

// A registration storm: beyond max_in_flight Registers waiting for the
// store, a Register is answered 5.03 at once with a Max-Age, spread over
// the time the node needs for what it turned away (deferred / admitted per
// second); the admitted ones complete; Updates are never deferred.
TEST_F(RegistrationServiceTest, RegistersBeyondTheInFlightLimitAreDeferredWithMaxAge) {
  service.set_max_in_flight_registrations(2);
  auto deliver_register = [&](int i) {
    transport.deliver(peer(static_cast<uint16_t>(41000 + i)),
                      request(CoapCode::kPost, "/rd",
                              {"ep=storm-" + std::to_string(i), "lt=60", "lwm2m=1.1", "b=U"}));
  };
  for (int i = 0; i < 10; ++i) deliver_register(i);  // all before the store answers
  EXPECT_EQ(service.registrations_in_flight(), 2u);
  EXPECT_EQ(service.registrations_deferred(), 8u);
  for (size_t i = 2; i < 10; ++i) {
    const auto& r = transport.response(i);
    ASSERT_TRUE(r) << i << ": answered at once";
    EXPECT_EQ(r->code, coap_code(CoapCode::kServiceUnavailable));
    EXPECT_EQ(r->uint_option(lwm2m::coap_option::kMaxAge), 1u) << "first second: no history";
  }
  settle();
  EXPECT_EQ(service.registrations_in_flight(), 0u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(transport.response(i));
    EXPECT_EQ(transport.response(i)->code, coap_code(CoapCode::kCreated));
  }
  // The next second: 2 admitted and 8 deferred before, so Max-Age spreads
  // the returns over 1..4 s.
  now_ms += 1000;
  std::set<uint32_t> max_ages;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 3; ++i) deliver_register(100 + round * 3 + i);
    const auto& r = transport.last_response();
    ASSERT_TRUE(r);
    ASSERT_EQ(r->code, coap_code(CoapCode::kServiceUnavailable));
    const uint32_t age = *r->uint_option(lwm2m::coap_option::kMaxAge);
    EXPECT_GE(age, 1u);
    EXPECT_LE(age, 4u);
    max_ages.insert(age);
    settle();
  }
  EXPECT_GT(max_ages.size(), 1u) << "spread, not one value for all";
  // Updates pass whatever the load.
  const std::string reg_id = transport.response(0)->location_path().substr(4);
  for (int i = 0; i < 5; ++i) deliver_register(200 + i);
  handle(peer(41000), request(CoapCode::kPost, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
}

// A device this node owns keeps updating while the store is out of reach:
// 2.04 from memory, and the store gets the Updates, merged and in order,
// once it is back.
TEST_F(RegistrationServiceTest, UpdatesOfOwnedDevicesAreServedFromMemoryAndWrittenThrough) {
  const std::string reg_id = register_device("dev-1", peer(), 60);
  ASSERT_FALSE(reg_id.empty());
  faults.failing = {"registrations.update"};
  now_ms += 1'000;
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id, {"lt=120"}));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
  now_ms += 1'000;
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id, {"b=UQ"}));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
  EXPECT_EQ(service.unwritten_updates(), 1u);
  EXPECT_EQ(ctx.counters.updates_from_memory, 2u);
  // The node's view moved on; the store's did not.
  EXPECT_EQ(devices.by_reg_id(reg_id)->registration.lifetime_s, 120);
  EXPECT_EQ(devices.by_reg_id(reg_id)->registration.binding, "UQ");
  auto stored = [&] {
    std::optional<store::Registration> out;
    ctx.registrations.get_by_reg_id(reg_id, [&](Result<std::optional<store::Registration>> r) {
      if (r && *r) out = **r;
    });
    settle();
    return out;
  };
  ASSERT_TRUE(stored());
  EXPECT_EQ(stored()->lifetime_s, 60);

  faults.failing = {};
  service.write_through();
  settle();
  EXPECT_EQ(service.unwritten_updates(), 0u);
  EXPECT_EQ(ctx.counters.updates_written_through, 1u);  // both Updates, merged
  ASSERT_TRUE(stored());
  EXPECT_EQ(stored()->lifetime_s, 120);
  EXPECT_EQ(stored()->binding, "UQ");
  EXPECT_EQ(stored()->last_update_ms, now_ms);
  EXPECT_EQ(on("LESHAN_REG_UPD").size(), 1u);
}

// A record the store lost meanwhile (Redis restarted without persistence)
// is written whole again by its owner.
TEST_F(RegistrationServiceTest, AnOwnedRegistrationTheStoreLostIsWrittenAgain) {
  const std::string reg_id = register_device("dev-1", peer(), 60);
  ASSERT_FALSE(reg_id.empty());
  faults.failing = {"registrations.update"};
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
  faults.failing = {};
  ctx.registrations.remove(reg_id, [](Result<store::Registration>) {});
  settle();
  service.write_through();
  settle();
  EXPECT_EQ(service.unwritten_updates(), 0u);
  std::optional<store::Registration> back;
  ctx.registrations.get_by_endpoint("dev-1", [&](Result<std::optional<store::Registration>> r) {
    if (r && *r) back = **r;
  });
  settle();
  ASSERT_TRUE(back);
  EXPECT_EQ(back->reg_id, reg_id);
  EXPECT_EQ(back->owner, ctx.node_id);
}

// An Update of a device another node registered makes this node its owner
// and says so, so its observations can be re-established here.
TEST_F(RegistrationServiceTest, AnUpdateOfAnotherNodesDeviceTakesItOver) {
  const std::string reg_id = register_device("dev-1");
  ASSERT_FALSE(reg_id.empty());
  std::vector<std::string> taken;
  service.on_taken_over = [&](const LocalDevice& d) { taken.push_back(d.registration.endpoint); };
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id));  // still ours: no takeover
  EXPECT_TRUE(taken.empty());

  devices.erase("dev-1");  // as if node-2 had registered it
  store::RegistrationUpdate to_node_2;
  to_node_2.reg_id = reg_id;
  to_node_2.now_ms = now_ms;
  registrations.update(to_node_2, "node-2", [](Result<store::UpdatedRegistration>) {});
  settle();
  handle(peer(), request(CoapCode::kPost, "/rd/" + reg_id));
  EXPECT_EQ(last_code(), coap_code(CoapCode::kChanged));
  EXPECT_EQ(taken, std::vector<std::string>{"dev-1"});
  ASSERT_NE(devices.by_endpoint("dev-1"), nullptr);
  EXPECT_EQ(devices.by_endpoint("dev-1")->registration.owner, "node-1");
}

// A second Register of an endpoint replaces its registration without
// ending it: the hook gets the registration replaced and the new one, so
// the observations can be asked for again; nothing counts as removed.
TEST_F(RegistrationServiceTest, ARegisterReplacingARegistrationSaysWhichItReplaced) {
  const std::string first = register_device("dev-1");
  ASSERT_FALSE(first.empty());
  std::vector<std::string> removed;
  std::vector<std::pair<std::string, std::string>> replaced;  // previous reg id, new reg id
  service.on_removed = [&](const store::Registration& r) { removed.push_back(r.reg_id); };
  service.on_reregistered = [&](const store::Registration& previous, const LocalDevice& d) {
    replaced.emplace_back(previous.reg_id, d.registration.reg_id);
  };
  const std::string second = register_device("dev-1");
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_TRUE(removed.empty());
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0], std::make_pair(first, second));
  EXPECT_EQ(devices.by_endpoint("dev-1")->registration.reg_id, second);

  register_device("dev-2");  // a first Register replaces nothing
  EXPECT_EQ(replaced.size(), 1u);
}

TEST_F(RegistrationServiceTest, ExpiresOnTheClockAfterLifetimeAndGrace) {
  std::vector<std::string> ended;
  service.on_removed = [&](const store::Registration& r) { ended.push_back(r.endpoint); };
  ASSERT_FALSE(register_device("short", peer(), 10).empty());
  now_ms += 10'000 + 2'000;  // lifetime + grace, not past it
  service.sweep_expired(2'000);
  settle();
  EXPECT_TRUE(ended.empty());
  now_ms += 1;
  service.sweep_expired(2'000);
  settle();
  EXPECT_EQ(ended, std::vector<std::string>{"short"});
  EXPECT_EQ(devices.by_endpoint("short"), nullptr);
  EXPECT_EQ(on("LESHAN_REG_DEL").size(), 1u);
  EXPECT_EQ(ctx.counters.expirations, 1u);

  faults.failing = {"registrations.remove_expired"};
  service.sweep_expired(2'000);
  settle();
  EXPECT_EQ(ctx.counters.store_errors, 1u);
}

// A whole fleet expiring at once: one sweep takes a bounded batch from the
// store and goes on by itself until none is left.
TEST_F(RegistrationServiceTest, AFleetExpiringAtOnceIsSweptInBatchesUntilNoneIsLeft) {
  const size_t fleet = store::kExpiredPerSweep * 2 + 10;
  for (size_t i = 0; i < fleet; ++i)
    ASSERT_FALSE(register_device("gone-" + std::to_string(i), peer(), 10).empty()) << i;
  now_ms += 20'000;
  service.sweep_expired(2'000);
  settle();
  EXPECT_EQ(ctx.counters.expirations, fleet);
  EXPECT_EQ(on("LESHAN_REG_DEL").size(), fleet);
  EXPECT_EQ(devices.by_endpoint("gone-0"), nullptr);
}

TEST_F(RegistrationServiceTest, ADeviceTakenOverByAnotherNodeIsDroppedHere) {
  ASSERT_FALSE(register_device("mover").empty());
  store::Registration elsewhere = devices.by_endpoint("mover")->registration;
  elsewhere.owner = "node-2";
  service.on_event(ctx.channels.registration_update,
                   bus::format_registration_event(bus::RegistrationEventKind::kUpdate, elsewhere));
  EXPECT_EQ(devices.by_endpoint("mover"), nullptr);

  ASSERT_FALSE(register_device("gone").empty());
  store::Registration removed = devices.by_endpoint("gone")->registration;
  service.on_event(ctx.channels.registration_delete,
                   bus::format_registration_event(bus::RegistrationEventKind::kDelete, removed));
  EXPECT_EQ(devices.by_endpoint("gone"), nullptr);
  // Events that are not for a device of this node, or not events, change nothing.
  ASSERT_FALSE(register_device("stays").empty());
  service.on_event(ctx.channels.registration_new, "{not json");
  service.on_event("OTHER",
                   bus::format_registration_event(bus::RegistrationEventKind::kDelete, removed));
  EXPECT_NE(devices.by_endpoint("stays"), nullptr);
}

}  // namespace
}  // namespace fogm2m::server
