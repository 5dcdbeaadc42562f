// Device management and observation on a fake transport: the CoAP request
// each bus request becomes, the reply each device answer becomes, and what
// happens when the device is silent, answers nonsense, or the request
// cannot be built.
#include "server/services/device_manager.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <set>

#include "bus/reply.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/codec/codec.h"
#include "tests/server/services/service_fixture.h"

namespace fogm2m::server {
namespace {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::ContentFormat;
using lwm2m::Path;

class DeviceManagerTest : public testing::ServiceFixture {
 protected:
  DeviceManagerTest() {
    store::Registration reg;
    reg.endpoint = "dev-1";
    reg.reg_id = "R1";
    reg.peer = {"10.0.0.7", 40000};
    reg.object_links = {{"/", {{"rt", "oma.lwm2m"}, {"ct", "110 11542"}}}, {"/3313/0", {}}};
    devices.put(LocalDevice{reg, PeerInfo{reg.peer, false, ""}});
  }

  const LocalDevice& device() { return *devices.by_endpoint("dev-1"); }

  bus::Request request(bus::RequestKind kind, Path path, std::string ticket = "t-1") {
    bus::Request r;
    r.endpoint = "dev-1";
    r.ticket = std::move(ticket);
    r.kind = kind;
    r.path = path;
    return r;
  }

  // Performs `r` and returns the reply once it is there ("" until then).
  std::string perform(const bus::Request& r) {
    replies.emplace_back();
    const size_t slot = replies.size() - 1;
    manager.perform(device(), r,
                    [this, slot](std::string reply) { replies[slot] = std::move(reply); });
    settle();
    return replies[slot];
  }

  // Observes X of dev-1 under `ticket`, the device accepting; returns the
  // observation's token.
  std::string observe_accepted(const std::string& ticket) {
    perform(request(bus::RequestKind::kObserve, Path(3313, 0, 5702), ticket));
    const std::string token = transport.last_request().token;
    CoapMessage accepted = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 1.0));
    accepted.add_uint_option(lwm2m::coap_option::kObserve, 2);
    transport.answer(accepted);
    settle();
    return token;
  }

  // The device's 2.05 answer carrying `node` in TLV.
  static CoapMessage content(const Path& path, const lwm2m::Node& node) {
    CoapMessage m;
    m.code = coap_code(CoapCode::kContent);
    m.add_uint_option(lwm2m::coap_option::kContentFormat,
                      static_cast<uint32_t>(ContentFormat::kTlv));
    auto bytes = lwm2m::encode(ContentFormat::kTlv, path, node);
    m.payload.assign(bytes->begin(), bytes->end());
    return m;
  }

  bus::Reply reply(const std::string& text) {
    auto r = bus::parse_reply(text);
    EXPECT_TRUE(r.ok()) << text;
    return r.ok() ? *r : bus::Reply{};
  }

  DeviceManager manager{ctx};
  std::vector<std::string> replies;
};

TEST_F(DeviceManagerTest, ReadGoesOutAsGetAndComesBackDecoded) {
  EXPECT_EQ(perform(request(bus::RequestKind::kRead, Path(3313, 0, 5702))),
            "");  // waits for the device
  ASSERT_EQ(transport.sent.size(), 1u);
  const CoapMessage& get = transport.last_request();
  EXPECT_EQ(get.code, coap_code(CoapCode::kGet));
  EXPECT_EQ(get.uri_path_segments(), (std::vector<std::string_view>{"3313", "0", "5702"}));
  EXPECT_EQ(get.uint_option(lwm2m::coap_option::kAccept),
            static_cast<uint32_t>(ContentFormat::kTlv));
  EXPECT_EQ(transport.sent[0].timeout, ctx.device_timeout);
  transport.answer(content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 1.5)));
  settle();
  const bus::Reply r = reply(replies[0]);
  EXPECT_EQ(r.type, bus::ReplyType::kRep);
  EXPECT_EQ(r.body.at("code"), "CONTENT");
  EXPECT_EQ(r.body.at("content").at("value").to_number<double>(), 1.5);
  EXPECT_EQ(ctx.counters.device_requests, 1u);
}

