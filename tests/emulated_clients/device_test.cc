#include "emulated_clients/device.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/tlv.h"
#include "lwm2m/link_format.h"
#include "lwm2m/registration_links.h"

namespace fogm2m::emulated {
namespace {

using namespace std::chrono_literals;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;
using lwm2m::Node;
using lwm2m::Object;
using lwm2m::ObjectInstance;
using lwm2m::Path;
using lwm2m::Resource;
using lwm2m::ResourceInstance;
using lwm2m::Value;
namespace opt = lwm2m::coap_option;

constexpr uint8_t code(CoapCode c) {
  return static_cast<uint8_t>(c);
}

// 2023-11-14T22:13:20Z at the fake clock's T0.
constexpr int64_t kUnixAtT0 = 1'700'000'000;
const TimePoint T0 = TimePoint{} + 1h;

std::shared_ptr<DeviceConfig> config(std::chrono::milliseconds sample_period = 0ms) {
  auto c = std::make_shared<DeviceConfig>();
  c->sample_period = sample_period;
  c->unix_minus_steady_ms = kUnixAtT0 * 1000 - 3600 * 1000;
  return c;
}

Device make_device(std::shared_ptr<DeviceConfig> c = config(), uint64_t seed = 42) {
  return Device(std::move(c), DeviceIdentity{"dev-001", seed, "", ""});
}

CoapMessage request(CoapCode method, std::string_view path, std::string token = "tk") {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = code(method);
  m.message_id = 0x1234;
  m.token = std::move(token);
  m.set_uri_path(path);
  return m;
}

CoapMessage get(std::string_view path, std::optional<ContentFormat> accept = std::nullopt) {
  CoapMessage m = request(CoapCode::kGet, path);
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  return m;
}

CoapMessage write(CoapCode method, std::string_view path, ContentFormat format, const Node& node) {
  CoapMessage m = request(method, path);
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  auto bytes = lwm2m::encode(format, *Path::parse(path), node);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  if (bytes) m.payload.assign(bytes->begin(), bytes->end());
  return m;
}

CoapMessage write_text(CoapCode method, std::string_view path, std::string text) {
  CoapMessage m = request(method, path);
  m.add_uint_option(opt::kContentFormat, 0);
  m.payload = std::move(text);
  return m;
}

// The node a response carries, decoded with its Content-Format.
Node payload_node(const CoapMessage& resp, std::string_view path) {
  auto cf = resp.content_format();
  EXPECT_TRUE(cf.has_value());
  auto f = lwm2m::content_format_from_number(cf.value_or(0));
  EXPECT_TRUE(f.has_value());
  auto node =
      lwm2m::decode(*f, *Path::parse(path),
                    {reinterpret_cast<const uint8_t*>(resp.payload.data()), resp.payload.size()},
                    Device::models());
  EXPECT_TRUE(node.ok()) << (node ? "" : node.error().message);
  return node ? *node : Node{};
}

Value local_value(const Device& d, std::string_view path, TimePoint now = T0) {
  auto node = d.read_local(*Path::parse(path), now);
  EXPECT_TRUE(node.ok());
  if (!node) return {};
  if (auto* r = std::get_if<Resource>(&*node)) return r->value;
  if (auto* ri = std::get_if<ResourceInstance>(&*node)) return ri->value;
  return {};
}

const Resource* find_resource(const ObjectInstance& oi, uint16_t id) {
  return oi.find(id);
}

const ContentFormat kAllFormats[] = {ContentFormat::kTlv, ContentFormat::kLwm2mJson,
                                     ContentFormat::kSenmlJson};

// ---- Read ----------------------------------------------------------------------------

TEST(DeviceRead, SingleResourceInEveryFormat) {
  Device d = make_device();
  for (int i = 0; i < 10; ++i) d.sample();
  const Value x = local_value(d, "/3313/0/5702");
  ASSERT_TRUE(x.is<double>());

  auto text = d.handle_request(get("/3313/0/5702", ContentFormat::kText), T0);
  EXPECT_EQ(text.code, code(CoapCode::kContent));
  EXPECT_EQ(text.type, CoapType::kAck);
  EXPECT_EQ(text.message_id, 0x1234);
  EXPECT_EQ(text.token, "tk");
  EXPECT_EQ(text.content_format(), 0u);
  EXPECT_DOUBLE_EQ(std::stod(text.payload), x.as<double>());

  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3313/0/5702", f), T0);
    ASSERT_EQ(resp.code, code(CoapCode::kContent));
    EXPECT_EQ(resp.content_format(), static_cast<uint32_t>(f));
    EXPECT_EQ(payload_node(resp, "/3313/0/5702"), Node(Resource::single(5702, x)));
  }
  // No Accept: TLV; and a float that fits float32 travels in 4 bytes.
  auto tlv = d.handle_request(get("/3313/0/5702"), T0);
  EXPECT_EQ(tlv.content_format(), static_cast<uint32_t>(ContentFormat::kTlv));
  EXPECT_EQ(tlv.payload.size(), 1u + 2u + 4u);  // type, 16-bit id, value
  // A float is not opaque.
  EXPECT_EQ(d.handle_request(get("/3313/0/5702", ContentFormat::kOpaque), T0).code,
            code(CoapCode::kNotAcceptable));
  // Strings in text.
  auto units = d.handle_request(get("/3313/0/5701", ContentFormat::kText), T0);
  EXPECT_EQ(units.payload, "m/s2");
}

TEST(DeviceRead, DeviceInstanceInEveryFormat) {
  Device d = make_device();
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3/0", f), T0 + 2500ms);
    ASSERT_EQ(resp.code, code(CoapCode::kContent));
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
            code(CoapCode::kNotAcceptable));
}

