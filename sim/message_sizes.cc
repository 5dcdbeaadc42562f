// Message sizes from the real encoders (see message_sizes.h).
#include "sim/message_sizes.h"

#include <boost/json.hpp>

#include "lwm2m/codec/codec.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/content_format.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"

namespace fogm2m::sim {

namespace {

using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;

constexpr const char* kTicket = "0b6f7a1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b";  // a uuid4's length
constexpr const char* kEndpoint = "dev-000001";
const std::string kToken(8, 't');

uint8_t code(lwm2m::CoapCode c) { return static_cast<uint8_t>(c); }

lwm2m::ObjectInstance accelerometer() {
  using lwm2m::Resource;
  return lwm2m::ObjectInstance{0,
                               {Resource::single(5603, -20.0), Resource::single(5604, 20.0),
                                Resource::single(5701, std::string("m/s2")),
                                Resource::single(5702, 1.25), Resource::single(5703, -0.5),
                                Resource::single(5704, 9.8125)}};
}

// The observed node at `path` and its encoded payload.
uint32_t payload_size(const lwm2m::Path& path, ContentFormat format) {
  const lwm2m::ObjectInstance inst = accelerometer();
  lwm2m::Node node;
  if (path.depth() >= 3) {
    const lwm2m::Resource* r = inst.find(path.resource_id());
    node = r ? *r : lwm2m::Resource::single(path.resource_id(), 1.25);
  } else if (path.depth() == 2) {
    node = inst;
  } else {
    node = lwm2m::Object{path.object_id(), {inst}};
  }
  auto bytes = lwm2m::encode(format, path, node);
  return bytes ? static_cast<uint32_t>(bytes->size()) : 32;
}

uint32_t coap(const CoapMessage& m) { return static_cast<uint32_t>(lwm2m::coap_encoded_size(m)); }

CoapMessage response(CoapType type, lwm2m::CoapCode c) {
  CoapMessage m;
  m.type = type;
  m.code = code(c);
  m.message_id = 1;
  m.token = kToken;
  return m;
}

// RESP framing of an array of bulk strings.
uint32_t resp_array(std::initializer_list<size_t> parts) {
  uint32_t n = 1 + static_cast<uint32_t>(std::to_string(parts.size()).size()) + 2;
  for (size_t p : parts) n += 1 + static_cast<uint32_t>(std::to_string(p).size()) + 2 + static_cast<uint32_t>(p) + 2;
  return n;
}
uint32_t publish(const char* channel, size_t json) { return resp_array({7, std::string(channel).size(), json}); }
uint32_t message(const char* channel, size_t json) { return resp_array({7, std::string(channel).size(), json}); }

size_t json_size(const boost::json::object& o) { return boost::json::serialize(o).size(); }

boost::json::object resource_json(uint16_t id, double v) {
  return boost::json::object{{"id", id}, {"value", v}};
}

}  // namespace

MessageSizes compute_message_sizes(const std::string& observe_path, const std::string& content_format) {
  MessageSizes s;
  const ContentFormat format = content_format == "JSON" ? ContentFormat::kLwm2mJson : ContentFormat::kTlv;
  auto parsed = lwm2m::Path::parse(observe_path.empty() ? "/3313/0" : observe_path);
  const lwm2m::Path observed = parsed ? *parsed : lwm2m::Path(3313, 0);
  const lwm2m::Path read_path(3313, 0, 5702);
  const uint32_t observed_payload = payload_size(observed, format);
  const uint32_t read_payload = payload_size(read_path, format);

  CoapMessage n = response(CoapType::kNon, lwm2m::CoapCode::kContent);
  n.add_uint_option(lwm2m::coap_option::kObserve, 70000);  // 3-byte observe numbers
  n.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(format));
  n.payload.assign(observed_payload, 'x');
  s.notification = coap(n);

  CoapMessage ack;
  ack.type = CoapType::kAck;
  s.empty_ack = coap(ack);

