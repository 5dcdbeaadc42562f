#include "server/device_manager.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "lwm2m/codec/codec.h"
#include "lwm2m/hex.h"
#include "lwm2m/link_format.h"
#include "server/node_json.h"

namespace fogm2m::server {

namespace json = boost::json;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::ContentFormat;
namespace opt = lwm2m::coap_option;

namespace {

std::span<const uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

CoapMessage request_to(CoapCode method, const lwm2m::Path& path, const std::string& root_path) {
  CoapMessage m;
  m.type = lwm2m::CoapType::kCon;
  m.code = static_cast<uint8_t>(method);
  std::string full = root_path == "/" ? "" : root_path;
  if (!full.empty() && full.back() == '/') full.pop_back();
  m.set_uri_path(full + path.to_string());
  return m;
}

// The base of every reply: code names as Leshan spells them.
json::object reply_base(const CoapMessage& response) {
  return json::object{{"code", lwm2m::coap_code_name(response.code)},
                      {"coapCode", lwm2m::coap_code_string(response.code)}};
}

}  // namespace

DeviceManager::DeviceManager(NodeContext& ctx) : ctx_(ctx), rng_(std::random_device{}()) {}

std::string DeviceManager::new_token() {
  const uint64_t v = rng_();
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

ContentFormat DeviceManager::default_format(const LocalDevice& device, const lwm2m::Path& path) const {
  (void)path;
  // LwM2M 1.0 devices all speak TLV; a 1.1 device lists its formats in the
  // root link's ct attribute, and TLV stays first choice when it is there.
  for (const auto& link : device.registration.object_links) {
    auto ct = link.attribute("ct");
    if (!ct || link.attribute("rt") != std::optional<std::string>("oma.lwm2m")) continue;
    if (ct->find("11542") != std::string::npos) return ContentFormat::kTlv;
    if (ct->find("110") != std::string::npos) return ContentFormat::kSenmlJson;
  }
  return ContentFormat::kTlv;
}

Result<CoapMessage> DeviceManager::build(const LocalDevice& device, const BusRequest& r) {
  const std::string& root = device.registration.root_path;
  switch (r.kind) {
    case RequestKind::kRead: {
      CoapMessage m = request_to(CoapCode::kGet, r.path, root);
      m.add_uint_option(opt::kAccept, static_cast<uint32_t>(r.content_format.value_or(default_format(device, r.path))));
      return m;
    }
    case RequestKind::kDiscover: {
      CoapMessage m = request_to(CoapCode::kGet, r.path, root);
      m.add_uint_option(opt::kAccept, static_cast<uint32_t>(ContentFormat::kLinkFormat));
      return m;
    }
    case RequestKind::kWrite:
    case RequestKind::kCreate: {
      if (!r.node) return make_error(ErrorKind::kInvalidArgument, "nothing to write");
      if (r.kind == RequestKind::kCreate && !r.path.is_object())
        return make_error(ErrorKind::kInvalidArgument, "create needs an object path, got " + r.path.to_string());
      if (r.kind == RequestKind::kWrite && r.path.is_object())
        return make_error(ErrorKind::kInvalidArgument, "write needs an object instance or resource path");
      // A created instance is described as an object instance under the object.
      const lwm2m::Path node_path =
          r.kind == RequestKind::kCreate && r.node->is_object() && r.node->get_object().contains("id")
              ? r.path.child(static_cast<uint16_t>(r.node->get_object().at("id").to_number<int64_t>()))
              : r.path;
      auto node = node_from_json(*r.node, node_path, ctx_.models);
      if (!node) return node.error();
      ContentFormat format = r.content_format.value_or(
          r.path.is_resource() && !std::holds_alternative<lwm2m::Resource>(*node) ? ContentFormat::kTlv
          : r.path.depth() >= 3 && lwm2m::can_encode(ContentFormat::kText, r.path) &&
                  std::holds_alternative<lwm2m::Resource>(*node) && !std::get<lwm2m::Resource>(*node).multiple
              ? ContentFormat::kText
              : default_format(device, r.path));
      auto payload = lwm2m::encode(format, node_path, *node);
      if (!payload) return payload.error();
      CoapMessage m = request_to(r.kind == RequestKind::kCreate || !r.replace ? CoapCode::kPost : CoapCode::kPut,
                                 r.path, root);
      m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
      m.payload.assign(payload->begin(), payload->end());
      return m;
    }
    case RequestKind::kExecute: {
      if (!r.path.is_resource()) return make_error(ErrorKind::kInvalidArgument, "execute needs a resource path");
      CoapMessage m = request_to(CoapCode::kPost, r.path, root);
      if (!r.parameters.empty()) {
        m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(ContentFormat::kText));
        m.payload = r.parameters;
      }
      return m;
    }
    case RequestKind::kDelete: {
      if (!r.path.is_object_instance())
        return make_error(ErrorKind::kInvalidArgument, "delete needs an object instance path");
      return request_to(CoapCode::kDelete, r.path, root);
    }
    case RequestKind::kWriteAttributes: {
      CoapMessage m = request_to(CoapCode::kPut, r.path, root);
      for (const auto& q : r.attributes.to_queries()) m.add_uri_query(q);
      return m;
    }
    default: return make_error(ErrorKind::kUnsupported, std::string("kind ") + to_string(r.kind));
  }
}

Result<json::object> DeviceManager::interpret(const BusRequest& r, ContentFormat requested,
                                              const CoapMessage& response) const {
  json::object rep = reply_base(response);
  if (!lwm2m::is_success(response.code)) {
    if (!response.payload.empty()) rep["errorMessage"] = response.payload;
    return rep;
  }
  if (r.kind == RequestKind::kCreate) {
    if (auto loc = response.location_path(); !loc.empty()) rep["location"] = loc;
    return rep;
  }
  if (r.kind == RequestKind::kDiscover) {
    auto links = lwm2m::parse_link_format(response.payload);
    if (!links) return make_error(ErrorKind::kMalformed, "device sent an invalid discover payload: " + links.error().message);
    json::array out;
    for (const auto& l : *links) {
      json::object at;
      for (const auto& a : l.attributes) at[a.name] = a.value ? json::value(*a.value) : json::value(nullptr);
      out.push_back(json::object{{"url", l.uri}, {"at", std::move(at)}});
    }
    rep["links"] = std::move(out);
    return rep;
  }
  if (r.kind != RequestKind::kRead && r.kind != RequestKind::kObserve) return rep;
  if (response.code != static_cast<uint8_t>(CoapCode::kContent)) return rep;
  auto content = decode_content(r.path, requested, response);
  if (!content) return content.error();
  rep["contentFormat"] = lwm2m::to_name(content->format);
  rep["content"] = node_to_json(content->node);
  return rep;
}

Result<DeviceManager::Content> DeviceManager::decode_content(const lwm2m::Path& path, ContentFormat requested,
                                                             const CoapMessage& response) const {
  const uint32_t cf_number = response.content_format().value_or(static_cast<uint32_t>(requested));
  auto format = lwm2m::content_format_from_number(cf_number);
  if (!format) return make_error(ErrorKind::kUnsupported, "device answered in unknown content format " + std::to_string(cf_number));
  auto node = lwm2m::decode(*format, path, as_bytes(response.payload), ctx_.models);
  if (!node) return make_error(ErrorKind::kMalformed, "cannot decode the device's " + std::string(lwm2m::to_name(*format)) +
                                                          " payload: " + node.error().message);
  return Content{*format, std::move(*node)};
}

void DeviceManager::perform(const LocalDevice& device, const BusRequest& r, ReplyHandler done) {
  if (r.kind == RequestKind::kObserve) return observe(device, r, std::move(done));
  if (r.kind == RequestKind::kCancelObserve) return cancel_observe(device, r, std::move(done));
  auto request = build(device, r);
  if (!request) return done(request.error());
  request->token = new_token();
  const ContentFormat requested = r.content_format.value_or(default_format(device, r.path));
  ++ctx_.counters.device_requests;
  const std::string endpoint = device.registration.endpoint;
  ctx_.transport.send_request(device.peer, std::move(*request), ctx_.device_timeout,
                              [this, r, requested, endpoint, done = std::move(done)](Result<CoapMessage> response) {
                                if (!response) {
                                  if (response.error().kind == ErrorKind::kTimeout) ++ctx_.counters.device_timeouts;
                                  return done(make_error(response.error().kind,
                                                         "device " + endpoint + ": " + response.error().message));
                                }
                                done(interpret(r, requested, *response));
                              });
}

void DeviceManager::observe(const LocalDevice& device, const BusRequest& r, ReplyHandler done) {
  CoapMessage m = request_to(CoapCode::kGet, r.path, device.registration.root_path);
  const ContentFormat format = r.content_format.value_or(default_format(device, r.path));
  m.add_uint_option(opt::kObserve, 0);
  m.add_uint_option(opt::kAccept, static_cast<uint32_t>(format));
  m.token = new_token();
  store::Observation obs{to_hex(m.token), device.registration.endpoint, device.registration.reg_id, r.path, format, r.ticket,
                  ctx_.now_ms()};
  // Registered before sending: the first notification may overtake the
  // store's acknowledgement.
  const std::string token = m.token;  // read before `m` is moved into the call below
  observations_[token] = obs;
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(device.peer, std::move(m), ctx_.device_timeout,
                              [this, r, obs, format, token, done = std::move(done)](Result<CoapMessage> response) {
                                if (!response) {
                                  observations_.erase(token);
                                  if (response.error().kind == ErrorKind::kTimeout) ++ctx_.counters.device_timeouts;
                                  return done(make_error(response.error().kind,
                                                         "device " + obs.endpoint + ": " + response.error().message));
                                }
                                if (!lwm2m::is_success(response->code) || !response->observe()) {
                                  observations_.erase(token);  // refused or not observable
                                } else {
                                  ctx_.observations.add(obs, [this](Result<bool> stored) {
                                    if (!stored) ++ctx_.counters.store_errors;
                                  });
                                }
                                auto rep = interpret(r, format, *response);
                                if (rep) {
                                  (*rep)["observe"] = response->observe().has_value();
                                  (*rep)["token"] = obs.token_hex;
                                }
                                done(std::move(rep));
                              });
}

void DeviceManager::cancel_observe(const LocalDevice& device, const BusRequest& r, ReplyHandler done) {
  // The observation to cancel: by the observe ticket when given, else the
  // (first) observation of this endpoint on the path.
  auto found = observations_.end();
  for (auto it = observations_.begin(); it != observations_.end(); ++it) {
    const store::Observation& o = it->second;
    if (o.endpoint != device.registration.endpoint) continue;
    if (!r.observe_ticket.empty() ? o.ticket == r.observe_ticket : o.path == r.path) {
      found = it;
      break;
    }
  }
  if (found == observations_.end()) return done(make_error(ErrorKind::kNotFound, "no observation of " + r.path.to_string() + " on " +
                                                               device.registration.endpoint));
  const std::string token = found->first;
  const store::Observation obs = found->second;
  observations_.erase(found);
  ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
  // Proactive cancel: GET with Observe 1 and the observation's token.
  CoapMessage m = request_to(CoapCode::kGet, obs.path, device.registration.root_path);
  m.add_uint_option(opt::kObserve, 1);
  m.add_uint_option(opt::kAccept, static_cast<uint32_t>(obs.content_format));
  m.token = token;
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(device.peer, std::move(m), ctx_.device_timeout,
                              [obs, done = std::move(done)](Result<CoapMessage> response) {
                                json::object rep{{"code", "CANCELLED"}, {"observeTicket", obs.ticket}};
                                if (response) {
                                  rep["coapCode"] = lwm2m::coap_code_string(response->code);
                                } else {
                                  // The device did not answer; the observation is gone on our side
                                  // and its next notification will be reset.
                                  rep["coapCode"] = nullptr;
                                  rep["warning"] = response.error().message;
                                }
                                done(std::move(rep));
                              });
}

bool DeviceManager::on_notification(const PeerInfo& peer, const CoapMessage& n) {
  (void)peer;
  auto it = observations_.find(n.token);
  if (it == observations_.end()) return false;
  const store::Observation& obs = it->second;
  ++ctx_.counters.notifications;
  if (n.code == static_cast<uint8_t>(CoapCode::kContent)) {
    // The common case, written straight to JSON text (the same message the
    // general path below would build as a DOM); other codes take that path.
    auto content = decode_content(obs.path, obs.content_format, n);
    ctx_.bus.publish(ctx_.channels.responses,
                     content ? format_content_notification(obs.ticket, lwm2m::to_name(content->format), content->node,
                                                           obs.endpoint, obs.path)
                             : format_err(obs.ticket, content.error().message));
    return true;
  }
  BusRequest as_read;
  as_read.kind = RequestKind::kObserve;
  as_read.path = obs.path;
  auto rep = interpret(as_read, obs.content_format, n);
  if (!rep) {
    ctx_.bus.publish(ctx_.channels.responses, format_err(obs.ticket, rep.error().message));
    return true;
  }
  (*rep)["notification"] = true;
  (*rep)["ep"] = obs.endpoint;
  (*rep)["path"] = obs.path.to_string();
  ctx_.bus.publish(ctx_.channels.responses, format_rep(obs.ticket, std::move(*rep)));
  // A notification with an error code ends the observation (RFC 7641 3.2).
  if (!lwm2m::is_success(n.code)) {
    ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
    observations_.erase(it);
  }
  return true;
}

void DeviceManager::drop_observations(const store::Registration& reg) {
  for (auto it = observations_.begin(); it != observations_.end();) {
    if (it->second.endpoint == reg.endpoint) it = observations_.erase(it);
    else ++it;
  }
  ctx_.observations.remove_all(reg.endpoint, [](Result<std::vector<store::Observation>>) {});
}

}  // namespace fogm2m::server
