#include "server/services/device_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <string>
#include <string_view>

#include "bus/node_json.h"
#include "bus/registration_event.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/hex.h"
#include "lwm2m/link_format.h"
#include "server/node_metrics.h"

namespace fogm2m::server {

using bus::RequestKind;
using lwm2m::coap_code;
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

// Observe (RFC 7641): GET `path` with Observe 0 (register) or 1
// (deregister), Accept `format` and the observation's token.
constexpr uint32_t kRegister = 0, kDeregister = 1;
CoapMessage observe_request(const store::Registration& reg, const lwm2m::Path& path,
                            ContentFormat format, std::string token, uint32_t observe) {
  CoapMessage m = request_to(CoapCode::kGet, path, reg.root_path);
  m.add_uint_option(opt::kObserve, observe);
  m.add_uint_option(opt::kAccept, static_cast<uint32_t>(format));
  m.token = std::move(token);
  return m;
}

// Read-Composite and Observe-Composite (TS-Core 6.3.x, 6.4.x): FETCH to the
// root with the paths as a SenML pack of names; Content-Format and Accept
// both `format`; Observe when given.
Result<CoapMessage> composite_fetch(const store::Registration& reg,
                                    std::span<const lwm2m::Path> paths, ContentFormat format,
                                    std::optional<uint32_t> observe) {
  auto body = lwm2m::encode_paths(format, paths);
  if (!body) return body.error();
  CoapMessage m = request_to(CoapCode::kFetch, lwm2m::Path(), reg.root_path);
  if (observe) m.add_uint_option(opt::kObserve, *observe);
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  m.add_uint_option(opt::kAccept, static_cast<uint32_t>(format));
  m.payload.assign(body->begin(), body->end());
  return m;
}

// The same paths, in any order.
bool same_paths(std::vector<lwm2m::Path> a, std::vector<lwm2m::Path> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// The content formats the device announced: the ct attribute of its root
// link (rt="oma.lwm2m"), a space-separated list of numbers, or nullptr when
// it announced none.
const std::string* announced_formats(const LocalDevice& device) {
  for (const auto& link : device.registration.object_links) {
    const std::string* ct = nullptr;
    bool root = false;
    for (const auto& a : link.attributes) {
      if (a.name == "ct" && ct == nullptr && a.value) ct = &*a.value;
      if (a.name == "rt" && a.value && *a.value == "oma.lwm2m") root = true;
    }
    if (root && ct != nullptr) return ct;
  }
  return nullptr;
}

// True when the ct list `announced` names `format` (an old LwM2M 1.0 number
// and its registered successor count as one).
bool announces(std::string_view announced, ContentFormat format) {
  auto same = [format](uint32_t n) {
    auto f = lwm2m::content_format_from_number(n);
    if (!f) return false;
    auto family = [](ContentFormat x) {
      if (x == ContentFormat::kOldTlv) return ContentFormat::kTlv;
      if (x == ContentFormat::kOldJson) return ContentFormat::kLwm2mJson;
      return x;
    };
    return family(*f) == family(format);
  };
  uint32_t n = 0;
  bool digits = false;
  for (char c : announced) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + static_cast<uint32_t>(c - '0');
      if (n > 65535) return false;  // not a content format: the list is malformed
      digits = true;
      continue;
    }
    if (digits && same(n)) return true;
    n = 0;
    digits = false;
  }
  return digits && same(n);
}

// Whether a device that announced `announced` (its ct list) takes `format`:
// plain text, opaque and CoRE links every client supports (LwM2M 1.1
// 6.2.1), and TLV every LwM2M 1.0 client.
bool takes(const LocalDevice& device, std::string_view announced, ContentFormat format) {
  switch (format) {
    case ContentFormat::kText:
    case ContentFormat::kOpaque:
    case ContentFormat::kLinkFormat:
      return true;
    case ContentFormat::kTlv:
    case ContentFormat::kOldTlv:
      if (device.registration.lwm2m_version == "1.0") return true;
      break;
    default:
      break;
  }
  return announces(announced, format);
}

// How a bus request answered from `response` counts in the metrics: ok
// when the device answered 2.xx and the answer could be turned into the
// reply (`understood`), timeout when it never answered, else error.
NodeMetrics::Outcome outcome_of(const Result<CoapMessage>& response, bool understood) {
  if (!response)
    return response.error().kind == ErrorKind::kTimeout ? NodeMetrics::Outcome::kTimeout
                                                        : NodeMetrics::Outcome::kError;
  return understood && lwm2m::is_success(response->code) ? NodeMetrics::Outcome::kOk
                                                         : NodeMetrics::Outcome::kError;
}

}  // namespace