TEST(DeviceRead, ObjectAndResourceInstance) {
  Device d = make_device();
  for (ContentFormat f : kAllFormats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    auto resp = d.handle_request(get("/3313", f), T0);
    ASSERT_EQ(resp.code, code(CoapCode::kContent));
    Node node = payload_node(resp, "/3313");
    ASSERT_TRUE(std::holds_alternative<Object>(node));
    const auto& o = std::get<Object>(node);
    ASSERT_EQ(o.instances.size(), 1u);
    EXPECT_EQ(o.instances[0].find(5604)->value, Value(20.0));
    EXPECT_EQ(o.instances[0].find(5603)->value, Value(-20.0));

    auto ri = d.handle_request(get("/3/0/7/1", f), T0);
    ASSERT_EQ(ri.code, code(CoapCode::kContent));
    EXPECT_EQ(payload_node(ri, "/3/0/7/1"), Node(ResourceInstance{1, Value(int64_t{5000})}));
  }
  auto text = d.handle_request(get("/3/0/7/0", ContentFormat::kText), T0);
  EXPECT_EQ(text.payload, "3800");
  // A multiple resource has no text form.
  EXPECT_EQ(d.handle_request(get("/3/0/7", ContentFormat::kText), T0).code,
            code(CoapCode::kNotAcceptable));
}

TEST(DeviceRead, Errors) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  EXPECT_EQ(code_of(get("/4/0")), code(CoapCode::kNotFound));      // object not present
  EXPECT_EQ(code_of(get("/3313/1")), code(CoapCode::kNotFound));   // instance absent
  EXPECT_EQ(code_of(get("/3/0/99")), code(CoapCode::kNotFound));   // resource absent
  EXPECT_EQ(code_of(get("/3/0/7/5")), code(CoapCode::kNotFound));  // resource instance absent
  EXPECT_EQ(code_of(get("/3/0/0/0")), code(CoapCode::kNotFound));  // single resource
  EXPECT_EQ(code_of(get("/0/0")), code(CoapCode::kNotFound));      // Security is hidden
  EXPECT_EQ(code_of(get("/0/0/0")), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(get("/rd/abc")), code(CoapCode::kNotFound));         // not an LwM2M path
  EXPECT_EQ(code_of(get("/3/0/4")), code(CoapCode::kMethodNotAllowed));  // executable
  EXPECT_EQ(code_of(get("/")), code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(get("/3/0", ContentFormat::kCbor)), code(CoapCode::kNotAcceptable));
  EXPECT_EQ(code_of(get("/3/0", ContentFormat::kSenmlCbor)), code(CoapCode::kNotAcceptable));
  CoapMessage odd = get("/3/0");
  odd.add_uint_option(opt::kAccept, 9999);
  EXPECT_EQ(code_of(odd), code(CoapCode::kNotAcceptable));
  CoapMessage fetch = request(CoapCode::kFetch, "/3/0");
  EXPECT_EQ(code_of(fetch), code(CoapCode::kMethodNotAllowed));
  // Error responses carry no payload or Content-Format.
  auto resp = d.handle_request(get("/4/0"), T0);
  EXPECT_TRUE(resp.payload.empty());
  EXPECT_FALSE(resp.has_option(opt::kContentFormat));
  EXPECT_EQ(d.counters().requests_answered, 15u);
  EXPECT_EQ(d.counters().error_responses, 15u);
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

TEST(DeviceRead, Lwm2m10HasNoSenml) {
  auto c = config();
  c->version = Lwm2mVersion::k1_0;
  Device d = make_device(c);
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kSenmlJson), T0).code,
            code(CoapCode::kNotAcceptable));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kLwm2mJson), T0).code,
            code(CoapCode::kContent));
  EXPECT_EQ(d.handle_request(get("/3/0", ContentFormat::kOldTlv), T0).code,
            code(CoapCode::kContent));
}

// ---- Discover ---------------------------------------------------------------------------

