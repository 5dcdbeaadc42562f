// The Device Management operations of the emulated device (device.cc), through
// its requests: Read, Discover, Write, Execute, Create, Delete.
#include "emulated_clients/device.h"

#include <gtest/gtest.h>

#include "tests/emulated_clients/device_test_util.h"

namespace fogm2m::emulated {
namespace {

using namespace testing;

TEST(DeviceRead, SingleResourceInEveryFormat) {
  Device d = make_device();
  for (int i = 0; i < 10; ++i) d.sample();
  const Value x = local_value(d, "/3313/0/5702");
  ASSERT_TRUE(x.is<double>());

  auto text = d.handle_request(get("/3313/0/5702", ContentFormat::kText), T0);
  EXPECT_EQ(text.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(text.type, CoapType::kAck);
  EXPECT_EQ(text.message_id, 0x1234);
  EXPECT_EQ(text.token, "tk");
  EXPECT_EQ(text.content_format(), 0u);
  EXPECT_DOUBLE_EQ(std::stod(text.payload), x.as<double>());

  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3313/0/5702", f), T0);
    ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
    EXPECT_EQ(resp.content_format(), static_cast<uint32_t>(f));
    EXPECT_EQ(payload_node(resp, "/3313/0/5702"), Node(Resource::single(5702, x)));
  }
  // No Accept: TLV; and a float that fits float32 travels in 4 bytes.
  auto tlv = d.handle_request(get("/3313/0/5702"), T0);
  EXPECT_EQ(tlv.content_format(), static_cast<uint32_t>(ContentFormat::kTlv));
  EXPECT_EQ(tlv.payload.size(), 1u + 2u + 4u);  // type, 16-bit id, value
  // A float is not opaque.
  EXPECT_EQ(d.handle_request(get("/3313/0/5702", ContentFormat::kOpaque), T0).code,
            coap_code(CoapCode::kNotAcceptable));
  // Strings in text.
  auto units = d.handle_request(get("/3313/0/5701", ContentFormat::kText), T0);
  EXPECT_EQ(units.payload, "m/s2");
}

TEST(DeviceRead, DeviceInstanceInEveryFormat) {
  Device d = make_device();
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3/0", f), T0 + 2500ms);
    ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
    Node node = payload_node(resp, "/3/0");
    ASSERT_TRUE(std::holds_alternative<ObjectInstance>(node));
    const auto& oi = std::get<ObjectInstance>(node);
    EXPECT_EQ(find_resource(oi, 0)->value, Value("fogm2m"));
    EXPECT_EQ(find_resource(oi, 1)->value, Value("accelerometer-emulator"));
    EXPECT_EQ(find_resource(oi, 2)->value, Value("dev-001"));
    EXPECT_EQ(find_resource(oi, 3)->value, Value("0.1.0"));
    EXPECT_EQ(find_resource(oi, 4), nullptr);  // executable: not read
    const Resource* voltage = find_resource(oi, 7);
    ASSERT_NE(voltage, nullptr);
    EXPECT_TRUE(voltage->multiple);
    ASSERT_EQ(voltage->instances.size(), 2u);
    EXPECT_EQ(voltage->instances[1].value, Value(int64_t{5000}));
    EXPECT_EQ(find_resource(oi, 9)->value, Value(int64_t{100}));
    EXPECT_EQ(find_resource(oi, 13)->value, Value(lwm2m::Time{kUnixAtT0 + 2}));
    EXPECT_EQ(find_resource(oi, 16)->value, Value("U"));
  }
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kText), T0).code,
            coap_code(CoapCode::kNotAcceptable));
}

TEST(DeviceRead, ObjectAndResourceInstance) {
  Device d = make_device();
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3313", f), T0);
    ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
    Node node = payload_node(resp, "/3313");
    ASSERT_TRUE(std::holds_alternative<Object>(node));
    const auto& o = std::get<Object>(node);
    ASSERT_EQ(o.instances.size(), 1u);
    EXPECT_EQ(o.instances[0].find(5604)->value, Value(20.0));
    EXPECT_EQ(o.instances[0].find(5603)->value, Value(-20.0));

    auto ri = d.handle_request(get("/3/0/7/1", f), T0);
    ASSERT_EQ(ri.code, coap_code(CoapCode::kContent));
    EXPECT_EQ(payload_node(ri, "/3/0/7/1"), Node(ResourceInstance{1, Value(int64_t{5000})}));
  }
  auto text = d.handle_request(get("/3/0/7/0", ContentFormat::kText), T0);
  EXPECT_EQ(text.payload, "3800");
  // A multiple resource has no text form.
  EXPECT_EQ(d.handle_request(get("/3/0/7", ContentFormat::kText), T0).code,
            coap_code(CoapCode::kNotAcceptable));
}