DeviceManager::DeviceManager(NodeContext& ctx) : ctx_(ctx), rng_(std::random_device{}()) {}

std::string DeviceManager::new_token() {
  const uint64_t v = rng_();
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

ContentFormat DeviceManager::default_format(const LocalDevice& device,
                                            const lwm2m::Path& path) const {
  (void)path;
  // LwM2M 1.0 devices all speak TLV; a 1.1 device lists its formats in the
  // root link's ct attribute, and TLV stays first choice when it is there,
  // then SenML JSON, then SenML CBOR, then LwM2M CBOR.
  const std::string* ct = announced_formats(device);
  if (ct == nullptr || announces(*ct, ContentFormat::kTlv)) return ContentFormat::kTlv;
  if (announces(*ct, ContentFormat::kSenmlJson)) return ContentFormat::kSenmlJson;
  if (announces(*ct, ContentFormat::kSenmlCbor)) return ContentFormat::kSenmlCbor;
  if (announces(*ct, ContentFormat::kLwm2mCbor)) return ContentFormat::kLwm2mCbor;
  return ContentFormat::kTlv;
}

Result<CoapMessage> DeviceManager::build(const LocalDevice& device, const bus::Request& r) {
  const std::string& root = device.registration.root_path;
  switch (r.kind) {
    case RequestKind::kRead: {
      CoapMessage m = request_to(CoapCode::kGet, r.path, root);
      m.add_uint_option(opt::kAccept,
                        static_cast<uint32_t>(r.content_format ? *r.content_format
                                                               : default_format(device, r.path)));
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
        return make_error(ErrorKind::kInvalidArgument,
                          "create needs an object path, got " + r.path.to_string());
      if (r.kind == RequestKind::kWrite && r.path.is_object())
        return make_error(ErrorKind::kInvalidArgument,
                          "write needs an object instance or resource path");
      // A created instance is described as an object instance under the object.
      const lwm2m::Path node_path = r.kind == RequestKind::kCreate && r.node->is_object() &&
                                            r.node->get_object().contains("id")
                                        ? r.path.child(static_cast<uint16_t>(
                                              r.node->get_object().at("id").to_number<int64_t>()))
                                        : r.path;
      auto node = bus::node_from_json(*r.node, node_path, ctx_.models);
      if (!node) return node.error();
      ContentFormat format = r.content_format.value_or(
          r.path.is_resource() && !std::holds_alternative<lwm2m::Resource>(*node)
              ? ContentFormat::kTlv
          : r.path.depth() >= 3 && lwm2m::can_encode(ContentFormat::kText, r.path) &&
                  std::holds_alternative<lwm2m::Resource>(*node) &&
                  !std::get<lwm2m::Resource>(*node).multiple
              ? ContentFormat::kText
              : default_format(device, r.path));
      // A created instance travels inside its object, so that the instance
      // id chosen by the server survives (TLV without the object-instance
      // wrapper lets the client pick the id).
      if (r.kind == RequestKind::kCreate) {
        if (auto* instance = std::get_if<lwm2m::ObjectInstance>(&*node))
          node = lwm2m::Node(lwm2m::Object{r.path.object_id(), {std::move(*instance)}});
      }
      const lwm2m::Path& encode_path = r.kind == RequestKind::kCreate ? r.path : node_path;
      auto payload = lwm2m::encode(format, encode_path, *node);
      if (!payload) return payload.error();
      CoapMessage m = request_to(
          r.kind == RequestKind::kCreate || !r.replace ? CoapCode::kPost : CoapCode::kPut, r.path,
          root);
      m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
      m.payload.assign(payload->begin(), payload->end());
      return m;
    }
    case RequestKind::kExecute: {
      if (!r.path.is_resource())
        return make_error(ErrorKind::kInvalidArgument, "execute needs a resource path");
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
    default:
      return make_error(ErrorKind::kUnsupported, std::string("kind ") + bus::to_string(r.kind));
  }
}

Result<bus::DeviceResponse> DeviceManager::interpret(RequestKind kind, const lwm2m::Path& path,
                                                     ContentFormat requested,
                                                     const CoapMessage& response) const {
  bus::DeviceResponse rep;
  rep.code = response.code;
  if (!lwm2m::is_success(response.code)) {
    rep.error_message = response.payload;
    return rep;
  }
  if (kind == RequestKind::kCreate) {
    rep.location = response.location_path();
    return rep;
  }
  if (kind == RequestKind::kDiscover) {
    auto links = lwm2m::parse_link_format(response.payload);
    if (!links)
      return make_error(ErrorKind::kMalformed,
                        "device sent an invalid discover payload: " + links.error().message);
    rep.links = std::move(*links);
    return rep;
  }
  if (kind != RequestKind::kRead && kind != RequestKind::kObserve) return rep;
  if (response.code != coap_code(CoapCode::kContent)) return rep;
  auto content = decode_content(path, requested, response);
  if (!content) return content.error();
  rep.content_format = content->format;
  rep.content = std::move(content->node);
  return rep;
}

Result<DeviceManager::Content> DeviceManager::decode_content(const lwm2m::Path& path,
                                                             ContentFormat requested,
                                                             const CoapMessage& response) const {
  const uint32_t cf_number = response.content_format().value_or(static_cast<uint32_t>(requested));
  auto format = lwm2m::content_format_from_number(cf_number);
  if (!format)
    return make_error(ErrorKind::kUnsupported,
                      "device answered in unknown content format " + std::to_string(cf_number));
  auto node = lwm2m::decode(*format, path, as_bytes(response.payload), ctx_.models);
  if (!node)
    return make_error(ErrorKind::kMalformed, "cannot decode the device's " +
                                                 std::string(lwm2m::to_name(*format)) +
                                                 " payload: " + node.error().message);
  return Content{*format, std::move(*node)};
}

Status DeviceManager::check_format(const LocalDevice& device, const bus::Request& r) const {
  const bool carries_format = r.kind == RequestKind::kRead || r.kind == RequestKind::kObserve ||
                              r.kind == RequestKind::kWrite || r.kind == RequestKind::kCreate;
  if (!r.content_format || !carries_format) return {};
  const std::string* ct = announced_formats(device);
  if (ct == nullptr || takes(device, *ct, *r.content_format)) return {};
  return make_error(ErrorKind::kUnsupported,
                    "device " + device.registration.endpoint + " does not support content format " +
                        lwm2m::to_name(*r.content_format) + " (" +
                        std::to_string(static_cast<unsigned>(*r.content_format)) +
                        "; it announced ct=" + *ct + ")");
}

void DeviceManager::perform(const LocalDevice& device, const bus::Request& r, ReplyHandler done) {
  if (Status s = check_format(device, r); !s) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    return boost::asio::post(
        ctx_.io, [done = std::move(done), reply = bus::format_err(r.ticket, s.error().message)] {
          done(reply);
        });
  }
  if (r.kind == RequestKind::kObserve) return observe(device, r, std::move(done));
  if (r.kind == RequestKind::kCancelObserve) return cancel_observe(device, r, std::move(done));
  if (bus::is_composite(r.kind)) return composite(device, r, std::move(done));
  auto request = build(device, r);
  if (!request) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    return boost::asio::post(
        ctx_.io, [done = std::move(done),
                  reply = bus::format_err(r.ticket, request.error().message)] { done(reply); });
  }
  request->token = new_token();
  const ContentFormat requested =
      r.content_format ? *r.content_format : default_format(device, r.path);
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(*request), device_wait(r),
      lifetime_.guard([this, kind = r.kind, path = r.path, ticket = r.ticket, requested,
                       endpoint = device.registration.endpoint,
                       done = std::move(done)](Result<CoapMessage> response) {
        if (!response) return done(unanswered(kind, ticket, endpoint, response.error()));
        auto rep = interpret(kind, path, requested, *response);
        if (ctx_.metrics) ctx_.metrics->answered(kind, outcome_of(response, rep.ok()));
        done(rep ? bus::format_rep(ticket, *rep) : bus::format_err(ticket, rep.error().message));
      }));
}