std::vector<lwm2m::Link> discover(Device& d, std::string_view path) {
  auto resp = d.handle_request(get(path, ContentFormat::kLinkFormat), T0);
  EXPECT_EQ(resp.code, code(CoapCode::kContent)) << path;
  EXPECT_EQ(resp.content_format(), 40u);
  auto links = lwm2m::parse_link_format(resp.payload);
  EXPECT_TRUE(links.ok()) << resp.payload;
  return links ? *links : std::vector<lwm2m::Link>{};
}

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
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3313/4", ContentFormat::kLinkFormat), T0).code,
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3/0/7/0", ContentFormat::kLinkFormat), T0).code,
            code(CoapCode::kBadRequest));
}

CoapMessage write_attributes(std::string_view path, std::vector<std::string> queries) {
  CoapMessage m = request(CoapCode::kPut, path);
  for (const auto& q : queries) m.add_uri_query(q);
  return m;
}

TEST(DeviceDiscover, ShowsAttributes) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_attributes("/3", {"pmin=10"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3/0", {"pmax=60"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3/0/9", {"gt=50", "lt=20.5"}), T0).code,
            code(CoapCode::kChanged));
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
  EXPECT_EQ(resp.code, code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Europe/Paris"));

  const ContentFormat formats[] = {ContentFormat::kTlv, ContentFormat::kLwm2mJson,
                                   ContentFormat::kSenmlJson, ContentFormat::kText};
  int64_t lifetime = 100;
  for (ContentFormat f : formats) {
    SCOPED_TRACE(lwm2m::to_name(f));
    ++lifetime;
    auto r = d.handle_request(
        write(CoapCode::kPut, "/1/0/1", f, Resource::single(1, Value(lifetime))), T0);
    EXPECT_EQ(r.code, code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/1/0/1"), Value(lifetime));
    auto tz = d.handle_request(
        write(CoapCode::kPut, "/3/0/14", f, Resource::single(14, Value("+02:00"))), T0);
    EXPECT_EQ(tz.code, code(CoapCode::kChanged));
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
              code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("America/New_York"));
    ObjectInstance part{0, {Resource::single(15, Value("Asia/Tokyo"))}};
    EXPECT_EQ(d.handle_request(write(CoapCode::kPost, "/3/0", f, part), T0).code,
              code(CoapCode::kChanged));
    EXPECT_EQ(local_value(d, "/3/0/15"), Value("Asia/Tokyo"));
    EXPECT_EQ(local_value(d, "/3/0/14"), Value("-05:00"));
  }
  // One read-only resource spoils the whole write: nothing is applied.
  ObjectInstance bad{0, {Resource::single(0, Value("evil")), Resource::single(15, Value("UTC"))}};
  EXPECT_EQ(d.handle_request(write(CoapCode::kPost, "/3/0", ContentFormat::kTlv, bad), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Asia/Tokyo"));
}

TEST(DeviceWrite, CurrentTimeKeepsTicking) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/13", "1000"), T0).code,
            code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/13", T0), Value(lwm2m::Time{1000}));
  EXPECT_EQ(local_value(d, "/3/0/13", T0 + 5s), Value(lwm2m::Time{1005}));
}

TEST(DeviceWrite, Errors) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  // Type mismatches.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/1", "abc")), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/13", "soon")), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write(CoapCode::kPut, "/1/0/1", ContentFormat::kSenmlJson,
                          Resource::single(1, Value("300")))),
            code(CoapCode::kBadRequest));
  // Range checks.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/1", "0")), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/1/0/7", "X")), code(CoapCode::kBadRequest));
  // Not writable / not there.
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/0", "x")), code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3313/0/5702", "1.5")),
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/7/0", "1")),
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0/99", "1")), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/5/0/1", "x")), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/0/0/0", "coap://x")), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3", "x")), code(CoapCode::kMethodNotAllowed));
  // Formats.
  CoapMessage no_format = request(CoapCode::kPut, "/3/0/15");
  no_format.payload = "UTC";
  EXPECT_EQ(code_of(no_format), code(CoapCode::kBadRequest));
  CoapMessage cbor = write_text(CoapCode::kPut, "/3/0/15", "UTC");
  cbor.remove_option(opt::kContentFormat);
  cbor.add_uint_option(opt::kContentFormat, 60);
  EXPECT_EQ(code_of(cbor), code(CoapCode::kUnsupportedContentFormat));
  cbor.remove_option(opt::kContentFormat);
  cbor.add_uint_option(opt::kContentFormat, 40);
  EXPECT_EQ(code_of(cbor), code(CoapCode::kUnsupportedContentFormat));
  EXPECT_EQ(code_of(write_text(CoapCode::kPut, "/3/0", "UTC")),
            code(CoapCode::kUnsupportedContentFormat));  // text cannot carry an instance
  CoapMessage garbage = write_text(CoapCode::kPut, "/3/0", "");
  garbage.remove_option(opt::kContentFormat);
  garbage.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  garbage.payload = std::string("\xC8\x0E\x09", 3);  // length beyond the end
  EXPECT_EQ(code_of(garbage), code(CoapCode::kBadRequest));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Etc/UTC"));
}