// The requester's own timeout (the request's "timeout") bounds the wait for
// the device, a second under it, so the requester gets the node's error
// before it would give up; never beyond the node's device timeout.
TEST_F(DeviceManagerTest, TheRequestersTimeoutBoundsTheWaitForTheDevice) {
  bus::Request r = request(bus::RequestKind::kRead, Path(3313, 0, 5702), "t-wait");
  perform(r);
  EXPECT_EQ(transport.sent.back().timeout, ctx.device_timeout);
  r.timeout_ms = 3000;
  perform(r);
  EXPECT_EQ(transport.sent.back().timeout, std::chrono::milliseconds(2000));
  r.timeout_ms = 1000;
  perform(r);
  EXPECT_EQ(transport.sent.back().timeout, std::chrono::milliseconds(500));
  r.timeout_ms = 60000;
  perform(r);
  EXPECT_EQ(transport.sent.back().timeout, ctx.device_timeout);
}

TEST_F(DeviceManagerTest, WritesExecutesAndAttributesBecomeTheirCoapRequests) {
  bus::Request write = request(bus::RequestKind::kWrite, Path(3, 0, 14));
  write.node = bus::single_value_node(write.path, boost::json::value("+02:00"));
  perform(write);
  EXPECT_EQ(transport.last_request().code, coap_code(CoapCode::kPut));
  EXPECT_EQ(transport.last_request().content_format(), static_cast<uint32_t>(ContentFormat::kText));
  EXPECT_EQ(transport.last_request().payload, "+02:00");

  bus::Request exec = request(bus::RequestKind::kExecute, Path(3, 0, 4));
  exec.parameters = "0='x'";
  perform(exec);
  EXPECT_EQ(transport.last_request().code, coap_code(CoapCode::kPost));
  EXPECT_EQ(transport.last_request().payload, "0='x'");

  bus::Request attributes = request(bus::RequestKind::kWriteAttributes, Path(3313, 0, 5702));
  attributes.attributes.pmin = 1;
  attributes.attributes.gt = 2.5;
  perform(attributes);
  EXPECT_EQ(transport.last_request().uri_queries(),
            (std::vector<std::string_view>{"pmin=1", "gt=2.5"}));

  perform(request(bus::RequestKind::kDelete, Path(3313, 1)));
  EXPECT_EQ(transport.last_request().code, coap_code(CoapCode::kDelete));
  perform(request(bus::RequestKind::kDiscover, Path(3313)));
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept),
            static_cast<uint32_t>(ContentFormat::kLinkFormat));
}

TEST_F(DeviceManagerTest, FormatsTheDeviceDidNotAnnounceAreNotAskedFor) {
  // dev-1 announced ct="110 11542": SenML CBOR and LwM2M JSON are refused
  // here, in reads, observes and writes alike, and nothing is sent.
  bus::Request cbor_read = request(bus::RequestKind::kRead, Path(3313, 0));
  cbor_read.content_format = ContentFormat::kSenmlCbor;
  bus::Request json_observe = request(bus::RequestKind::kObserve, Path(3313, 0));
  json_observe.content_format = ContentFormat::kLwm2mJson;
  bus::Request cbor_write = request(bus::RequestKind::kWrite, Path(3, 0, 14));
  cbor_write.node = bus::single_value_node(cbor_write.path, boost::json::value("+02:00"));
  cbor_write.content_format = ContentFormat::kSenmlCbor;
  for (const bus::Request* r : {&cbor_read, &json_observe, &cbor_write}) {
    const bus::Reply refused = reply(perform(*r));
    EXPECT_EQ(refused.type, bus::ReplyType::kErr);
    EXPECT_EQ(refused.ticket, "t-1");
  }
  EXPECT_EQ(reply(replies[0]).body.at("errorMessage"),
            "device dev-1 does not support content format SENML_CBOR (112; it announced "
            "ct=110 11542)");
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(manager.observation_count(), 0u);
  // LwM2M CBOR (11544) follows the same rule.
  bus::Request lwm2m_cbor_read = request(bus::RequestKind::kRead, Path(3313, 0));
  lwm2m_cbor_read.content_format = ContentFormat::kLwm2mCbor;
  EXPECT_EQ(reply(perform(lwm2m_cbor_read)).body.at("errorMessage"),
            "device dev-1 does not support content format LWM2M_CBOR (11544; it announced "
            "ct=110 11542)");
  EXPECT_TRUE(transport.sent.empty());

  // What it announced, TLV's old number, and text, which every device takes, go out.
  for (ContentFormat f : {ContentFormat::kSenmlJson, ContentFormat::kTlv, ContentFormat::kOldTlv,
                          ContentFormat::kText}) {
    bus::Request r = request(bus::RequestKind::kRead, Path(3313, 0, 5702));
    r.content_format = f;
    perform(r);
    EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept),
              static_cast<uint32_t>(f));
  }
  EXPECT_EQ(transport.sent.size(), 4u);
}

