// Message sizes from the real encoders (see message_sizes.h).
#include "sim/message_sizes.h"

#include <boost/json/parse.hpp>

#include "bus/channels.h"
#include "bus/registration_event.h"
#include "bus/reply.h"
#include "bus/request.h"
#include "emulated_clients/device.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/content_format.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/registration_links.h"
#include "store/keys.h"
#include "store/registration.h"

namespace fogm2m::sim {

namespace {

using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;

constexpr const char* kTicket = "0b6f7a1e-3c2d-4e5f-8a9b-0c1d2e3f4a5b";  // a uuid4's length
constexpr const char* kEndpoint = "dev-000001";
const std::string kToken(8, 't');

uint8_t code(lwm2m::CoapCode c) {
  return static_cast<uint8_t>(c);
}

// The emulated device the sizes describe, as it starts
// (emulated_clients/device.h): its Register, and the values it holds.
class StartedDevice {
 public:
  StartedDevice() { device_.start(now_); }

  CoapMessage register_request() {
    std::vector<CoapMessage> out;
    device_.tick(now_, out);  // Register is due at once; no sample yet
    out.front().message_id = 1;
    return out.front();
  }

  // The node at `path`, or a float resource where the device has none.
  lwm2m::Node node(const lwm2m::Path& path) const {
    auto node = device_.read_local(path, now_);
    return node ? std::move(*node) : lwm2m::Node(lwm2m::Resource::single(path.resource_id(), 1.25));
  }

  uint32_t payload_size(const lwm2m::Path& path, ContentFormat format) const {
    auto bytes = lwm2m::encode(format, path, node(path));
    return bytes ? static_cast<uint32_t>(bytes->size()) : 32;
  }

 private:
  emulated::Device device_{std::make_shared<emulated::DeviceConfig>(),
                           emulated::DeviceIdentity{kEndpoint, 1, "", ""}};
  emulated::TimePoint now_ = emulated::Clock::now();
};

// A registration as a node records it: addresses and dates of typical
// lengths, the links the emulated device registers with.
store::Registration representative_registration(const std::string& links) {
  store::Registration r;
  r.endpoint = kEndpoint;
  r.reg_id = "a1b2c3d4e5";
  r.lifetime_s = 300;
  r.lwm2m_version = "1.1";
  r.binding = "U";
  r.peer = {"10.88.1.17", 40123};
  if (auto parsed = lwm2m::parse_registration_links(links)) {
    r.root_path = parsed->root_path;
    r.object_links = std::move(parsed->links);
  }
  r.registration_date_ms = r.last_update_ms = 1764100000000;
  r.owner = "node-1";
  return r;
}

uint32_t coap(const CoapMessage& m) {
  return static_cast<uint32_t>(lwm2m::coap_encoded_size(m));
}

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
  for (size_t p : parts)
    n += 1 + static_cast<uint32_t>(std::to_string(p).size()) + 2 + static_cast<uint32_t>(p) + 2;
  return n;
}

}  // namespace

uint32_t resp_publish_size(std::string_view channel, size_t payload_bytes) {
  return resp_array({7, channel.size(), payload_bytes});
}