// ---- Execute, Create, Delete ------------------------------------------------------------

TEST(DeviceExecute, RebootResetsAndOthersRefuse) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/3/0/15", "Europe/Paris"), T0).code,
            code(CoapCode::kChanged));
  for (int i = 0; i < 50; ++i) d.sample();
  CoapMessage reboot = request(CoapCode::kPost, "/3/0/4");
  reboot.payload = "0='now'";  // arguments are accepted and ignored
  EXPECT_EQ(d.handle_request(reboot, T0).code, code(CoapCode::kChanged));
  EXPECT_EQ(local_value(d, "/3/0/15"), Value("Etc/UTC"));
  EXPECT_EQ(local_value(d, "/3313/0/5702"), Value(0.0));
  EXPECT_EQ(local_value(d, "/3313/0/5704"), Value(2511.0 / 256));  // g, quantised
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3313/0/5702"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3/0/99"), T0).code,
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3/0/7/0"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/0/0/1"), T0).code,
            code(CoapCode::kNotFound));
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
    ASSERT_EQ(resp.code, code(CoapCode::kCreated));
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
            code(CoapCode::kBadRequest));
  Object inverted{
      3313,
      {ObjectInstance{9,
                      {Resource::single(5603, Value(5.0)), Resource::single(5604, Value(-5.0))}}}};
  EXPECT_EQ(
      d.handle_request(write(CoapCode::kPost, "/3313", ContentFormat::kTlv, inverted), T0).code,
      code(CoapCode::kBadRequest));
  Object outside{3313, {ObjectInstance{9, {Resource::single(5702, Value(25.0))}}}};
  EXPECT_EQ(
      d.handle_request(write(CoapCode::kPost, "/3313", ContentFormat::kTlv, outside), T0).code,
      code(CoapCode::kBadRequest));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/3"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/1"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/4"), T0).code, code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kPost, "/0"), T0).code, code(CoapCode::kNotFound));
}

TEST(DeviceCreate, WithoutInstanceIdTheDevicePicksOne) {
  Device d = make_device();
  // Empty payload: defaults.
  auto empty = d.handle_request(request(CoapCode::kPost, "/3313"), T0);
  ASSERT_EQ(empty.code, code(CoapCode::kCreated));
  EXPECT_EQ(empty.location_path(), "/3313/1");
  // TLV resources with no object-instance wrapper.
  ObjectInstance oi{0, {Resource::single(5702, Value(2.0))}};
  auto bytes = lwm2m::tlv::encode(Path(3313, 0), oi);
  ASSERT_TRUE(bytes.ok());
  CoapMessage m = request(CoapCode::kPost, "/3313");
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  m.payload.assign(bytes->begin(), bytes->end());
  auto resp = d.handle_request(m, T0);
  ASSERT_EQ(resp.code, code(CoapCode::kCreated));
  EXPECT_EQ(resp.location_path(), "/3313/2");
  EXPECT_EQ(local_value(d, "/3313/2/5702"), Value(2.0));
}

TEST(DeviceDelete, InstancesOfAccelerometerOnly) {
  Device d = make_device();
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0).code, code(CoapCode::kCreated));
  ASSERT_EQ(d.handle_request(write_attributes("/3313/1/5702", {"pmin=5"}), T0).code,
            code(CoapCode::kChanged));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            code(CoapCode::kDeleted));
  EXPECT_FALSE(d.attributes_at(Path(3313, 1, 5702)).has_value());
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(get("/3313/1"), T0).code, code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3/0"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/1/0"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/1/7"), T0).code,
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/0/0"), T0).code,
            code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/0/5702"), T0).code,
            code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/0"), T0).code,
            code(CoapCode::kDeleted));
  // No instances left: the object reads empty.
  auto resp = d.handle_request(get("/3313", ContentFormat::kSenmlJson), T0);
  EXPECT_EQ(resp.code, code(CoapCode::kContent));
  EXPECT_EQ(resp.payload, "[]");
}

// ---- Write-Attributes ------------------------------------------------------------------------