  CoapMessage read;
  read.type = CoapType::kCon;
  read.code = code(lwm2m::CoapCode::kGet);
  read.message_id = 1;
  read.token = kToken;
  read.set_uri_path("/3313/0/5702");
  read.add_uint_option(lwm2m::coap_option::kAccept, static_cast<uint32_t>(format));
  s.read_request = coap(read);
  CoapMessage read_resp = response(CoapType::kAck, lwm2m::CoapCode::kContent);
  read_resp.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(format));
  read_resp.payload.assign(read_payload, 'x');
  s.read_response = coap(read_resp);

  CoapMessage obs = read;
  obs.options.clear();
  obs.add_uint_option(lwm2m::coap_option::kObserve, 0);
  obs.set_uri_path(observed.to_string());
  obs.add_uint_option(lwm2m::coap_option::kAccept, static_cast<uint32_t>(format));
  s.observe_request = coap(obs);
  CoapMessage obs_resp = response(CoapType::kAck, lwm2m::CoapCode::kContent);
  obs_resp.add_uint_option(lwm2m::coap_option::kObserve, 2);
  obs_resp.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(format));
  obs_resp.payload.assign(observed_payload, 'x');
  s.observe_response = coap(obs_resp);

  // What the emulated device registers with (emulated_clients/device.cc).
  const std::string links =
      "</>;rt=\"oma.lwm2m\";ct=\"110 11542 11543\",</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</3313/0>";
  CoapMessage reg;
  reg.type = CoapType::kCon;
  reg.code = code(lwm2m::CoapCode::kPost);
  reg.message_id = 1;
  reg.token = std::string(4, 'r');
  reg.set_uri_path("/rd");
  reg.add_uri_query(std::string("ep=") + kEndpoint);
  reg.add_uri_query("lt=300");
  reg.add_uri_query("lwm2m=1.1");
  reg.add_uri_query("b=U");
  reg.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(ContentFormat::kLinkFormat));
  reg.payload = links;
  s.register_request = coap(reg);
  CoapMessage reg_resp = response(CoapType::kAck, lwm2m::CoapCode::kCreated);
  reg_resp.token = reg.token;
  reg_resp.set_location_path("/rd/a1b2c3d4e5");
  s.register_response = coap(reg_resp);
  CoapMessage upd = reg;
  upd.options.clear();
  upd.payload.clear();
  upd.set_uri_path("/rd/a1b2c3d4e5");
  s.update_request = coap(upd);
  CoapMessage upd_resp = response(CoapType::kAck, lwm2m::CoapCode::kChanged);
  upd_resp.token = reg.token;
  s.update_response = coap(upd_resp);

  // Bus messages.
  boost::json::object req{{"ep", kEndpoint},
                          {"ticket", kTicket},
                          {"req", boost::json::object{{"kind", "read"}, {"path", "/3313/0/5702"},
                                                      {"contentFormat", lwm2m::to_name(format)}}}};
  const size_t req_json = json_size(req);
  s.bus_request_publish = publish("LWM2M_REQ", req_json);
  s.bus_request_message = message("LWM2M_REQ", req_json);
  s.bus_ack_publish = publish("LWM2M_RESP", json_size({{"ticket", kTicket}, {"ack", true}}));
  boost::json::object rep{{"ticket", kTicket},
                          {"rep", boost::json::object{{"code", "CONTENT"},
                                                      {"contentFormat", lwm2m::to_name(format)},
                                                      {"content", resource_json(5702, 1.25)}}}};
  s.bus_rep_publish = publish("LWM2M_RESP", json_size(rep));
  s.bus_rep_message = message("LWM2M_RESP", json_size(rep));
  boost::json::array resources;
  for (auto [id, v] : {std::pair{5603, -20.0}, {5604, 20.0}, {5702, 1.25}, {5703, -0.5}, {5704, 9.8125}})
    resources.push_back(resource_json(static_cast<uint16_t>(id), v));
  resources.push_back(boost::json::object{{"id", 5701}, {"value", "m/s2"}});
  boost::json::object content =
      observed.depth() >= 3 ? resource_json(observed.resource_id(), 1.25)
                            : boost::json::object{{"id", 0}, {"resources", resources}};
  boost::json::object notif{{"ticket", kTicket},
                            {"rep", boost::json::object{{"code", "CONTENT"},
                                                        {"contentFormat", lwm2m::to_name(format)},
                                                        {"content", content},
                                                        {"notification", true}}}};
  s.bus_notification_publish = publish("LWM2M_RESP", json_size(notif));
  s.bus_notification_message = message("LWM2M_RESP", json_size(notif));
  // The registration record in the thesis' field list (THESIS-FACTS.md).
  boost::json::object record{
      {"regDate", 1764100000000}, {"identity", boost::json::object{{"address", "10.88.1.17"}, {"port", 40123}}},
      {"regAddr", "10.88.2.1"}, {"regPort", 5683}, {"lt", 300}, {"ver", "1.1"}, {"bnd", "U"},
      {"ep", kEndpoint}, {"regId", "a1b2c3d4e5"}, {"objLink", links}, {"root", "/"},
      {"lastUp", 1764100000000}};
  const size_t record_json = json_size(record);
  s.bus_registration_publish = publish("LESHAN_REG_NEW", record_json);
  s.store_command = resp_array({3, std::string("REG:EP:{dev-000001}").size(), record_json});
  s.redis_reply = 5;
  return s;
}

}  // namespace fogm2m::sim