// How long a bus request waits for its device: the node's device timeout,
// but when the requester said how long it waits (the request's "timeout"),
// a second less (at least half a second), so that it gets the node's error
// rather than silence.
std::chrono::milliseconds DeviceManager::device_wait(const bus::Request& r) const {
  if (!r.timeout_ms) return ctx_.device_timeout;
  const std::chrono::milliseconds before_requester(std::max<int64_t>(*r.timeout_ms - 1000, 500));
  return std::min(ctx_.device_timeout, before_requester);
}

void DeviceManager::observe(const LocalDevice& device, const bus::Request& r, ReplyHandler done) {
  const ContentFormat format =
      r.content_format ? *r.content_format : default_format(device, r.path);
  CoapMessage m = observe_request(device.registration, r.path, format, new_token(), kRegister);
  store::Observation obs{store::token_to_hex(m.token),
                         device.registration.endpoint,
                         device.registration.reg_id,
                         r.path,
                         format,
                         r.ticket,
                         ctx_.now_ms()};
  // Registered before sending: the first notification may overtake the
  // store's acknowledgement.
  const std::string token = m.token;  // read before `m` is moved into the call below
  observations_[token] = obs;
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(m), device_wait(r),
      lifetime_.guard(
          [this, obs, format, token, done = std::move(done)](Result<CoapMessage> response) {
            settle_observation(obs, token, response);
            if (!response)
              return done(
                  unanswered(RequestKind::kObserve, obs.ticket, obs.endpoint, response.error()));
            auto rep = interpret(RequestKind::kObserve, obs.path, format, *response);
            if (ctx_.metrics)
              ctx_.metrics->answered(RequestKind::kObserve, outcome_of(response, rep.ok()));
            if (!rep) return done(bus::format_err(obs.ticket, rep.error().message));
            rep->observe = response->observe().has_value();
            rep->token_hex = obs.token_hex;
            done(bus::format_rep(obs.ticket, *rep));
          }));
}