TEST(DeviceWriteAttributes, StoredPerPathAndValidated) {
  Device d = make_device();
  auto code_of = [&](const CoapMessage& m) { return d.handle_request(m, T0).code; };
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmin=1", "pmax=5", "gt=3", "st=0.5"})),
            code(CoapCode::kChanged));
  auto a = d.attributes_at(Path(3313, 0, 5702));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->pmin, 1u);
  EXPECT_EQ(a->pmax, 5u);
  EXPECT_DOUBLE_EQ(a->gt, 3.0);
  EXPECT_DOUBLE_EQ(a->st, 0.5);
  EXPECT_FALSE(a->has(Attributes::kLt));
  // A bare name removes the attribute; removing all removes the entry.
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmin", "gt"})), code(CoapCode::kChanged));
  a = d.attributes_at(Path(3313, 0, 5702));
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->has(Attributes::kPmin));
  EXPECT_TRUE(a->has(Attributes::kPmax));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"pmax", "st"})), code(CoapCode::kChanged));
  EXPECT_FALSE(d.attributes_at(Path(3313, 0, 5702)).has_value());

  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=2", "epmin=1", "epmax=9"})),
            code(CoapCode::kChanged));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"foo=1"})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"gt=1"})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3/0/14", {"gt=1"})), code(CoapCode::kBadRequest));  // String
  EXPECT_EQ(code_of(write_attributes("/3/0/7", {"lt=1"})),
            code(CoapCode::kBadRequest));  // multiple
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=1", "lt=2"})),
            code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=10", "lt=2", "st=4"})),
            code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"gt=10", "lt=2", "st=3"})),
            code(CoapCode::kChanged));
  EXPECT_EQ(code_of(write_attributes("/3313/0/5702", {"st=-1"})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=abc"})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin=-1"})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/0", {"pmin="})), code(CoapCode::kBadRequest));
  EXPECT_EQ(code_of(write_attributes("/3313/7", {"pmin=1"})), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_attributes("/0/0", {"pmin=1"})), code(CoapCode::kNotFound));
  EXPECT_EQ(code_of(write_attributes("/3/0/99", {"pmin=1"})), code(CoapCode::kNotFound));
  // The failed writes changed nothing.
  a = d.attributes_at(Path(3313, 0));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->pmin, 2u);
  EXPECT_EQ(a->epmax, 9u);
}

// ---- Observe and notifications ------------------------------------------------------------------

CoapMessage observe(std::string_view path, std::string token, uint32_t value = 0,
                    std::optional<ContentFormat> accept = std::nullopt) {
  CoapMessage m = request(CoapCode::kGet, path, std::move(token));
  m.add_uint_option(opt::kObserve, value);
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  return m;
}

TEST(DeviceObserve, NotifiesEverySampleByDefault) {
  auto c = config(50ms);
  c->notify_con_every = 4;
  Device d = make_device(c);
  d.start(T0, /*register_with_server=*/false);
  auto resp = d.handle_request(observe("/3313/0/5702", "ob1", 0, ContentFormat::kText), T0);
  ASSERT_EQ(resp.code, code(CoapCode::kContent));
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(d.observation_count(), 1u);
  uint32_t last_seq = *resp.observe();

  std::vector<CoapMessage> out;
  int notifications = 0, con = 0;
  for (int i = 1; i <= 20; ++i) {
    const TimePoint now = T0 + i * 50ms;
    EXPECT_EQ(d.next_deadline(), now);
    const Value x_before = local_value(d, "/3313/0/5702", now);
    out.clear();
    d.tick(now, out);
    const Value x = local_value(d, "/3313/0/5702", now);
    if (x == x_before) {
      EXPECT_TRUE(out.empty());
      continue;
    }
    ASSERT_EQ(out.size(), 1u);
    const CoapMessage& n = out[0];
    EXPECT_EQ(n.token, "ob1");
    EXPECT_EQ(n.code, code(CoapCode::kContent));
    EXPECT_EQ(n.content_format(), 0u);
    EXPECT_EQ(std::stod(n.payload), x.as<double>());
    ASSERT_TRUE(n.observe().has_value());
    EXPECT_GT(*n.observe(), last_seq);
    last_seq = *n.observe();
    ++notifications;
    if (n.type == CoapType::kCon) {
      ++con;
      EXPECT_EQ(notifications % 4, 0);
    } else {
      EXPECT_EQ(n.type, CoapType::kNon);
    }
  }
  EXPECT_GE(notifications, 18);  // the walk almost always moves
  EXPECT_EQ(con, notifications / 4);
  EXPECT_EQ(d.counters().notifications_sent, static_cast<uint32_t>(notifications));

  // Cancel with Observe 1: the current value, no Observe option, no more notifications.
  auto cancel = d.handle_request(observe("/3313/0/5702", "ob1", 1, ContentFormat::kText), T0 + 2s);
  EXPECT_EQ(cancel.code, code(CoapCode::kContent));
  EXPECT_FALSE(cancel.observe().has_value());
  EXPECT_EQ(d.observation_count(), 0u);
  out.clear();
  d.tick(T0 + 3s, out);
  EXPECT_TRUE(out.empty());
}