TEST(DeviceRead, Errors) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  EXPECT_EQ(code_of(get("/4/0")), coap_code(CoapCode::kNotFound));      // object not present
  EXPECT_EQ(code_of(get("/3313/1")), coap_code(CoapCode::kNotFound));   // instance absent
  EXPECT_EQ(code_of(get("/3/0/99")), coap_code(CoapCode::kNotFound));   // resource absent
  EXPECT_EQ(code_of(get("/3/0/7/5")), coap_code(CoapCode::kNotFound));  // resource instance absent
  EXPECT_EQ(code_of(get("/3/0/0/0")), coap_code(CoapCode::kNotFound));  // single resource
  EXPECT_EQ(code_of(get("/0/0")), coap_code(CoapCode::kNotFound));      // Security is hidden
  EXPECT_EQ(code_of(get("/0/0/0")), coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(get("/rd/abc")), coap_code(CoapCode::kNotFound));         // not an LwM2M path
  EXPECT_EQ(code_of(get("/3/0/4")), coap_code(CoapCode::kMethodNotAllowed));  // executable
  EXPECT_EQ(code_of(get("/")), coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(get("/3/0", ContentFormat::kCbor)), coap_code(CoapCode::kNotAcceptable));
  CoapMessage odd = get("/3/0");
  odd.add_uint_option(opt::kAccept, 9999);
  EXPECT_EQ(code_of(odd), coap_code(CoapCode::kNotAcceptable));
  CoapMessage fetch = request(CoapCode::kFetch, "/3/0");
  EXPECT_EQ(code_of(fetch), coap_code(CoapCode::kMethodNotAllowed));
  // Error responses carry no payload or Content-Format.
  auto resp = d.handle_request(get("/4/0"), T0);
  EXPECT_TRUE(resp.payload.empty());
  EXPECT_FALSE(resp.has_option(opt::kContentFormat));
  EXPECT_EQ(d.counters().requests_answered, 14u);
  EXPECT_EQ(d.counters().error_responses, 14u);
}

TEST(DeviceRead, SecurityObjectHeldLocally) {
  auto c = config();
  c->server_uri = "coap://10.0.0.1:5684";
  Device d(c, DeviceIdentity{"dev-psk", 7, "id-1", "secret"});
  EXPECT_EQ(local_value(d, "/0/0/0"), Value("coap://10.0.0.1:5684"));
  EXPECT_EQ(local_value(d, "/0/0/1"), Value(false));
  EXPECT_EQ(local_value(d, "/0/0/2"), Value(int64_t{0}));  // PSK
  EXPECT_EQ(local_value(d, "/0/0/3"), Value(lwm2m::Opaque{'i', 'd', '-', '1'}));
  EXPECT_EQ(local_value(d, "/0/0/10"), Value(int64_t{1}));
  Device nosec = make_device();
  EXPECT_EQ(local_value(nosec, "/0/0/2"), Value(int64_t{3}));  // NoSec
}

TEST(DeviceRead, NonRequestGetsNonResponse) {
  Device d = make_device();
  CoapMessage m = get("/3/0/0", ContentFormat::kText);
  m.type = CoapType::kNon;
  auto resp = d.handle_request(m, T0);
  EXPECT_EQ(resp.type, CoapType::kNon);
  EXPECT_EQ(resp.message_id, 0);
  EXPECT_EQ(resp.payload, "fogm2m");
}