// The device came to this node by an Update (its former owner died, hung or
// was cut off, or the device's address moved): the observations the store
// holds for it are asked for again, with their tokens, paths and formats,
// so their notifications go on under their tickets. The answer's value is
// forwarded as a notification. Observations the device refuses leave the
// store; those it does not answer stay there.
void DeviceManager::reestablish_observations(const LocalDevice& device) {
  const std::string endpoint = device.registration.endpoint;
  ctx_.observations.list(
      endpoint, lifetime_.guard([this, endpoint](Result<std::vector<store::Observation>> stored) {
        if (!stored) {
          ++ctx_.counters.store_errors;
          return;
        }
        const LocalDevice* now_here = ctx_.devices.by_endpoint(endpoint);
        if (now_here == nullptr) return;  // gone again meanwhile
        for (store::Observation& obs : *stored) {
          auto token = store::token_from_hex(obs.token_hex);  // a bad record is skipped
          if (!token || observations_.count(*token) != 0) continue;
          reobserve(*now_here, std::move(*token), std::move(obs));
        }
      }));
}

void DeviceManager::renew_observations(const LocalDevice& device) {
  std::erase_if(observations_, [&](const auto& entry) {
    return entry.second.endpoint == device.registration.endpoint;
  });
  reestablish_observations(device);
}

void DeviceManager::reobserve(const LocalDevice& device, std::string token,
                              store::Observation obs) {
  auto m = observe_message(device.registration, obs, token, kRegister);
  if (!m) {  // a record that cannot be asked for again (paths that do not encode)
    ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
    return;
  }
  obs.reg_id = device.registration.reg_id;
  observations_[token] = obs;  // a notification may overtake the answer
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(*m), ctx_.device_timeout,
      lifetime_.guard([this, obs, token](Result<CoapMessage> response) {
        if (!response) {
          observations_.erase(token);  // kept in the store for a later takeover
          if (response.error().kind == ErrorKind::kTimeout) ++ctx_.counters.device_timeouts;
          return;
        }
        auto it = observations_.find(token);
        if (!lwm2m::is_success(response->code) || !response->observe()) {
          if (it != observations_.end()) observations_.erase(it);
          ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
          return;
        }
        ++ctx_.counters.observations_reestablished;
        if (it != observations_.end()) forward(it, *response);
      }));
}