TEST(DeviceObserve, ResetAndTimeoutCancel) {
  Device d = make_device(config(50ms));
  d.start(T0, false);
  ASSERT_TRUE(d.handle_request(observe("/3313/0", "a"), T0).observe().has_value());
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5703", "b"), T0).observe().has_value());
  EXPECT_TRUE(d.has_observation("a"));
  d.on_reset("a", T0);
  EXPECT_FALSE(d.has_observation("a"));
  d.on_timeout("b", T0);
  EXPECT_EQ(d.observation_count(), 0u);
  EXPECT_EQ(d.counters().errors, 2u);
}

TEST(DeviceObserve, InstanceInChosenFormatAndTooMany) {
  auto c = config();
  c->max_observations = 2;
  Device d = make_device(c);
  auto resp = d.handle_request(observe("/3313/0", "i1", 0, ContentFormat::kSenmlJson), T0);
  ASSERT_TRUE(resp.observe().has_value());
  EXPECT_EQ(resp.content_format(), 110u);
  d.sample();
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].content_format(), 110u);
  Node n = payload_node(notes[0], "/3313/0");
  ASSERT_TRUE(std::holds_alternative<ObjectInstance>(n));
  EXPECT_EQ(std::get<ObjectInstance>(n),
            std::get<ObjectInstance>(*d.read_local(Path(3313, 0), T0)));

  ASSERT_TRUE(d.handle_request(observe("/3313/0/5702", "i2"), T0).observe().has_value());
  auto third = d.handle_request(observe("/3313/0/5703", "i3"), T0);
  EXPECT_EQ(third.code, code(CoapCode::kContent));
  EXPECT_FALSE(third.observe().has_value());  // answered, not observed
  EXPECT_EQ(d.observation_count(), 2u);
  // Observing the same token again replaces the observation.
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5704", "i2"), T0).observe().has_value());
  EXPECT_EQ(d.observation_count(), 2u);
  // Errors are not observed.
  EXPECT_EQ(d.handle_request(observe("/3/0/4", "x"), T0).code, code(CoapCode::kMethodNotAllowed));
  EXPECT_EQ(d.handle_request(observe("/0/0", "x"), T0).code, code(CoapCode::kNotFound));
  EXPECT_EQ(d.handle_request(observe("/3313/0/5702", "x", 0, ContentFormat::kCbor), T0).code,
            code(CoapCode::kNotAcceptable));
  EXPECT_FALSE(d.has_observation("x"));
}

TEST(DeviceObserve, PminHoldsBackAndPmaxForces) {
  Device d = make_device(config(0ms));  // no sampling: the test moves values
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0/5702", {"pmin=2", "pmax=5"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5702", "p"), T0).observe().has_value());
  EXPECT_EQ(d.next_deadline(), T0 + 5s);  // pmax
  EXPECT_TRUE(d.collect_notifications(T0 + 500ms).empty());

  d.sample();  // a change at 0.5 s waits for pmin
  EXPECT_EQ(d.next_deadline(), T0 + 2s);
  EXPECT_TRUE(d.collect_notifications(T0 + 1900ms).empty());
  auto at_pmin = d.collect_notifications(T0 + 2s);
  ASSERT_EQ(at_pmin.size(), 1u);
  Node n = payload_node(at_pmin[0], "/3313/0/5702");
  EXPECT_EQ(std::get<Resource>(n).value, local_value(d, "/3313/0/5702"));

  // No change: nothing until pmax, then the same value again.
  EXPECT_EQ(d.next_deadline(), T0 + 7s);
  EXPECT_TRUE(d.collect_notifications(T0 + 6900ms).empty());
  auto at_pmax = d.collect_notifications(T0 + 7s);
  ASSERT_EQ(at_pmax.size(), 1u);
  EXPECT_EQ(at_pmax[0].payload, at_pmin[0].payload);
  EXPECT_GT(*at_pmax[0].observe(), *at_pmin[0].observe());

  // Attributes inherit: pmax from the object level when the resource has none.
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0/5702", {"pmin", "pmax"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/3313", {"pmax=3"}), T0).code,
            code(CoapCode::kChanged));
  // New attributes make the device look again once pmin allows.
  EXPECT_EQ(d.next_deadline(), T0 + 7s);
  EXPECT_TRUE(d.collect_notifications(T0 + 7s).empty());
  EXPECT_EQ(d.next_deadline(), T0 + 10s);
  EXPECT_EQ(d.collect_notifications(T0 + 10s).size(), 1u);
  // pmax below pmin is ignored.
  ASSERT_EQ(d.handle_request(write_attributes("/3313/0", {"pmin=4"}), T0).code,
            code(CoapCode::kChanged));
  EXPECT_EQ(d.next_deadline(), T0 + 14s);
  EXPECT_TRUE(d.collect_notifications(T0 + 13s).empty());
  EXPECT_TRUE(d.collect_notifications(T0 + 14s).empty());
  EXPECT_EQ(d.next_deadline(), TimePoint::max());
}