// SenML CBOR (112): an array of maps with integer labels, the base name
// (-2) first; it decodes back to what the device holds.
TEST(DeviceRead, SenmlCborPayload) {
  Device d = make_device();
  d.sample();
  auto resp = d.handle_request(get("/3313/0", ContentFormat::kSenmlCbor), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(resp.content_format(), 112u);
  ASSERT_GE(resp.payload.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(resp.payload[0]) >> 5, 4);  // major type 4: an array
  EXPECT_EQ(static_cast<uint8_t>(resp.payload[1]) >> 5, 5);  // of maps
  EXPECT_EQ(static_cast<uint8_t>(resp.payload[2]), 0x21);    // label -2, "bn"
  EXPECT_EQ(payload_node(resp, "/3313/0"), Node(*d.read_local(Path(3313, 0), T0)));
}

// LwM2M CBOR (11544): nested maps keyed by path components from the object
// down; it decodes back to what the device holds.
TEST(DeviceRead, Lwm2mCborPayload) {
  Device d = make_device();
  d.sample();
  auto resp = d.handle_request(get("/3313/0", ContentFormat::kLwm2mCbor), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(resp.content_format(), 11544u);
  ASSERT_GE(resp.payload.size(), 4u);
  EXPECT_EQ(static_cast<uint8_t>(resp.payload[0]), 0xa1);  // a map of one key:
  EXPECT_EQ(resp.payload.substr(1, 3), "\x19\x0c\xf1");    // 3313
  EXPECT_EQ(payload_node(resp, "/3313/0"), Node(*d.read_local(Path(3313, 0), T0)));
}

TEST(DeviceRead, Lwm2m10HasNoSenml) {
  auto c = config();
  c->version = Lwm2mVersion::k1_0;
  Device d = make_device(c);
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kSenmlJson), T0).code,
            coap_code(CoapCode::kNotAcceptable));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kSenmlCbor), T0).code,
            coap_code(CoapCode::kNotAcceptable));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kLwm2mCbor), T0).code,
            coap_code(CoapCode::kNotAcceptable));
  EXPECT_EQ(d.handle_request(write(CoapCode::kPut, "/1/0/1", ContentFormat::kSenmlCbor,
                                   Resource::single(1, Value(int64_t{120}))),
                             T0)
                .code,
            coap_code(CoapCode::kUnsupportedContentFormat));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kLwm2mJson), T0).code,
            coap_code(CoapCode::kContent));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kOldTlv), T0).code,
            coap_code(CoapCode::kContent));
}

// ---- Discover ---------------------------------------------------------------------------

TEST(DeviceDiscover, ObjectInstanceAndResource) {
  Device d = make_device();
  auto links = discover(d, "/3");
  ASSERT_GE(links.size(), 3u);
  EXPECT_EQ(links[0].uri, "/3");
  EXPECT_EQ(links[0].attribute("ver"), "1.1");
  EXPECT_EQ(links[1].uri, "/3/0");
  EXPECT_EQ(links[2].uri, "/3/0/0");
  EXPECT_EQ(links.size(), 2u + 13u);
  bool saw_reboot = false, saw_voltage = false;
  for (const auto& l : links) {
    if (l.uri == "/3/0/4") saw_reboot = true;
    if (l.uri == "/3/0/7") {
      saw_voltage = true;
      EXPECT_EQ(l.attribute("dim"), "2");
    }
  }
  EXPECT_TRUE(saw_reboot);
  EXPECT_TRUE(saw_voltage);

  auto accel = discover(d, "/3313/0");
  ASSERT_EQ(accel.size(), 7u);
  EXPECT_EQ(accel[0].uri, "/3313/0");
  EXPECT_EQ(accel[4].uri, "/3313/0/5702");
  EXPECT_FALSE(discover(d, "/3313")[0].has_attribute("ver"));  // IPSO object 1.0

  EXPECT_EQ(d.handle_request(get("/0", ContentFormat::kLinkFormat), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3313/4", ContentFormat::kLinkFormat), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3/0/7/0", ContentFormat::kLinkFormat), T0).code,
            coap_code(CoapCode::kBadRequest));
}