TEST_F(DeviceManagerTest, TheDefaultFormatIsOneTheDeviceAnnounced) {
  auto read_from = [&](const std::string& endpoint, const std::string& lwm2m_version,
                       std::vector<lwm2m::LinkAttribute> root_attributes,
                       std::optional<ContentFormat> format = std::nullopt) {
    store::Registration reg;
    reg.endpoint = endpoint;
    reg.reg_id = "R-" + endpoint;
    reg.lwm2m_version = lwm2m_version;
    reg.peer = {"10.0.0.8", 40001};
    reg.object_links = {{"/", std::move(root_attributes)}, {"/3313/0", {}}};
    devices.put(LocalDevice{reg, PeerInfo{reg.peer, false, ""}});
    bus::Request r = request(bus::RequestKind::kRead, Path(3313, 0));
    r.endpoint = endpoint;
    r.content_format = format;
    std::string answer;
    manager.perform(*devices.by_endpoint(endpoint), r,
                    [&answer](std::string reply) { answer = std::move(reply); });
    settle();
    return answer;
  };
  const size_t before = transport.sent.size();
  read_from("cbor-only", "1.1", {{"rt", "oma.lwm2m"}, {"ct", "112"}});
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept), 112u);
  read_from("json-cbor", "1.1", {{"rt", "oma.lwm2m"}, {"ct", "112 110"}});
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept), 110u);
  read_from("no-ct", "1.1", {{"rt", "oma.lwm2m"}});
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept), 11542u);
  read_from("lwm2m-cbor-only", "1.1", {{"rt", "oma.lwm2m"}, {"ct", "11544"}});
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept), 11544u);
  read_from("lwm2m-cbor", "1.1", {{"rt", "oma.lwm2m"}, {"ct", "11544"}}, ContentFormat::kLwm2mCbor);
  EXPECT_EQ(transport.last_request().uint_option(lwm2m::coap_option::kAccept), 11544u);
  // Without a ct list anything goes; an LwM2M 1.0 device takes TLV unannounced.
  read_from("no-ct-cbor", "1.1", {{"rt", "oma.lwm2m"}}, ContentFormat::kSenmlCbor);
  read_from("v10-tlv", "1.0", {{"rt", "oma.lwm2m"}, {"ct", "11543"}}, ContentFormat::kTlv);
  EXPECT_EQ(transport.sent.size(), before + 7);
  // But a 1.1 device that lists no TLV does not get it, nor a 1.0 device SenML.
  EXPECT_EQ(reply(read_from("cbor-only-tlv", "1.1", {{"rt", "oma.lwm2m"}, {"ct", "112"}},
                            ContentFormat::kTlv))
                .type,
            bus::ReplyType::kErr);
  EXPECT_EQ(reply(read_from("v10-senml", "1.0", {{"rt", "oma.lwm2m"}, {"ct", "11543"}},
                            ContentFormat::kSenmlJson))
                .type,
            bus::ReplyType::kErr);
  EXPECT_EQ(transport.sent.size(), before + 7);
}

TEST_F(DeviceManagerTest, FailuresOfTheServerSideAreErrs) {
  // Nothing to send: an err, answered later, never inside perform().
  bool inside = true;
  std::string early;
  bus::Request no_node = request(bus::RequestKind::kWrite, Path(3, 0, 14));
  manager.perform(device(), no_node,
                  [&](std::string reply) { early = (inside ? "inside:" : "") + reply; });
  inside = false;
  settle();
  EXPECT_EQ(reply(early).type, bus::ReplyType::kErr);
  EXPECT_TRUE(transport.sent.empty());

  perform(request(bus::RequestKind::kRead, Path(3313, 0)));
  transport.answer(make_error(ErrorKind::kTimeout, "no response within 5000 ms"));
  settle();
  bus::Reply timeout = reply(replies.back());
  EXPECT_EQ(timeout.type, bus::ReplyType::kErr);
  EXPECT_EQ(timeout.body.at("errorMessage"), "device dev-1: no response within 5000 ms");
  EXPECT_EQ(ctx.counters.device_timeouts, 1u);

  perform(request(bus::RequestKind::kRead, Path(3313, 0)));
  CoapMessage garbage;
  garbage.code = coap_code(CoapCode::kContent);
  garbage.add_uint_option(lwm2m::coap_option::kContentFormat,
                          static_cast<uint32_t>(ContentFormat::kTlv));
  garbage.payload = "\xff\xff";
  transport.answer(garbage);
  settle();
  bus::Reply undecodable = reply(replies.back());
  EXPECT_EQ(undecodable.type, bus::ReplyType::kErr);
  EXPECT_NE(std::string(undecodable.body.at("errorMessage").as_string()).find("cannot decode"),
            std::string::npos);

  // A device error code is the device's answer: a rep, not an err.
  perform(request(bus::RequestKind::kRead, Path(3313, 9)));
  CoapMessage not_found;
  not_found.code = coap_code(CoapCode::kNotFound);
  transport.answer(not_found);
  settle();
  EXPECT_EQ(reply(replies.back()).body.at("code"), "NOT_FOUND");
}

