#include "server/services/send_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "bus/device_event.h"
#include "bus/node_json.h"
#include "lwm2m/codec/codec.h"
#include "server/services/registration_service.h"

namespace fogm2m::server {

using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::ContentFormat;

namespace {

// The objects `reg` registered (its object links, below its root path);
// empty when it listed none.
std::unordered_set<uint16_t> registered_objects(const store::Registration& reg) {
  std::unordered_set<uint16_t> out;
  std::string_view root = reg.root_path;
  while (!root.empty() && root.back() == '/') root.remove_suffix(1);
  for (const lwm2m::Link& link : reg.object_links) {
    std::string_view uri = link.uri;
    if (!root.empty()) {
      if (!uri.starts_with(root)) continue;
      uri.remove_prefix(root.size());
    }
    auto path = lwm2m::Path::parse(uri);
    if (path && !path->is_root()) out.insert(path->object_id());
  }
  return out;
}

bool same_security(const PeerInfo& peer, const store::Registration& reg) {
  return reg.secure == peer.secure && (!peer.secure || reg.psk_identity == peer.psk_identity);
}

}  // namespace

void SendService::handle(const PeerInfo& peer, const CoapMessage& request, Responder respond) {
  const auto segments = request.uri_path_segments();
  if (segments.size() != 1 || static_cast<CoapCode>(request.code) != CoapCode::kPost) {
    ++ctx_.counters.sends_rejected;
    return respond(coap_response(CoapCode::kMethodNotAllowed, "Send is POST /dp"));
  }
  if (const LocalDevice* device = ctx_.devices.by_peer(peer.address))
    return accept(peer, device->registration, request, std::move(respond));
  // Not one of ours: the load balancer may have moved the device here.
  ctx_.registrations.get_by_address(
      peer.address, lifetime_.guard([this, peer, request, respond = std::move(respond)](
                                        Result<std::optional<store::Registration>> reg) mutable {
        if (!reg) {
          ++ctx_.counters.store_errors;
          ++ctx_.counters.sends_rejected;
          CoapMessage busy =
              coap_response(reg.error().kind == ErrorKind::kIo ? CoapCode::kServiceUnavailable
                                                               : CoapCode::kInternalServerError,
                            "registration store unavailable");
          if (reg.error().kind == ErrorKind::kIo)
            busy.add_uint_option(lwm2m::coap_option::kMaxAge, 2);
          return respond(std::move(busy));
        }
        if (!*reg) {
          ++ctx_.counters.sends_rejected;
          return respond(coap_response(
              CoapCode::kForbidden,
              "no registration for " + peer.address.to_string() + ": Register before Send"));
        }
        accept(peer, **reg, request, std::move(respond));
      }));
}

void SendService::accept(const PeerInfo& peer, const store::Registration& reg,
                         const CoapMessage& request, Responder respond) {
  auto refuse = [&](CoapCode code, std::string why) {
    ++ctx_.counters.sends_rejected;
    spdlog::debug("Send from {} refused: {}", reg.endpoint, why);
    respond(coap_response(code, std::move(why)));
  };
  if (!same_security(peer, reg))
    return refuse(CoapCode::kForbidden,
                  "Send over other security than " + reg.endpoint + " registered with");
  const std::optional<uint32_t> cf = request.content_format();
  if (!cf)
    return refuse(CoapCode::kBadRequest,
                  "Send needs a Content-Format: SenML JSON (110) or SenML CBOR (112)");
  const std::optional<ContentFormat> format = lwm2m::content_format_from_number(*cf);
  if (!format || !lwm2m::carries_composite(*format))
    return refuse(CoapCode::kBadRequest,
                  "Send in content format " + std::to_string(*cf) +
                      " is not supported: SenML JSON (110) or SenML CBOR (112)");
  const auto* bytes = reinterpret_cast<const uint8_t*>(request.payload.data());
  auto nodes = lwm2m::decode_composite_resources(
      *format, std::span<const uint8_t>(bytes, request.payload.size()), ctx_.models);
  if (!nodes)
    return refuse(CoapCode::kBadRequest, std::string("cannot decode the ") +
                                             lwm2m::to_name(*format) +
                                             " payload: " + nodes.error().message);
  if (nodes->empty()) return refuse(CoapCode::kBadRequest, "Send without records");
  const auto objects = registered_objects(reg);
  if (!objects.empty())
    for (const lwm2m::PathNode& pn : *nodes)
      if (objects.count(pn.path.object_id()) == 0)
        return refuse(CoapCode::kNotFound, "object " + std::to_string(pn.path.object_id()) + " (" +
                                               pn.path.to_string() + ") was not registered by " +
                                               reg.endpoint);

  ++ctx_.counters.sends_received;
  respond(coap_response(CoapCode::kChanged));
  const int64_t now = ctx_.now_ms();
  std::vector<store::LastValue> values;
  values.reserve(nodes->size());
  for (const lwm2m::PathNode& pn : *nodes) {
    std::string node_json;
    bus::append_node_json(node_json, pn.node);
    values.push_back(store::LastValue{pn.path.to_string(), std::move(node_json), now});
  }
  values_.put(reg.endpoint, values, lifetime_.guard([this, ep = reg.endpoint](Result<bool> kept) {
    if (kept) return;
    ++ctx_.counters.store_errors;
    spdlog::warn("last values of {} not stored: {}", ep, kept.error().message);
  }));
  ctx_.bus.publish(ctx_.channels.events,
                   bus::format_send_event(reg.endpoint, now, *format, *nodes));
  if (on_heard) on_heard(reg.endpoint);
}

}  // namespace fogm2m::server