TEST(DeviceDiscover, ShowsAttributes) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_attributes("/3", {"pmin=10"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3/0", {"pmax=60"}), T0).code,
            coap_code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3/0/9", {"gt=50", "lt=20.5"}), T0).code,
            coap_code(CoapCode::kChanged));
  auto object = discover(d, "/3");
  EXPECT_EQ(object[0].attribute("pmin"), "10");
  EXPECT_EQ(object[1].attribute("pmax"), "60");
  for (const auto& l : object)
    if (l.uri == "/3/0/9") {
      EXPECT_EQ(l.attribute("gt"), "50");
      EXPECT_EQ(l.attribute("lt"), "20.5");
      EXPECT_FALSE(l.has_attribute("pmin"));  // at its own level only
    }
  // At resource level, inherited attributes too.
  auto res = discover(d, "/3/0/9");
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].attribute("pmin"), "10");
  EXPECT_EQ(res[0].attribute("pmax"), "60");
  EXPECT_EQ(res[0].attribute("gt"), "50");
}

// ---- Write ------------------------------------------------------------------------------

TEST(DeviceWrite, ResourceInEveryFormat) {
  Device d = make_device();
  auto resp = d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "Europe/Paris"), T0);
  EXPECT_EQ(resp.code, coap_code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Europe/Paris"));

  const ContentFormat formats[] = {ContentFormat::kTlv,       ContentFormat::kLwm2mJson,
                                   ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor,
                                   ContentFormat::kLwm2mCbor, ContentFormat::kText};
  int64_t lifetime = 100;
  for (ContentFormat f : formats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    ++lifetime;
    auto r = d.handle_request(
        write(CoapCode::kPut, "/1/0/1", f, Resource::single(1, Value(lifetime))), T0);
    EXPECT_EQ(r.code, coap_code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/1/0/1"), Value(lifetime));
    auto tz = d.handle_request(
        write(CoapCode::kPut, "/3/0/14", f, Resource::single(14, Value("+02:00"))), T0);
    EXPECT_EQ(tz.code, coap_code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/14"), Value("+02:00"));
  }
}

TEST(DeviceWrite, InstanceReplaceAndPartialUpdate) {
  Device d = make_device();
  ObjectInstance oi{
      0, {Resource::single(14, Value("-05:00")), Resource::single(15, Value("America/New_York"))}};
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    EXPECT_EQ(d.handle_request(write(CoapCode::kPut, "/3/0", f, oi), T0).code,
              coap_code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("America/New_York"));
    ObjectInstance part{0, {Resource::single(15, Value("Asia/Tokyo"))}};
    EXPECT_EQ(d.handle_request(write(CoapCode::kPost, "/3/0", f, part), T0).code,
              coap_code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("Asia/Tokyo"));
    EXPECT_EQ(local_value(d, "/3/0/14"), Value("-05:00"));
  }
  // One read-only resource spoils the whole write: nothing is applied.
  ObjectInstance bad{0, {Resource::single(0, Value("evil")), Resource::single(15, Value("UTC"))}};
  EXPECT_EQ(d.handle_request(write(CoapCode::kPost, "/3/0", ContentFormat::kTlv, bad), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Asia/Tokyo"));
}

TEST(DeviceWrite, CurrentTimeKeepsTicking) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/13", "1000"), T0).code,
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/13", T0), Value(lwm2m::Time{1000}));
  EXPECT_EQ(local_value(d, "/3/0/13", T0 + 5s), Value(lwm2m::Time{1005}));
}

TEST(DeviceWrite, Errors) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  // Type mismatches.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/1", "abc")), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/13", "soon")),
            coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write(CoapCode::kPut, "/1/0/1", ContentFormat::kSenmlJson,
                          Resource::single(1, Value("300")))),
            coap_code(CoapCode::kBadRequest));
  // Range checks.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/1", "0")), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/7", "X")), coap_code(CoapCode::kBadRequest));
  // Not writable / not there.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/0", "x")),
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3313/0/5702", "1.5")),
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/7/0", "1")),
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/99", "1")), coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/5/0/1", "x")), coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/0/0/0", "coap://x")),
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3", "x")), coap_code(CoapCode::kMethodNotAllowed));
  // Formats.
  CoapMessage no_format = request(CoapCode::kPut, "/3/0/15");
  no_format.payload = "UTC";
  EXPECT_EQ(code_of(no_format), coap_code(CoapCode::kBadRequest));
  CoapMessage cbor = write_text(CoapCode::kPut, "/3/0/15", "UTC");
  cbor.remove_option(opt::kContentFormat);
  cbor.add_uint_option(opt::kContentFormat, 60);
  EXPECT_EQ(code_of(cbor), coap_code(CoapCode::kUnsupportedContentFormat));
  cbor.remove_option(opt::kContentFormat);
  cbor.add_uint_option(opt::kContentFormat, 40);
  EXPECT_EQ(code_of(cbor), coap_code(CoapCode::kUnsupportedContentFormat));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0", "UTC")),
            coap_code(CoapCode::kUnsupportedContentFormat));  // text cannot carry an instance
  CoapMessage garbage = write_text(CoapCode::kPut, "/3/0", "");
  garbage.remove_option(opt::kContentFormat);
  garbage.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  garbage.payload = std::string("\xC8\x0E\x09", 3);  // length beyond the end
  EXPECT_EQ(code_of(garbage), coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Etc/UTC"));
}