MessageSizes compute_message_sizes(const std::string& observe_path,
                                   const std::string& content_format) {
  MessageSizes s;
  const ContentFormat format =
      content_format == "JSON" ? ContentFormat::kLwm2mJson : ContentFormat::kTlv;
  auto parsed = lwm2m::Path::parse(observe_path.empty() ? "/3313/0" : observe_path);
  const lwm2m::Path observed = parsed ? *parsed : lwm2m::Path(3313, 0);
  const lwm2m::Path read_path(3313, 0, 5702);
  StartedDevice device;
  const uint32_t observed_payload = device.payload_size(observed, format);
  const uint32_t read_payload = device.payload_size(read_path, format);

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

  // A write of the device's UTC offset (a string) and an execute, each
  // answered 2.04 without payload.
  const lwm2m::Path write_path(3, 0, 14);
  const lwm2m::Node written(lwm2m::Resource::single(14, std::string("+02:00")));
  CoapMessage write = read;
  write.options.clear();
  write.code = code(lwm2m::CoapCode::kPut);
  write.set_uri_path(write_path.to_string());
  write.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(format));
  if (auto bytes = lwm2m::encode(format, write_path, written))
    write.payload.assign(bytes->begin(), bytes->end());
  s.write_request = coap(write);
  CoapMessage execute = read;
  execute.options.clear();
  execute.code = code(lwm2m::CoapCode::kPost);
  execute.set_uri_path("/3/0/4");
  s.execute_request = coap(execute);
  s.changed_response = coap(response(CoapType::kAck, lwm2m::CoapCode::kChanged));

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

  // The Register of the emulated device itself (emulated_clients/device.h).
  const CoapMessage reg = device.register_request();
  const std::string& links = reg.payload;
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

  // Bus messages, written by the bus itself (bus/): the load generator's
  // read, the owner's ack and rep, a notification of the observed node and
  // the registration event with its record.
  bus::Request request;
  request.endpoint = kEndpoint;
  request.ticket = kTicket;
  request.kind = bus::RequestKind::kRead;
  request.path = read_path;
  request.content_format = format;
  request.timeout_ms = 5000;  // the load generator says how long it waits
  const size_t req_json = bus::format_request(request).size();
  const bus::Channels channels;  // the default names; a deployment may rename them
  s.bus_request_publish = resp_publish_size(channels.requests, req_json);
  s.bus_request_message = resp_publish_size(channels.requests, req_json);
  s.bus_ack_publish = resp_publish_size(channels.responses, bus::format_ack(kTicket).size());
  bus::Request write_request = request;
  write_request.kind = bus::RequestKind::kWrite;
  write_request.path = write_path;
  write_request.node = boost::json::parse(R"({"id":14,"type":"STRING","value":"+02:00"})");
  s.bus_write_request_publish =
      resp_publish_size(channels.requests, bus::format_request(write_request).size());
  bus::Request execute_request = request;
  execute_request.kind = bus::RequestKind::kExecute;
  execute_request.path = lwm2m::Path(3, 0, 4);
  execute_request.content_format.reset();
  s.bus_execute_request_publish =
      resp_publish_size(channels.requests, bus::format_request(execute_request).size());
  bus::DeviceResponse changed;
  changed.code = code(lwm2m::CoapCode::kChanged);
  s.bus_changed_rep_publish =
      resp_publish_size(channels.responses, bus::format_rep(kTicket, changed).size());
  bus::DeviceResponse read_reply;
  read_reply.code = code(lwm2m::CoapCode::kContent);
  read_reply.content_format = format;
  read_reply.content = device.node(read_path);
  const size_t rep_json = bus::format_rep(kTicket, read_reply).size();
  s.bus_rep_publish = resp_publish_size(channels.responses, rep_json);
  s.bus_rep_message = resp_publish_size(channels.responses, rep_json);
  bus::DeviceResponse notification = read_reply;
  notification.content = device.node(observed);
  const size_t notification_json =
      bus::format_notification(kTicket, notification, bus::NotificationSource{kEndpoint, observed})
          .size();
  s.bus_notification_publish = resp_publish_size(channels.responses, notification_json);
  s.bus_notification_message = resp_publish_size(channels.responses, notification_json);
  const store::Registration registration = representative_registration(links);
  const size_t record_json =
      bus::format_registration_event(bus::RegistrationEventKind::kNew, registration).size();
  s.bus_registration_publish = resp_publish_size(channels.registration_new, record_json);
  s.store_command = resp_array(
      {3, store::keys::registration(kEndpoint).size(), store::to_json_string(registration).size()});
  s.redis_reply = 5;
  return s;
}

}  // namespace fogm2m::sim