void DeviceManager::cancel_observe(const LocalDevice& device, const bus::Request& r,
                                   ReplyHandler done) {
  // The observation to cancel: by the observe ticket when given, else the
  // (first) observation of this endpoint on the path (on the same paths).
  const bool composite = bus::is_composite(r.kind);
  auto found = observations_.end();
  for (auto it = observations_.begin(); it != observations_.end(); ++it) {
    const store::Observation& o = it->second;
    if (o.endpoint != device.registration.endpoint) continue;
    if (!r.observe_ticket.empty() ? o.ticket == r.observe_ticket
        : composite               ? o.composite() && same_paths(o.paths, r.paths)
                                  : o.path == r.path) {
      found = it;
      break;
    }
  }
  if (found == observations_.end()) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    std::string what = r.path.to_string();
    if (composite) {
      what.clear();
      for (const lwm2m::Path& p : r.paths) what += (what.empty() ? "" : ",") + p.to_string();
      if (what.empty()) what = "ticket " + r.observe_ticket;
    }
    std::string reply = bus::format_err(
        r.ticket, "no observation of " + what + " on " + device.registration.endpoint);
    return boost::asio::post(ctx_.io,
                             [done = std::move(done), reply = std::move(reply)] { done(reply); });
  }
  const std::string token = found->first;
  const store::Observation obs = found->second;
  observations_.erase(found);
  ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
  // Proactive cancel: the observation's GET (FETCH) again, with Observe 1.
  auto m = observe_message(device.registration, obs, token, kDeregister);
  if (!m) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    std::string reply =
        bus::format_cancelled(r.ticket, obs.ticket, std::nullopt, m.error().message);
    return boost::asio::post(ctx_.io,
                             [done = std::move(done), reply = std::move(reply)] { done(reply); });
  }
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(*m), device_wait(r),
      [metrics = ctx_.metrics, kind = r.kind, obs, ticket = r.ticket,
       done = std::move(done)](Result<CoapMessage> response) {
        if (metrics) metrics->answered(kind, outcome_of(response, true));
        // Without an answer the observation is still gone on our
        // side, and its next notification will be reset.
        done(response ? bus::format_cancelled(ticket, obs.ticket, response->code, "")
                      : bus::format_cancelled(ticket, obs.ticket, std::nullopt,
                                              response.error().message));
      });
}

bool DeviceManager::on_notification(const PeerInfo& peer, const CoapMessage& n) {
  auto it = observations_.find(n.token);
  if (it == observations_.end()) return adopt_observation(peer, n);
  if (const LocalDevice* device = ctx_.devices.by_endpoint(it->second.endpoint);
      device != nullptr && !(device->peer.address == peer.address))
    follow_address(*device, peer);
  forward(it, n);
  return true;
}

void DeviceManager::forward(std::unordered_map<std::string, store::Observation>::iterator it,
                            const CoapMessage& n) {
  const store::Observation& obs = it->second;
  ++ctx_.counters.notifications;
  if (ctx_.metrics) ctx_.metrics->notifications_forwarded.inc();
  if (obs.composite()) {
    ctx_.bus.publish(ctx_.channels.responses, composite_notification(obs, n));
  } else {
    const bus::NotificationSource source{obs.endpoint, obs.path};
    auto rep = interpret(RequestKind::kObserve, obs.path, obs.content_format, n);
    ctx_.bus.publish(ctx_.channels.responses,
                     rep ? bus::format_notification(obs.ticket, *rep, source)
                         : bus::format_err(obs.ticket, rep.error().message));
  }
  // A notification with an error code ends the observation (RFC 7641 3.2).
  if (!lwm2m::is_success(n.code)) {
    ctx_.observations.remove(obs.endpoint, obs.token_hex, [](Result<bool>) {});
    observations_.erase(it);
  }
}