// ---- Execute, Create, Delete ------------------------------------------------------------

TEST(DeviceExecute, RebootResetsAndOthersRefuse) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "Europe/Paris"), T0).code,
            coap_code(CoapCode::kChanged));
  for (int i = 0; i < 50; ++i) d.sample();
  CoapMessage reboot = request(CoapCode::kPost, "/3/0/4");
  reboot.payload = "0='now'";  // arguments are accepted and ignored
  EXPECT_EQ(d.handle_request(reboot, T0).code, coap_code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Etc/UTC"));
  EXPECT_EQ(local_value(d, "/3313/0/5702"), Value(0.0));
  EXPECT_EQ(local_value(d, "/3313/0/5704"), Value(2511.0 / 256));  // g, quantised
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3313/0/5702"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3/0/99"), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3/0/7/0"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/0/0/1"), T0).code,
            coap_code(CoapCode::kNotFound));
}

TEST(DeviceCreate, InstanceInEveryFormat) {
  Device d = make_device();
  uint16_t id = 1;
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    Object o{
        3313,
        {ObjectInstance{id,
                        {Resource::single(5603, Value(-5.0)), Resource::single(5604, Value(5.0)),
                         Resource::single(5702, Value(1.5))}}}};
    auto resp = d.handle_request(write(CoapCode::kPost, "/3313", f, o), T0);
    ASSERT_EQ(resp.code, coap_code(CoapCode::kCreated));
    EXPECT_EQ(resp.location_path(), "/3313/" + std::to_string(id));
    EXPECT_EQ(local_value(d, "/3313/" + std::to_string(id) + "/5702"), Value(1.5));
    EXPECT_EQ(local_value(d, "/3313/" + std::to_string(id) + "/5604"), Value(5.0));
    ++id;
  }
  // The walk keeps a created instance within its own range.
  for (int i = 0; i < 5000; ++i) d.sample();
  for (uint16_t rid : {5702, 5703, 5704}) {
    const double v = local_value(d, "/3313/1/" + std::to_string(rid)).as<double>();
    EXPECT_GE(v, -5.0);
    EXPECT_LE(v, 5.0);
  }
  // Existing id, bad values, wrong objects.
  Object dup{3313, {ObjectInstance{1, {}}}};
  EXPECT_EQ(d.handle_request(write(CoapCode::kPost, "/3313", ContentFormat::kTlv, dup), T0).code,
            coap_code(CoapCode::kBadRequest));
  Object inverted{
      3313,
      {ObjectInstance{9,
                      {Resource::single(5603, Value(5.0)), Resource::single(5604, Value(-5.0))}}}};
  EXPECT_EQ(
      d.handle_request(write(CoapCode::kPost, "/3313", ContentFormat::kTlv, inverted), T0).code,
      coap_code(CoapCode::kBadRequest));
  Object outside{3313, {ObjectInstance{9, {Resource::single(5702, Value(25.0))}}}};
  EXPECT_EQ(
      d.handle_request(write(CoapCode::kPost, "/3313", ContentFormat::kTlv, outside), T0).code,
      coap_code(CoapCode::kBadRequest));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/1"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/4"), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/0"), T0).code,
            coap_code(CoapCode::kNotFound));
}