TEST(DeviceObserve, ServerDefaultPeriods) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/2", "3"), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/3", "30"), T0).code,
            code(CoapCode::kChanged));
  ASSERT_TRUE(d.handle_request(observe("/3313/0/5703", "o"), T0).observe().has_value());
  d.sample();
  EXPECT_EQ(d.next_deadline(), T0 + 3s);
  EXPECT_TRUE(d.collect_notifications(T0 + 2s).empty());
  EXPECT_EQ(d.collect_notifications(T0 + 3s).size(), 1u);
  EXPECT_EQ(d.next_deadline(), T0 + 33s);
}

// Lifetime (/1/0/1) is a writable Integer: the test drives it through gt/lt/st.
std::vector<CoapMessage> set_lifetime(Device& d, int value, TimePoint now) {
  EXPECT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", std::to_string(value)), now).code,
            code(CoapCode::kChanged));
  return d.collect_notifications(now);
}

TEST(DeviceObserve, GreaterThanAndLessThanNotifyOnCrossing) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_attributes("/1/0/1", {"gt=100", "lt=20"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "50"), T0).code,
            code(CoapCode::kChanged));
  ASSERT_TRUE(
      d.handle_request(observe("/1/0/1", "g", 0, ContentFormat::kText), T0).observe().has_value());
  TimePoint t = T0;
  EXPECT_TRUE(set_lifetime(d, 80, t += 1s).empty());  // no crossing
  auto up = set_lifetime(d, 150, t += 1s);            // crosses gt upwards
  ASSERT_EQ(up.size(), 1u);
  EXPECT_EQ(up[0].payload, "150");
  EXPECT_TRUE(set_lifetime(d, 170, t += 1s).empty());  // stays above
  auto down = set_lifetime(d, 90, t += 1s);            // crosses gt downwards
  ASSERT_EQ(down.size(), 1u);
  EXPECT_EQ(down[0].payload, "90");
  EXPECT_TRUE(set_lifetime(d, 30, t += 1s).empty());
  auto below = set_lifetime(d, 10, t += 1s);  // crosses lt
  ASSERT_EQ(below.size(), 1u);
  EXPECT_EQ(below[0].payload, "10");
  EXPECT_TRUE(set_lifetime(d, 5, t += 1s).empty());
}

TEST(DeviceObserve, StepMeasuresFromLastNotifiedValue) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "100"), T0).code,
            code(CoapCode::kChanged));
  ASSERT_EQ(d.handle_request(write_attributes("/1/0/1", {"st=10"}), T0).code,
            code(CoapCode::kChanged));
  ASSERT_TRUE(
      d.handle_request(observe("/1/0/1", "s", 0, ContentFormat::kText), T0).observe().has_value());
  TimePoint t = T0;
  EXPECT_TRUE(set_lifetime(d, 105, t += 1s).empty());
  EXPECT_TRUE(set_lifetime(d, 109, t += 1s).empty());
  auto step = set_lifetime(d, 111, t += 1s);  // 11 from 100
  ASSERT_EQ(step.size(), 1u);
  EXPECT_EQ(step[0].payload, "111");
  EXPECT_TRUE(set_lifetime(d, 103, t += 1s).empty());   // 8 from 111
  EXPECT_EQ(set_lifetime(d, 101, t += 1s).size(), 1u);  // 10 from 111
}

TEST(DeviceObserve, DeletedTargetEndsWithNotFound) {
  Device d = make_device(config(0ms));
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0).code, code(CoapCode::kCreated));
  ASSERT_TRUE(d.handle_request(observe("/3313/1/5702", "del"), T0).observe().has_value());
  ASSERT_EQ(d.handle_request(request(CoapCode::kDelete, "/3313/1"), T0).code,
            code(CoapCode::kDeleted));
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].code, code(CoapCode::kNotFound));
  EXPECT_EQ(notes[0].type, CoapType::kCon);
  EXPECT_EQ(notes[0].token, "del");
  EXPECT_EQ(d.observation_count(), 0u);
}

TEST(DeviceObserve, DeviceInstanceFollowsTheClock) {
  Device d = make_device(config(0ms));  // T0 is on a second boundary
  ASSERT_TRUE(d.handle_request(observe("/3/0", "clk"), T0 + 100ms).observe().has_value());
  EXPECT_EQ(d.next_deadline(), T0 + 100ms);
  EXPECT_TRUE(d.collect_notifications(T0 + 100ms).empty());  // same second
  EXPECT_EQ(d.next_deadline(), T0 + 1s);
  auto notes = d.collect_notifications(T0 + 1s);
  ASSERT_EQ(notes.size(), 1u);
  Node n = payload_node(notes[0], "/3/0");
  EXPECT_EQ(std::get<ObjectInstance>(n).find(13)->value, Value(lwm2m::Time{kUnixAtT0 + 1}));
  EXPECT_EQ(d.next_deadline(), T0 + 2s);
}

// ---- Registration
// ---------------------------------------------------------------------------------

