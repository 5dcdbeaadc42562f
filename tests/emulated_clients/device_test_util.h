// Helpers of the emulated device's tests: a device on a fake clock, the
// requests a server sends, what its answers carry.
#pragma once

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulated_clients/device.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/tlv.h"
#include "lwm2m/link_format.h"
#include "lwm2m/registration_links.h"

namespace fogm2m::emulated::testing {

using namespace std::chrono_literals;
using lwm2m::coap_code;
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

// 2023-11-14T22:13:20Z at the fake clock's T0.
inline constexpr int64_t kUnixAtT0 = 1'700'000'000;

inline const TimePoint T0 = TimePoint{} + 1h;

inline std::shared_ptr<DeviceConfig> config(std::chrono::milliseconds sample_period = 0ms) {
  auto c = std::make_shared<DeviceConfig>();
  c->sample_period = sample_period;
  c->unix_minus_steady_ms = kUnixAtT0 * 1000 - 3600 * 1000;
  return c;
}

inline Device make_device(std::shared_ptr<DeviceConfig> c = config(), uint64_t seed = 42) {
  return Device(std::move(c), DeviceIdentity{"dev-001", seed, "", ""});
}

inline CoapMessage request(CoapCode method, std::string_view path, std::string token = "tk") {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = coap_code(method);
  m.message_id = 0x1234;
  m.token = std::move(token);
  m.set_uri_path(path);
  return m;
}

inline CoapMessage get(std::string_view path, std::optional<ContentFormat> accept = std::nullopt) {
  CoapMessage m = request(CoapCode::kGet, path);
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  return m;
}

inline CoapMessage write(CoapCode method, std::string_view path, ContentFormat format,
                         const Node& node) {
  CoapMessage m = request(method, path);
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  auto bytes = lwm2m::encode(format, *Path::parse(path), node);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  if (bytes) m.payload.assign(bytes->begin(), bytes->end());
  return m;
}

inline CoapMessage write_text(CoapCode method, std::string_view path, std::string text) {
  CoapMessage m = request(method, path);
  m.add_uint_option(opt::kContentFormat, 0);
  m.payload = std::move(text);
  return m;
}

// The node a response carries, decoded with its Content-Format.
inline Node payload_node(const CoapMessage& resp, std::string_view path) {
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

inline Value local_value(const Device& d, std::string_view path, TimePoint now = T0) {
  auto node = d.read_local(*Path::parse(path), now);
  EXPECT_TRUE(node.ok());
  if (!node) return {};
  if (auto* r = std::get_if<Resource>(&*node)) return r->value;
  if (auto* ri = std::get_if<ResourceInstance>(&*node)) return ri->value;
  return {};
}

inline const Resource* find_resource(const ObjectInstance& oi, uint16_t id) {
  return oi.find(id);
}

inline const ContentFormat kAllFormats[] = {ContentFormat::kTlv, ContentFormat::kLwm2mJson,
                                            ContentFormat::kSenmlJson, ContentFormat::kSenmlCbor,
                                            ContentFormat::kLwm2mCbor};

// ---- Read ----------------------------------------------------------------------------

inline std::vector<lwm2m::Link> discover(Device& d, std::string_view path) {
  auto resp = d.handle_request(get(path, ContentFormat::kLinkFormat), T0);
  EXPECT_EQ(resp.code, coap_code(CoapCode::kContent)) << path;
  EXPECT_EQ(resp.content_format(), 40u);
  auto links = lwm2m::parse_link_format(resp.payload);
  EXPECT_TRUE(links.ok()) << resp.payload;
  return links ? *links : std::vector<lwm2m::Link>{};
}

inline CoapMessage write_attributes(std::string_view path, std::vector<std::string> queries) {
  CoapMessage m = request(CoapCode::kPut, path);
  for (const auto& q : queries) m.add_uri_query(q);
  return m;
}

// Lifetime (/1/0/1) is a writable Integer: the test drives it through gt/lt/st.
inline std::vector<CoapMessage> set_lifetime(Device& d, int value, TimePoint now) {
  EXPECT_EQ(d.handle_request(write_text(CoapCode::kPut, "/1/0/1", std::to_string(value)), now).code,
            coap_code(CoapCode::kChanged));
  return d.collect_notifications(now);
}

inline CoapMessage response_to(const CoapMessage& req, CoapCode c, std::string location = "") {
  CoapMessage r;
  r.type = CoapType::kAck;
  r.code = coap_code(c);
  r.message_id = req.message_id;
  r.token = req.token;
  if (!location.empty()) r.set_location_path(location);
  return r;
}

inline std::vector<CoapMessage> tick(Device& d, TimePoint now) {
  std::vector<CoapMessage> out;
  d.tick(now, out);
  return out;
}

inline std::vector<double> walk(uint64_t seed, int samples) {
  Device d = make_device(config(), seed);
  std::vector<double> v;
  for (int i = 0; i < samples; ++i) {
    d.sample();
    for (const char* p : {"/3313/0/5702", "/3313/0/5703", "/3313/0/5704"})
      v.push_back(local_value(d, p).as<double>());
  }
  return v;
}

// An Observe (0) or cancel (1) GET.
inline CoapMessage observe(std::string_view path, std::string token, uint32_t value = 0,
                           std::optional<ContentFormat> accept = std::nullopt) {
  CoapMessage m = request(CoapCode::kGet, path, std::move(token));
  m.add_uint_option(opt::kObserve, value);
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  return m;
}

// ---- Composite operations ----------------------------------------------------------------

// A FETCH on "/" listing `paths` in `format` (Read-Composite; with
// `observe`, Observe-Composite or its cancellation).
inline CoapMessage fetch(const std::vector<Path>& paths,
                         ContentFormat format = ContentFormat::kSenmlJson,
                         std::optional<uint32_t> observe = std::nullopt, std::string token = "tk",
                         std::optional<ContentFormat> accept = std::nullopt) {
  CoapMessage m = request(CoapCode::kFetch, "/", std::move(token));
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  if (accept) m.add_uint_option(opt::kAccept, static_cast<uint32_t>(*accept));
  if (observe) m.add_uint_option(opt::kObserve, *observe);
  auto bytes = lwm2m::encode_paths(format, paths);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  if (bytes) m.payload.assign(bytes->begin(), bytes->end());
  return m;
}

// An iPATCH on "/" writing `nodes` in `format` (Write-Composite).
inline CoapMessage ipatch(const std::vector<lwm2m::PathNode>& nodes,
                          ContentFormat format = ContentFormat::kSenmlJson) {
  CoapMessage m = request(CoapCode::kIpatch, "/");
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  auto bytes = lwm2m::encode_composite(format, nodes);
  EXPECT_TRUE(bytes.ok()) << bytes.error().message;
  if (bytes) m.payload.assign(bytes->begin(), bytes->end());
  return m;
}

// The nodes a composite answer or notification carries for `paths`.
inline std::vector<lwm2m::PathNode> composite_nodes(const CoapMessage& resp,
                                                    const std::vector<Path>& paths) {
  auto f = lwm2m::content_format_from_number(resp.content_format().value_or(0));
  EXPECT_TRUE(f.has_value());
  if (!f) return {};
  auto nodes = lwm2m::decode_composite(
      *f, paths, {reinterpret_cast<const uint8_t*>(resp.payload.data()), resp.payload.size()},
      Device::models());
  EXPECT_TRUE(nodes.ok()) << (nodes ? "" : nodes.error().message);
  return nodes ? *nodes : std::vector<lwm2m::PathNode>{};
}

}  // namespace fogm2m::emulated::testing