TEST(DeviceCreate, WithoutInstanceIdTheDevicePicksOne) {
  Device d = make_device();
  // Empty payload: defaults.
  auto empty = d.handle_request(request(CoapCode::kPost, "/3313"), T0);
  ASSERT_EQ(empty.code, coap_code(CoapCode::kCreated));
  EXPECT_EQ(empty.location_path(), "/3313/1");
  // TLV resources with no object-instance wrapper.
  ObjectInstance oi{0, {Resource::single(5702, Value(2.0))}};
  auto bytes = lwm2m::tlv::encode(Path(3313, 0), oi);
  ASSERT_TRUE(bytes.ok());
  CoapMessage m = request(CoapCode::kPost, "/3313");
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  m.payload.assign(bytes->begin(), bytes->end());
  auto resp = d.handle_request(m, T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kCreated));
  EXPECT_EQ(resp.location_path(), "/3313/2");
  EXPECT_EQ(local_value(d, "/3313/2/5702"), Value(2.0));
}

TEST(DeviceDelete, InstancesOfAccelerometerOnly) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0).code,
            coap_code(CoapCode::kCreated));
  ASSERT_EQ(d.handle_request(write_attributes("/3313/1/5702", {"pmin=5"}), T0).code,
            coap_code(CoapCode::kChanged));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            coap_code(CoapCode::kDeleted));
  EXPECT_FALSE(d.attributes_at(Path(3313, 1, 5702)).has_value());
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3313/1"), T0).code, coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3/0"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/1/0"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/1/7"), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/0/0"), T0).code,
            coap_code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/0/5702"), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/0"), T0).code,
            coap_code(CoapCode::kDeleted));
  // No instances left: the object reads empty.
  auto resp = d.handle_request(get("/3313", ContentFormat::kSenmlJson), T0);
  EXPECT_EQ(resp.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(resp.payload, "[]");
}

// ---- Composite operations (FETCH and iPATCH on "/") ----------------------------------------

TEST(DeviceComposite, ReadCompositeInBothSenmlFormats) {
  Device d = make_device();
  d.sample();
  const std::vector<Path> paths{Path(3, 0, 9), Path(3313, 0)};
  for (ContentFormat f : {ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor}) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(fetch(paths, f), T0);
    ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
    EXPECT_EQ(resp.content_format(), static_cast<uint32_t>(f));
    EXPECT_FALSE(resp.observe().has_value());
    auto nodes = composite_nodes(resp, paths);
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0].path, Path(3, 0, 9));
    EXPECT_EQ(nodes[0].node, Node(*d.read_local(Path(3, 0, 9), T0)));
    EXPECT_EQ(nodes[1].path, Path(3313, 0));
    EXPECT_EQ(nodes[1].node, Node(*d.read_local(Path(3313, 0), T0)));
  }
  // Accept picks the answer's format; the body is still read in its own.
  auto cbor = d.handle_request(
      fetch(paths, ContentFormat::kSenmlJson, std::nullopt, "tk", ContentFormat::kSenmlCbor), T0);
  ASSERT_EQ(cbor.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(cbor.content_format(), 112u);
  EXPECT_EQ(composite_nodes(cbor, paths).size(), 2u);
}

TEST(DeviceComposite, ReadCompositeLeavesOutWhatIsNotThere) {
  Device d = make_device();
  const std::vector<Path> paths{Path(3, 0, 0), Path(3313, 7), Path(0, 0)};
  auto resp = d.handle_request(fetch(paths), T0);
  ASSERT_EQ(resp.code, coap_code(CoapCode::kContent));
  auto nodes = composite_nodes(resp, paths);
  ASSERT_EQ(nodes.size(), 1u);  // no /3313/7; /0 is hidden
  EXPECT_EQ(nodes[0].node, Node(Resource::single(0, Value("fogm2m"))));
  // Nothing there at all: 4.04.
  EXPECT_EQ(d.handle_request(fetch({Path(3313, 7), Path(4)}), T0).code,
            coap_code(CoapCode::kNotFound));
  // A path and its parent: each leaf once in the pack, both nodes whole.
  const std::vector<Path> overlapping{Path(3, 0), Path(3, 0, 9)};
  auto both = d.handle_request(fetch(overlapping), T0);
  ASSERT_EQ(both.code, coap_code(CoapCode::kContent));
  EXPECT_EQ(both.payload.find("\"/3/0/9\""), both.payload.rfind("\"/3/0/9\""));
  auto twice = composite_nodes(both, overlapping);
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[1].node, Node(*d.read_local(Path(3, 0, 9), T0)));
}