TEST_F(DeviceManagerTest, ObservationsForwardNotificationsUntilCancelled) {
  perform(request(bus::RequestKind::kObserve, Path(3313, 0, 5702), "obs-1"));
  const CoapMessage observe = transport.last_request();
  EXPECT_EQ(observe.observe(), 0u);
  CoapMessage accepted = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 1.0));
  accepted.add_uint_option(lwm2m::coap_option::kObserve, 5);
  transport.answer(accepted);
  settle();
  bus::Reply observed = reply(replies.back());
  EXPECT_EQ(observed.body.at("observe"), true);
  EXPECT_EQ(manager.observation_count(), 1u);

  CoapMessage n = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 2.0));
  n.token = observe.token;
  EXPECT_TRUE(manager.on_notification(device().peer, n));
  settle();
  ASSERT_FALSE(on("LWM2M_RESP").empty());
  const bus::Reply forwarded = reply(on("LWM2M_RESP").back());
  EXPECT_EQ(forwarded.ticket, "obs-1");
  EXPECT_EQ(forwarded.body.at("notification"), true);
  EXPECT_EQ(forwarded.body.at("content").at("value").to_number<double>(), 2.0);
  // A token this node does not hold is looked up in the store first (a
  // dead node's observation would be there), acknowledged meanwhile; once
  // the store said it is nobody's, it is reset.
  n.token = "unknown";
  EXPECT_TRUE(manager.on_notification(device().peer, n));
  settle();
  EXPECT_FALSE(manager.on_notification(device().peer, n));  // the transport resets it

  bus::Request cancel = request(bus::RequestKind::kCancelObserve, Path(3313, 0, 5702), "c-1");
  cancel.observe_ticket = "obs-1";
  perform(cancel);
  EXPECT_EQ(transport.last_request().observe(), 1u);
  EXPECT_EQ(transport.last_request().token, observe.token);
  EXPECT_EQ(manager.observation_count(), 0u);
  transport.answer(make_error(ErrorKind::kTimeout, "silent"));
  settle();
  const bus::Reply cancelled = reply(replies.back());
  EXPECT_EQ(cancelled.body.at("code"), "CANCELLED");
  EXPECT_TRUE(cancelled.body.at("coapCode").is_null());

  // Nothing left to cancel: an err, and nothing sent to the device.
  const size_t sent = transport.sent.size();
  EXPECT_EQ(reply(perform(cancel)).type, bus::ReplyType::kErr);
  EXPECT_EQ(transport.sent.size(), sent);
}