// A notification of an observation this node does not hold: the node that
// held it died (or hangs, or was cut off), or the device's address changed
// (NAT rebinding) and the load balancer now sends the device here. The
// observation is found in the store by its token alone (the address may be
// one no registration has): this node takes the device and the observation
// over and forwards the notification. The notification is acknowledged at
// once (the lookups take three round trips), so the device keeps its
// observation; its content is forwarded when the lookups succeed. A token
// the store does not know is remembered and reset from then on.
bool DeviceManager::adopt_observation(const PeerInfo& peer, const CoapMessage& n) {
  if (n.token.empty() || unknown_tokens_.count(n.token) != 0) return false;
  if (!adopting_.insert(n.token).second) return true;  // looked up already; this one is lost
  ctx_.observations.find_by_token(
      store::token_to_hex(n.token),
      lifetime_.guard([this, peer, n](Result<std::optional<store::Observation>> obs) mutable {
        if (!obs || !*obs) return not_adopted(n.token, !obs);
        // Copied first: the callback below takes the observation by move,
        // and argument evaluation order is unspecified.
        const std::string endpoint = (*obs)->endpoint;
        ctx_.registrations.get_by_endpoint(
            endpoint, lifetime_.guard([this, peer, n, endpoint, obs = std::move(**obs)](
                                          Result<std::optional<store::Registration>> reg) mutable {
              if (!reg || !*reg) return not_adopted(n.token, !reg);
              adopting_.erase(n.token);
              const bool taken = take_over(peer, std::move(**reg));
              if (!taken)  // this node's device already, heard from a new address
                if (const LocalDevice* device = ctx_.devices.by_endpoint(endpoint);
                    device != nullptr && !(device->peer.address == peer.address))
                  follow_address(*device, peer);
              ++ctx_.counters.observations_adopted;
              auto [it, fresh] = observations_.emplace(n.token, std::move(obs));
              forward(it, n);
              // The device's other observations are asked for again now,
              // not left until each notifies.
              if (taken)
                if (const LocalDevice* device = ctx_.devices.by_endpoint(endpoint))
                  reestablish_observations(*device);
            }));
      }));
  return true;
}