TEST(DeviceComposite, Errors) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  // Not SenML: 4.15; Accept not SenML: 4.06; no Content-Format or no paths: 4.00.
  CoapMessage tlv = fetch({Path(3, 0, 9)});
  tlv.remove_option(opt::kContentFormat);
  EXPECT_EQ(code_of(tlv), coap_code(CoapCode::kBadRequest));
  tlv.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  EXPECT_EQ(code_of(tlv), coap_code(CoapCode::kUnsupportedContentFormat));
  EXPECT_EQ(code_of(fetch({Path(3, 0, 9)}, ContentFormat::kSenmlJson, std::nullopt, "tk",
                          ContentFormat::kTlv)),
            coap_code(CoapCode::kNotAcceptable));
  CoapMessage empty = fetch({});
  EXPECT_EQ(code_of(empty), coap_code(CoapCode::kBadRequest));
  CoapMessage values = request(CoapCode::kFetch, "/");
  values.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kSenmlJson));
  values.payload = R"([{"n":"/3/0/9","v":1}])";
  EXPECT_EQ(code_of(values), coap_code(CoapCode::kBadRequest));
  // FETCH and iPATCH elsewhere than "/", and on an LwM2M 1.0 device: 4.05.
  CoapMessage elsewhere = fetch({Path(3, 0, 9)});
  elsewhere.set_uri_path("/3/0");
  EXPECT_EQ(code_of(elsewhere), coap_code(CoapCode::kMethodNotAllowed));
  auto c = config();
  c->version = Lwm2mVersion::k1_0;
  Device old = make_device(c);
  EXPECT_EQ(old.handle_request(fetch({Path(3, 0, 9)}), T0).code,
            coap_code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(
      old.handle_request(ipatch({{Path(3, 0, 15), Resource::single(15, Value("UTC"))}}), T0).code,
      coap_code(CoapCode::kMethodNotAllowed));
}

TEST(DeviceComposite, WriteCompositeWritesAllOrNothing) {
  for (ContentFormat f : {ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor}) {
    SCOPED_TRACE(lwm2m::to_name(f));
    Device d = make_device();
    auto resp = d.handle_request(ipatch({{Path(3, 0, 15), Resource::single(15, Value("UTC"))},
                                         {Path(3, 0, 14), Resource::single(14, Value("+02"))}},
                                        f),
                                 T0);
    EXPECT_EQ(resp.code, coap_code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("UTC"));
    EXPECT_EQ(local_value(d, "/3/0/14"), Value("+02"));
    // One target refuses: nothing is written.
    const std::vector<lwm2m::PathNode> mixed{
        {Path(3, 0, 15), Resource::single(15, Value("Europe/Rome"))},
        {Path(3, 0, 0), Resource::single(0, Value("someone"))}};  // Manufacturer: read-only
    EXPECT_EQ(d.handle_request(ipatch(mixed, f), T0).code, coap_code(CoapCode::kMethodNotAllowed));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("UTC"));
    EXPECT_EQ(d.handle_request(ipatch({{Path(3, 0, 15), Resource::single(15, Value("x"))},
                                       {Path(3313, 9, 5701), Resource::single(5701, Value("g"))}},
                                      f),
                               T0)
                  .code,
              coap_code(CoapCode::kNotFound));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("UTC"));
  }
  Device d = make_device();
  CoapMessage bad = request(CoapCode::kIpatch, "/");
  bad.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kSenmlJson));
  bad.payload = "[{\"n\":\"/3/0/15\"}]";  // no value
  EXPECT_EQ(d.handle_request(bad, T0).code, coap_code(CoapCode::kBadRequest));
  bad.remove_option(opt::kContentFormat);
  bad.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  EXPECT_EQ(d.handle_request(bad, T0).code, coap_code(CoapCode::kUnsupportedContentFormat));
}

// ---- Write-Attributes ------------------------------------------------------------------------

TEST(DeviceSize, SmallEnoughForAFleet) {
  // Not a contract, a tripwire: the fleet holds 100k of these.
  EXPECT_LE(sizeof(Device), 400u);
}

}  // namespace
}  // namespace fogm2m::emulated