// The node that held an observation died; the load balancer now sends the
// device's notifications here. The observation is in the store: this node
// takes the device and the observation over, forwards the notification with
// the observation's ticket, and says on the bus that it owns the device now.
// The device's other observation in the store is asked for again at once.
TEST_F(DeviceManagerTest, ADeadNodesObservationIsTakenOverFromTheStore) {
  store::Registration reg;
  reg.endpoint = "dev-2";
  reg.reg_id = "R2";
  reg.peer = {"10.0.0.8", 40001};
  reg.owner = "node-2";
  reg.last_update_ms = now_ms - 5'000;
  registrations.add(reg, [](Result<std::optional<store::Registration>>) {});
  const std::string token("\x0a\x0b\x0c", 3);
  observations.add(store::Observation{"0a0b0c", "dev-2", "R2", Path(3313, 0, 5702),
                                      ContentFormat::kTlv, "obs-9", 3},
                   [](Result<bool>) {});
  observations.add(store::Observation{"0d", "dev-2", "R2", Path(3313, 0, 5703), ContentFormat::kTlv,
                                      "obs-10", 3},
                   [](Result<bool>) {});
  settle();

  const PeerInfo from{reg.peer, false, ""};
  CoapMessage n = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 7.0));
  n.token = token;
  EXPECT_TRUE(manager.on_notification(from, n));  // acknowledged while looked up
  settle();
  ASSERT_FALSE(on("LWM2M_RESP").empty());
  const bus::Reply forwarded = reply(on("LWM2M_RESP").back());
  EXPECT_EQ(forwarded.ticket, "obs-9");
  EXPECT_EQ(forwarded.body.at("content").at("value").to_number<double>(), 7.0);
  ASSERT_NE(devices.by_endpoint("dev-2"), nullptr);
  EXPECT_EQ(devices.by_endpoint("dev-2")->registration.owner, "node-1");
  EXPECT_EQ(devices.by_endpoint("dev-2")->registration.last_update_ms, reg.last_update_ms);
  std::optional<std::string> owner;
  registrations.owner_of("dev-2", [&](Result<std::optional<std::string>> r) {
    if (r) owner = *r;
  });
  settle();
  EXPECT_EQ(owner, "node-1");
  ASSERT_EQ(on("LESHAN_REG_UPD").size(), 1u);
  EXPECT_EQ(ctx.counters.devices_taken_over, 1u);
  EXPECT_EQ(ctx.counters.observations_adopted, 1u);
  ASSERT_EQ(transport.sent.size(), 1u);  // the other observation, asked for again
  EXPECT_EQ(transport.last_request().token, std::string("\x0d", 1));
  EXPECT_EQ(transport.last_request().uri_path(), "/3313/0/5703");
  EXPECT_EQ(transport.last_request().observe(), 0u);
  EXPECT_EQ(transport.sent.back().peer.address, reg.peer);

  // From now on its notifications are forwarded at once.
  EXPECT_EQ(manager.observation_count(), 2u);
  EXPECT_TRUE(manager.on_notification(from, n));
  settle();
  EXPECT_EQ(on("LWM2M_RESP").size(), 2u);
}

// NAT rebinding: the device's notifications come from a new address. On
// its own node, requests follow it there (memory and store); on another
// node, the observation is found by its token alone (no registration has
// the new address) and the device taken over at its new address.
TEST_F(DeviceManagerTest, NotificationsFromANewAddressMoveTheDeviceThere) {
  registrations.add(device().registration, [](Result<std::optional<store::Registration>>) {});
  const std::string token = observe_accepted("obs-1");

  const PeerInfo rebound{{"10.0.0.7", 41234}, false, ""};
  CoapMessage n = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 2.0));
  n.token = token;
  EXPECT_TRUE(manager.on_notification(rebound, n));
  settle();
  EXPECT_EQ(device().peer.address, rebound.address);
  EXPECT_EQ(ctx.counters.addresses_followed, 1u);
  std::optional<store::Registration> stored;
  registrations.get_by_address(rebound.address, [&](Result<std::optional<store::Registration>> r) {
    if (r) stored = *r;
  });
  settle();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->endpoint, "dev-1");
  perform(request(bus::RequestKind::kRead, Path(3313, 0, 5702), "read-1"));
  EXPECT_EQ(transport.sent.back().peer.address, rebound.address);

  // Another node (a manager of its own, which holds nothing) hears the
  // device from yet another address.
  devices.erase("dev-1");
  DeviceManager other(ctx);
  const PeerInfo again{{"10.0.0.7", 45000}, false, ""};
  EXPECT_TRUE(other.on_notification(again, n));
  settle();
  ASSERT_NE(devices.by_endpoint("dev-1"), nullptr);
  EXPECT_EQ(devices.by_endpoint("dev-1")->peer.address, again.address);
  EXPECT_EQ(ctx.counters.observations_adopted, 1u);
  const bus::Reply forwarded = reply(on("LWM2M_RESP").back());
  EXPECT_EQ(forwarded.ticket, "obs-1");
}