void DeviceManager::not_adopted(const std::string& token, bool store_failed) {
  adopting_.erase(token);
  if (store_failed) return;  // asked again with the next notification
  if (unknown_tokens_.size() >= 10'000) unknown_tokens_.clear();
  unknown_tokens_.insert(token);
}

// Makes this node the device's owner: in memory, in the store (ownership
// and the address it talks from), and on the bus (so a former owner that
// only hung lets the device go when it wakes up).
bool DeviceManager::take_over(const PeerInfo& peer, store::Registration reg) {
  if (ctx_.devices.by_endpoint(reg.endpoint)) return false;
  spdlog::info("taking over {} (owned by {})", reg.endpoint, reg.owner);
  ++ctx_.counters.devices_taken_over;
  hold_at(peer, std::move(reg));
  return true;
}

// A device of this node talks from a new address (NAT rebinding): requests
// go there from now on, and the store's record and address index say so.
void DeviceManager::follow_address(const LocalDevice& device, const PeerInfo& peer) {
  spdlog::info("{} moved from {} to {}", device.registration.endpoint,
               device.peer.address.to_string(), peer.address.to_string());
  ++ctx_.counters.addresses_followed;
  ctx_.transport.readdress(device.peer, peer);  // requests under way follow it too
  hold_at(peer, device.registration);
}

// The device as this node's, talking from `peer`: in memory, in the store
// and on the bus.
void DeviceManager::hold_at(const PeerInfo& peer, store::Registration reg) {
  store::RegistrationUpdate update;
  update.reg_id = reg.reg_id;
  update.peer = peer.address;
  update.now_ms = reg.last_update_ms;  // not an Update of the device: its lifetime runs on
  store::apply_update(reg, update);
  reg.owner = ctx_.node_id;
  ctx_.devices.put(LocalDevice{reg, peer});
  ctx_.registrations.update(
      update, ctx_.node_id, lifetime_.guard([this](Result<store::UpdatedRegistration> r) {
        if (!r) {
          ++ctx_.counters.store_errors;
          return;
        }
        ctx_.bus.publish(
            ctx_.channels.registration_update,
            bus::format_registration_event(bus::RegistrationEventKind::kUpdate, r->current));
      }));
}

void DeviceManager::drop_observations(const store::Registration& reg) {
  for (auto it = observations_.begin(); it != observations_.end();) {
    if (it->second.endpoint == reg.endpoint)
      it = observations_.erase(it);
    else
      ++it;
  }
  ctx_.observations.remove_all(reg.endpoint, [](Result<std::vector<store::Observation>>) {});
}

// ---- Composite operations ---------------------------------------------------------

Result<ContentFormat> DeviceManager::composite_format(const LocalDevice& device,
                                                      const bus::Request& r) const {
  const std::string& ep = device.registration.endpoint;
  if (device.registration.lwm2m_version == "1.0")
    return make_error(ErrorKind::kUnsupported, "device " + ep +
                                                   " is an LwM2M 1.0 client: composite "
                                                   "operations need LwM2M 1.1");
  const std::string* ct = announced_formats(device);
  if (r.content_format) {
    if (!lwm2m::carries_composite(*r.content_format))
      return make_error(
          ErrorKind::kUnsupported,
          std::string("composite operations travel in SENML_JSON or SENML_CBOR, not ") +
              lwm2m::to_name(*r.content_format));
    if (ct != nullptr && !announces(*ct, *r.content_format))
      return make_error(ErrorKind::kUnsupported,
                        "device " + ep + " does not support content format " +
                            lwm2m::to_name(*r.content_format) + " (" +
                            std::to_string(static_cast<unsigned>(*r.content_format)) +
                            "; it announced ct=" + *ct + ")");
    return *r.content_format;
  }
  if (ct == nullptr || announces(*ct, ContentFormat::kSenmlJson)) return ContentFormat::kSenmlJson;
  if (announces(*ct, ContentFormat::kSenmlCbor)) return ContentFormat::kSenmlCbor;
  return make_error(ErrorKind::kUnsupported,
                    "device " + ep + " announced neither SENML_JSON nor SENML_CBOR (ct=" + *ct +
                        "): composite operations need one of them");
}

Result<CoapMessage> DeviceManager::composite_write(const LocalDevice& device, const bus::Request& r,
                                                   ContentFormat format) const {
  const auto given = bus::composite_nodes(r);
  if (given.empty()) return make_error(ErrorKind::kInvalidArgument, "nothing to write");
  std::vector<lwm2m::PathNode> nodes;
  nodes.reserve(given.size());
  for (const auto& [path, json] : given) {
    auto node = bus::node_from_json(*json, path, ctx_.models);
    if (!node) return make_error(node.error().kind, path.to_string() + ": " + node.error().message);
    nodes.push_back(lwm2m::PathNode{path, std::move(*node)});
  }
  auto payload = lwm2m::encode_composite(format, nodes);
  if (!payload) return payload.error();
  CoapMessage m = request_to(CoapCode::kIpatch, lwm2m::Path(), device.registration.root_path);
  m.add_uint_option(opt::kContentFormat, static_cast<uint32_t>(format));
  m.payload.assign(payload->begin(), payload->end());
  return m;
}

Result<bus::CompositeResponse> DeviceManager::interpret_composite(
    RequestKind kind, std::span<const lwm2m::Path> paths, ContentFormat requested,
    const CoapMessage& response) const {
  bus::CompositeResponse rep;
  rep.code = response.code;
  if (!lwm2m::is_success(response.code)) {
    rep.error_message = response.payload;
    return rep;
  }
  if (kind == RequestKind::kWriteComposite || response.code != coap_code(CoapCode::kContent))
    return rep;
  const uint32_t cf_number = response.content_format().value_or(static_cast<uint32_t>(requested));
  auto format = lwm2m::content_format_from_number(cf_number);
  if (!format || !lwm2m::carries_composite(*format))
    return make_error(ErrorKind::kUnsupported,
                      "device answered a composite request in content format " +
                          std::to_string(cf_number) + ", not SENML_JSON or SENML_CBOR");
  auto nodes = lwm2m::decode_composite(*format, paths, as_bytes(response.payload), ctx_.models);
  if (!nodes)
    return make_error(ErrorKind::kMalformed, "cannot decode the device's " +
                                                 std::string(lwm2m::to_name(*format)) +
                                                 " payload: " + nodes.error().message);
  rep.content_format = *format;
  rep.content.emplace();
  rep.content->reserve(paths.size());
  for (const lwm2m::Path& p : paths) {
    bus::PathContent c{p, std::nullopt};
    for (lwm2m::PathNode& pn : *nodes)
      if (pn.path == p) c.node = std::move(pn.node);
    rep.content->push_back(std::move(c));
  }
  return rep;
}

void DeviceManager::composite(const LocalDevice& device, const bus::Request& r, ReplyHandler done) {
  if (r.kind == RequestKind::kCancelObserveComposite)
    return cancel_observe(device, r, std::move(done));
  auto fail = [&](const std::string& why) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    boost::asio::post(
        ctx_.io, [done = std::move(done), reply = bus::format_err(r.ticket, why)] { done(reply); });
  };
  auto format = composite_format(device, r);
  if (!format) return fail(format.error().message);
  if (r.kind == RequestKind::kObserveComposite)
    return observe_composite(device, r, *format, std::move(done));
  auto request = r.kind == RequestKind::kWriteComposite
                     ? composite_write(device, r, *format)
                     : composite_fetch(device.registration, r.paths, *format, std::nullopt);
  if (!request) return fail(request.error().message);
  request->token = new_token();
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(*request), device_wait(r),
      lifetime_.guard([this, kind = r.kind, paths = r.paths, ticket = r.ticket, format = *format,
                       endpoint = device.registration.endpoint,
                       done = std::move(done)](Result<CoapMessage> response) {
        if (!response) return done(unanswered(kind, ticket, endpoint, response.error()));
        auto rep = interpret_composite(kind, paths, format, *response);
        if (ctx_.metrics) ctx_.metrics->answered(kind, outcome_of(response, rep.ok()));
        done(rep ? bus::format_composite_rep(ticket, *rep)
                 : bus::format_err(ticket, rep.error().message));
      }));
}