CoapMessage response_to(const CoapMessage& req, CoapCode c, std::string location = "") {
  CoapMessage r;
  r.type = CoapType::kAck;
  r.code = code(c);
  r.message_id = req.message_id;
  r.token = req.token;
  if (!location.empty()) r.set_location_path(location);
  return r;
}

std::vector<CoapMessage> tick(Device& d, TimePoint now) {
  std::vector<CoapMessage> out;
  d.tick(now, out);
  return out;
}

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
  EXPECT_EQ(reg.code, code(CoapCode::kPost));
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
  EXPECT_EQ(links->content_formats, (std::vector<uint16_t>{110, 11542, 11543}));
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
  EXPECT_EQ(upd.code, code(CoapCode::kPost));
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
  EXPECT_EQ(dereg->code, code(CoapCode::kDelete));
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

TEST(DeviceRegistration, ChangesTriggerUpdates) {
  Device d = make_device(config(0ms));
  d.start(T0);
  auto out = tick(d, T0);
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kCreated, "rd/x1"), T0));
  EXPECT_TRUE(tick(d, T0 + 1s).empty());

  // Registration Update Trigger.
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/1/0/8"), T0 + 2s).code,
            code(CoapCode::kChanged));
  EXPECT_LE(d.next_deadline(), T0 + 2s);
  out = tick(d, T0 + 2s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].uri_path(), "/rd/x1");
  EXPECT_TRUE(out[0].uri_queries().empty());
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kChanged), T0 + 2s));

  // Lifetime and binding writes: lt= and b=.
  ASSERT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", "120"), T0 + 3s).code,
            code(CoapCode::kChanged));
  out = tick(d, T0 + 3s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].query_value("lt"), "120");
  EXPECT_FALSE(out[0].query_value("b").has_value());
  ASSERT_TRUE(d.handle_response(response_to(out[0], CoapCode::kChanged), T0 + 3s));
  EXPECT_EQ(d.next_deadline(), T0 + 3s + 108s);

  // Create: the object list.
  ASSERT_EQ(d.handle_request(request(CoapCode::kPost, "/3313"), T0 + 4s).code,
            code(CoapCode::kCreated));
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

std::vector<double> walk(uint64_t seed, int samples) {
  Device d = make_device(config(), seed);
  std::vector<double> v;
  for (int i = 0; i < samples; ++i) {
    d.sample();
    for (const char* p : {"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"})
      v.push_back(local_value(d, p).as<double>());
  }
  return v;
}

TEST(DeviceSensor, RandomWalkIsReproducibleAndInRange) {
  const auto a = walk(7, 2000), b = walk(7, 2000), c = walk(8, 2000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int changes = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_GE(a[i], -20.0);
    EXPECT_LE(a[i], 20.0);
    EXPECT_EQ(a[i] * 256, std::round(a[i] * 256)) << a[i];  // quantised
    EXPECT_EQ(a[i], static_cast<double>(static_cast<float>(a[i])));
    if (i >= 3 && a[i] != a[i - 3]) ++changes;
  }
  EXPECT_GT(changes, static_cast<int>(a.size()) * 9 / 10);
}

TEST(DeviceSensor, StaysInRangeUnderLargeSteps) {
  auto c = config();
  c->accel_step = 15.0;  // the walk hits the limits all the time
  Device d = make_device(c, 3);
  bool hit_max = false, hit_min = false;
  for (int i = 0; i < 20000; ++i) {
    d.sample();
    for (const char* p : {"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"}) {
      const double v = local_value(d, p).as<double>();
      ASSERT_GE(v, -20.0);
      ASSERT_LE(v, 20.0);
      hit_max |= v == 20.0;
      hit_min |= v == -20.0;
    }
  }
  EXPECT_TRUE(hit_max);
  EXPECT_TRUE(hit_min);
}

TEST(DeviceSensor, TickSamplesOncePerPeriodAndCatchesUp) {
  Device d = make_device(config(50ms), 9);
  Device ref = make_device(config(50ms), 9);
  d.start(T0, false);
  EXPECT_EQ(d.next_deadline(), T0 + 50ms);
  tick(d, T0 + 49ms);
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
  tick(d, T0 + 500ms);  // ten samples due
  for (int i = 0; i < 10; ++i) ref.sample();
  EXPECT_EQ(local_value(d, "/3313/0/5702"), local_value(ref, "/3313/0/5702"));
  EXPECT_EQ(d.next_deadline(), T0 + 550ms);
  tick(d, T0 + 1h);  // far behind: at most 200, then skip ahead
  EXPECT_EQ(d.next_deadline(), T0 + 1h + 50ms);
}

TEST(DeviceSize, SmallEnoughForAFleet) {
  // Not a contract, a tripwire: the fleet holds 100k of these.
  EXPECT_LE(sizeof(Device), 400u);
}

}  // namespace
}  // namespace fogm2m::emulated