// A device taken over by its Update: the observations the store holds for
// it are asked for again with their tokens; the answer goes out as a
// notification under the observation's ticket; one the device refuses
// leaves the store.
TEST_F(DeviceManagerTest, ObservationsInTheStoreAreAskedForAgainAfterATakeover) {
  observations.add(store::Observation{"0d0e", "dev-1", "R-old", Path(3313, 0, 5702),
                                      ContentFormat::kTlv, "obs-7", 1},
                   [](Result<bool>) {});
  observations.add(store::Observation{"0f", "dev-1", "R-old", Path(3313, 0, 5703),
                                      ContentFormat::kTlv, "obs-8", 1},
                   [](Result<bool>) {});
  settle();
  manager.reestablish_observations(device());
  settle();
  ASSERT_EQ(transport.sent.size(), 2u);
  std::map<std::string, size_t> by_token;
  for (size_t i = 0; i < transport.sent.size(); ++i) by_token[transport.sent[i].request.token] = i;
  ASSERT_EQ(by_token.count(std::string("\x0d\x0e", 2)), 1u);
  const CoapMessage& again = transport.sent[by_token[std::string("\x0d\x0e", 2)]].request;
  EXPECT_EQ(again.observe(), 0u);
  EXPECT_EQ(again.uri_path(), "/3313/0/5702");

  // Answer in the order sent: 5702 accepted, 5703 refused.
  for (size_t i = 0; i < 2; ++i) {
    if (transport.sent[i].request.token == std::string("\x0f", 1)) {
      CoapMessage refused;
      refused.code = coap_code(CoapCode::kNotFound);
      transport.answer(refused);
    } else {
      CoapMessage accepted = content(Path(3313, 0, 5702), lwm2m::Resource::single(5702, 4.0));
      accepted.add_uint_option(lwm2m::coap_option::kObserve, 9);
      transport.answer(accepted);
    }
  }
  settle();
  EXPECT_EQ(manager.observation_count(), 1u);
  EXPECT_EQ(ctx.counters.observations_reestablished, 1u);
  ASSERT_FALSE(on("LWM2M_RESP").empty());
  const bus::Reply forwarded = reply(on("LWM2M_RESP").back());
  EXPECT_EQ(forwarded.ticket, "obs-7");
  EXPECT_EQ(forwarded.body.at("content").at("value").to_number<double>(), 4.0);
  std::optional<size_t> left;
  observations.list("dev-1", [&](Result<std::vector<store::Observation>> r) {
    if (r) left = r->size();
  });
  settle();
  EXPECT_EQ(left, 1u);  // the refused one left the store
}

// A device that registered again (it restarted, or fell back from an
// Update to a Register on another node) is asked again for every
// observation the store holds, those this node held in memory included,
// under their tokens and tickets.
TEST_F(DeviceManagerTest, ARegisterAgainRenewsEveryStoredObservation) {
  const std::string token = observe_accepted("obs-1");
  ASSERT_EQ(manager.observation_count(), 1u);
  observations.add(store::Observation{"0f", "dev-1", "R-old", Path(3313, 0, 5703),
                                      ContentFormat::kTlv, "obs-2", 1},
                   [](Result<bool>) {});  // taken over from another node's registration
  settle();
  const size_t before = transport.sent.size();

  manager.renew_observations(device());
  settle();
  ASSERT_EQ(transport.sent.size(), before + 2);
  std::set<std::string> tokens;
  for (size_t i = before; i < transport.sent.size(); ++i) {
    EXPECT_EQ(transport.sent[i].request.observe(), 0u);
    tokens.insert(transport.sent[i].request.token);
  }
  EXPECT_EQ(tokens, (std::set<std::string>{token, std::string("\x0f", 1)}));
  for (size_t i = before; i < before + 2; ++i) {
    const bool first = transport.sent[i].request.token == token;
    const double value = first ? 3.0 : 7.0;
    CoapMessage again = content(first ? Path(3313, 0, 5702) : Path(3313, 0, 5703),
                                lwm2m::Resource::single(first ? 5702 : 5703, value));
    again.add_uint_option(lwm2m::coap_option::kObserve, 5);
    transport.answer(again);
  }
  settle();
  EXPECT_EQ(manager.observation_count(), 2u);
  EXPECT_EQ(ctx.counters.observations_reestablished, 2u);
  std::set<std::string> tickets;
  for (const std::string& text : on("LWM2M_RESP")) tickets.insert(reply(text).ticket);
  EXPECT_EQ(tickets, (std::set<std::string>{"obs-1", "obs-2"}));
}

TEST_F(DeviceManagerTest, AnErrorNotificationEndsTheObservation) {
  perform(request(bus::RequestKind::kObserve, Path(3313, 0), "obs-2"));
  const std::string token = transport.last_request().token;
  CoapMessage accepted =
      content(Path(3313, 0), lwm2m::ObjectInstance{0, {lwm2m::Resource::single(5702, 1.0)}});
  accepted.add_uint_option(lwm2m::coap_option::kObserve, 1);
  transport.answer(accepted);
  settle();
  ASSERT_EQ(manager.observation_count(), 1u);
  CoapMessage gone;
  gone.code = coap_code(CoapCode::kNotFound);
  gone.token = token;
  EXPECT_TRUE(manager.on_notification(device().peer, gone));
  EXPECT_EQ(manager.observation_count(), 0u);
  settle();
  EXPECT_EQ(reply(on("LWM2M_RESP").back()).body.at("code"), "NOT_FOUND");
}