void DeviceManager::observe_composite(const LocalDevice& device, const bus::Request& r,
                                      ContentFormat format, ReplyHandler done) {
  auto m = composite_fetch(device.registration, r.paths, format, kRegister);
  if (!m) {
    if (ctx_.metrics) ctx_.metrics->answered(r.kind, NodeMetrics::Outcome::kError);
    return boost::asio::post(
        ctx_.io, [done = std::move(done), reply = bus::format_err(r.ticket, m.error().message)] {
          done(reply);
        });
  }
  m->token = new_token();
  store::Observation obs{store::token_to_hex(m->token),
                         device.registration.endpoint,
                         device.registration.reg_id,
                         lwm2m::Path(),
                         format,
                         r.ticket,
                         ctx_.now_ms(),
                         r.paths};
  // Registered before sending: the first notification may overtake the
  // store's acknowledgement.
  const std::string token = m->token;
  observations_[token] = obs;
  ++ctx_.counters.device_requests;
  ctx_.transport.send_request(
      device.peer, std::move(*m), device_wait(r),
      lifetime_.guard(
          [this, obs, format, token, done = std::move(done)](Result<CoapMessage> response) {
            constexpr RequestKind kKind = RequestKind::kObserveComposite;
            settle_observation(obs, token, response);
            if (!response)
              return done(unanswered(kKind, obs.ticket, obs.endpoint, response.error()));
            auto rep = interpret_composite(kKind, obs.paths, format, *response);
            if (ctx_.metrics) ctx_.metrics->answered(kKind, outcome_of(response, rep.ok()));
            if (!rep) return done(bus::format_err(obs.ticket, rep.error().message));
            rep->observe = response->observe().has_value();
            rep->token_hex = obs.token_hex;
            done(bus::format_composite_rep(obs.ticket, *rep));
          }));
}

std::string DeviceManager::unanswered(RequestKind kind, const std::string& ticket,
                                      const std::string& endpoint, const Error& error) {
  if (error.kind == ErrorKind::kTimeout) ++ctx_.counters.device_timeouts;
  if (ctx_.metrics)
    ctx_.metrics->answered(kind, error.kind == ErrorKind::kTimeout ? NodeMetrics::Outcome::kTimeout
                                                                   : NodeMetrics::Outcome::kError);
  return bus::format_err(ticket, "device " + endpoint + ": " + error.message);
}

void DeviceManager::settle_observation(const store::Observation& obs, const std::string& token,
                                       const Result<CoapMessage>& response) {
  if (!response || !lwm2m::is_success(response->code) || !response->observe()) {
    observations_.erase(token);  // unanswered, refused or not observable
    return;
  }
  ctx_.observations.add(obs, lifetime_.guard([this](Result<bool> stored) {
    if (!stored) ++ctx_.counters.store_errors;
  }));
}

std::string DeviceManager::composite_notification(const store::Observation& obs,
                                                  const CoapMessage& n) const {
  auto rep = interpret_composite(RequestKind::kObserveComposite, obs.paths, obs.content_format, n);
  if (!rep) return bus::format_err(obs.ticket, rep.error().message);
  return bus::format_composite_notification(obs.ticket, *rep,
                                            bus::CompositeSource{obs.endpoint, obs.paths});
}

Result<CoapMessage> DeviceManager::observe_message(const store::Registration& reg,
                                                   const store::Observation& obs, std::string token,
                                                   uint32_t observe) const {
  if (!obs.composite())
    return observe_request(reg, obs.path, obs.content_format, std::move(token), observe);
  auto m = composite_fetch(reg, obs.paths, obs.content_format, observe);
  if (m) m->token = std::move(token);
  return m;
}

}  // namespace fogm2m::server