// ---- Composite operations ----------------------------------------------------------------

// Makes the fixture's device an LwM2M 1.1 client (composite operations
// need one).
void make_1_1(LocalDevices& devices) {
  LocalDevice d = *devices.by_endpoint("dev-1");
  d.registration.lwm2m_version = "1.1";
  devices.put(d);
}

// The device's 2.05 answer to a composite request, a SenML JSON pack.
CoapMessage senml_content(std::string pack, std::optional<uint32_t> observe = std::nullopt) {
  CoapMessage m;
  m.code = coap_code(CoapCode::kContent);
  m.add_uint_option(lwm2m::coap_option::kContentFormat,
                    static_cast<uint32_t>(ContentFormat::kSenmlJson));
  if (observe) m.add_uint_option(lwm2m::coap_option::kObserve, *observe);
  m.payload = std::move(pack);
  return m;
}

TEST_F(DeviceManagerTest, CompositeRequestsAreFetchAndIpatchOnTheRoot) {
  make_1_1(devices);
  bus::Request read = request(bus::RequestKind::kReadComposite, Path(), "rc");
  read.paths = {Path(3, 0, 9), Path(3313, 0), Path(3303, 0)};
  perform(read);
  ASSERT_EQ(transport.sent.size(), 1u);
  const CoapMessage fetch = transport.last_request();
  EXPECT_EQ(fetch.code, coap_code(CoapCode::kFetch));
  EXPECT_TRUE(fetch.uri_path_segments().empty());
  EXPECT_EQ(fetch.content_format(), 110u);
  EXPECT_EQ(fetch.uint_option(lwm2m::coap_option::kAccept), 110u);
  EXPECT_FALSE(fetch.observe().has_value());
  EXPECT_EQ(fetch.payload, R"([{"n":"/3/0/9"},{"n":"/3313/0"},{"n":"/3303/0"}])");
  transport.answer(
      senml_content(R"([{"n":"/3/0/9","v":87},{"bn":"/3313/0/","n":"5702","v":1.5}])"));
  settle();
  const bus::Reply got = reply(replies.back());
  ASSERT_EQ(got.type, bus::ReplyType::kRep) << replies.back();
  EXPECT_EQ(got.body.at("code"), "CONTENT");
  EXPECT_EQ(got.body.at("contentFormat"), "SENML_JSON");
  const auto& content = got.body.at("content").as_object();
  EXPECT_EQ(content.at("/3/0/9").at("value").to_number<int>(), 87);
  EXPECT_EQ(content.at("/3313/0").at("resources").at(0).at("id").to_number<int>(), 5702);
  EXPECT_TRUE(content.at("/3303/0").is_null());  // the device sent nothing for it

  bus::Request write = request(bus::RequestKind::kWriteComposite, Path(), "wc");
  write.node = boost::json::parse(
      R"({"/3/0/15":{"id":15,"value":"UTC"},"/3/0/14":{"id":14,"value":"+02"}})");
  perform(write);
  const CoapMessage ipatch = transport.last_request();
  EXPECT_EQ(ipatch.code, coap_code(CoapCode::kIpatch));
  EXPECT_TRUE(ipatch.uri_path_segments().empty());
  EXPECT_EQ(ipatch.content_format(), 110u);
  EXPECT_EQ(ipatch.payload, R"([{"n":"/3/0/15","vs":"UTC"},{"n":"/3/0/14","vs":"+02"}])");
  CoapMessage changed;
  changed.code = coap_code(CoapCode::kChanged);
  transport.answer(changed);
  settle();
  EXPECT_EQ(replies.back(), R"({"ticket":"wc","rep":{"code":"CHANGED","coapCode":"2.04"}})");

  // A format the device did not announce (ct="110 11542"), or no SenML at
  // all: an err, nothing sent.
  const size_t sent = transport.sent.size();
  read.content_format = ContentFormat::kSenmlCbor;
  const bus::Reply cbor = reply(perform(read));
  EXPECT_EQ(cbor.type, bus::ReplyType::kErr);
  EXPECT_NE(cbor.body.at("errorMessage").as_string().find("SENML_CBOR"), std::string::npos);
  read.content_format = ContentFormat::kTlv;
  EXPECT_EQ(reply(perform(read)).type, bus::ReplyType::kErr);
  EXPECT_EQ(transport.sent.size(), sent);
}

TEST_F(DeviceManagerTest, Lwm2m10DevicesGetNoCompositeRequest) {
  store::Registration reg = device().registration;
  reg.endpoint = "old-1";
  reg.lwm2m_version = "1.0";
  reg.object_links = {{"/3/0", {}}};
  devices.put(LocalDevice{reg, PeerInfo{reg.peer, false, ""}});
  bus::Request read = request(bus::RequestKind::kReadComposite, Path(), "rc");
  read.endpoint = "old-1";
  read.paths = {Path(3, 0, 9)};
  std::string answer;
  manager.perform(*devices.by_endpoint("old-1"), read, [&](std::string r) { answer = r; });
  settle();
  EXPECT_NE(answer.find("LwM2M 1.0"), std::string::npos) << answer;
  EXPECT_TRUE(transport.sent.empty());
}

TEST_F(DeviceManagerTest, ACompositeObservationNotifiesWithItsPathsUntilCancelled) {
  make_1_1(devices);
  bus::Request observe = request(bus::RequestKind::kObserveComposite, Path(), "oc");
  observe.paths = {Path(3, 0, 15), Path(3313, 0, 5702)};
  perform(observe);
  const CoapMessage fetch = transport.last_request();
  EXPECT_EQ(fetch.code, coap_code(CoapCode::kFetch));
  EXPECT_EQ(fetch.observe(), 0u);
  EXPECT_EQ(fetch.payload, R"([{"n":"/3/0/15"},{"n":"/3313/0/5702"}])");
  transport.answer(
      senml_content(R"([{"n":"/3/0/15","vs":"UTC"},{"n":"/3313/0/5702","v":1.0}])", 4));
  settle();
  const bus::Reply observed = reply(replies.back());
  EXPECT_EQ(observed.body.at("observe"), true);
  EXPECT_EQ(observed.body.at("content").at("/3/0/15").at("value"), "UTC");
  EXPECT_EQ(manager.observation_count(), 1u);
  std::vector<store::Observation> stored;
  observations.list("dev-1", [&](Result<std::vector<store::Observation>> r) {
    if (r) stored = *r;
  });
  settle();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].path.is_root());
  EXPECT_EQ(stored[0].paths, observe.paths);
  EXPECT_EQ(stored[0].content_format, ContentFormat::kSenmlJson);

  CoapMessage n = senml_content(R"([{"n":"/3/0/15","vs":"UTC"},{"n":"/3313/0/5702","v":2.5}])", 5);
  n.token = fetch.token;
  EXPECT_TRUE(manager.on_notification(device().peer, n));
  settle();
  ASSERT_FALSE(on("LWM2M_RESP").empty());
  const std::string text = on("LWM2M_RESP").back();
  EXPECT_NE(text.find(R"(,"notification":true,"ep":"dev-1","paths":["/3/0/15","/3313/0/5702"]})"),
            std::string::npos)
      << text;
  const bus::Reply forwarded = reply(text);
  EXPECT_EQ(forwarded.ticket, "oc");
  EXPECT_EQ(forwarded.body.at("content").at("/3313/0/5702").at("value").to_number<double>(), 2.5);

  // Cancelled by its paths, in any order: the FETCH again with Observe 1.
  bus::Request cancel = request(bus::RequestKind::kCancelObserveComposite, Path(), "cc");
  cancel.paths = {Path(3313, 0, 5702), Path(3, 0, 15)};
  perform(cancel);
  EXPECT_EQ(transport.last_request().code, coap_code(CoapCode::kFetch));
  EXPECT_EQ(transport.last_request().observe(), 1u);
  EXPECT_EQ(transport.last_request().token, fetch.token);
  EXPECT_EQ(transport.last_request().payload, fetch.payload);
  EXPECT_EQ(manager.observation_count(), 0u);
  transport.answer(senml_content(R"([{"n":"/3/0/15","vs":"UTC"}])"));
  settle();
  const bus::Reply cancelled = reply(replies.back());
  EXPECT_EQ(cancelled.body.at("code"), "CANCELLED");
  EXPECT_EQ(cancelled.body.at("observeTicket"), "oc");
  EXPECT_EQ(reply(perform(cancel)).type, bus::ReplyType::kErr);  // nothing left
}

}  // namespace
}  // namespace fogm2m::server
