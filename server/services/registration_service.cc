#include "server/services/registration_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>

#include "bus/registration_event.h"
#include "lwm2m/content_format.h"
#include "lwm2m/registration_links.h"
#include "server/node_metrics.h"

namespace fogm2m::server {

using lwm2m::CoapCode;
using lwm2m::CoapMessage;

CoapMessage coap_response(CoapCode code, std::string diagnostic) {
  CoapMessage m;
  m.code = static_cast<uint8_t>(code);
  m.payload = std::move(diagnostic);  // diagnostic payload (RFC 7252 5.5.2)
  return m;
}

namespace {

// Query parameters of Register and Update.
struct RegistrationParams {
  std::optional<std::string> endpoint;
  std::optional<int64_t> lifetime_s;
  std::optional<std::string> version;
  std::optional<std::string> binding;
  std::optional<std::string> sms;
  bool queue_mode = false;
  std::map<std::string, std::string> additional;
};

Result<RegistrationParams> parse_params(const CoapMessage& request) {
  RegistrationParams p;
  for (std::string_view q : request.uri_queries()) {
    const size_t eq = q.find('=');
    const std::string_view name = q.substr(0, eq);
    const std::string_view value =
        eq == std::string_view::npos ? std::string_view() : q.substr(eq + 1);
    if (name == "ep") {
      if (value.empty()) return make_error(ErrorKind::kMalformed, "empty endpoint name");
      p.endpoint = std::string(value);
    } else if (name == "lt") {
      int64_t lt = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), lt);
      if (ec != std::errc() || end != value.data() + value.size() || lt <= 0 || lt > 0xffffffffLL)
        return make_error(ErrorKind::kMalformed,
                          "lifetime \"" + std::string(value) + "\" is not a positive number");
      p.lifetime_s = lt;
    } else if (name == "lwm2m") {
      p.version = std::string(value);
    } else if (name == "b") {
      if (value.empty() || value.find_first_not_of("UQSTN") != std::string_view::npos)
        return make_error(ErrorKind::kMalformed,
                          "binding \"" + std::string(value) + "\" is not made of U, Q, S, T, N");
      p.binding = std::string(value);
      if (value.find('Q') != std::string_view::npos) p.queue_mode = true;
    } else if (name == "sms") {
      p.sms = std::string(value);
    } else if (name == "Q") {
      p.queue_mode = true;
    } else {
      p.additional[std::string(name)] = std::string(value);
    }
  }
  return p;
}

// Link payload of Register/Update; an absent payload is no links.
Result<std::optional<lwm2m::RegistrationLinks>> parse_links(const CoapMessage& request) {
  if (request.payload.empty()) return std::optional<lwm2m::RegistrationLinks>{};
  if (auto cf = request.content_format();
      cf && *cf != static_cast<uint32_t>(lwm2m::ContentFormat::kLinkFormat))
    return make_error(ErrorKind::kMalformed,
                      "payload content format " + std::to_string(*cf) + " is not link-format");
  auto links = lwm2m::parse_registration_links(request.payload);
  if (!links) return links.error();
  return std::optional<lwm2m::RegistrationLinks>(std::move(*links));
}

bool supported_version(const std::string& v) {
  return v == "1.0" || v == "1.1" || v == "1.2";
}

// How long a device should wait before trying again while a store is out
// of reach (the node reconnects within about two seconds of Redis' return).
constexpr uint32_t kRetryAfterS = 2;

// The answer to a store failure: 5.03 with Max-Age (RFC 7252 5.9.3.4: when
// to try again) when the store is out of reach, 5.00 for anything else.
CoapMessage store_failure(const Error& error, std::string_view store) {
  if (error.kind == ErrorKind::kIo) {
    CoapMessage m =
        coap_response(CoapCode::kServiceUnavailable, std::string(store) + " unavailable");
    m.add_uint_option(lwm2m::coap_option::kMaxAge, kRetryAfterS);
    return m;
  }
  return coap_response(CoapCode::kInternalServerError, std::string(store) + " failed");
}

}  // namespace

void RegistrationService::handle(const PeerInfo& peer, const CoapMessage& request,
                                 Responder respond) {
  // Every answer with an error code, from any of the paths below, is a
  // rejection.
  if (NodeMetrics* metrics = ctx_.metrics)
    respond = [metrics, respond = std::move(respond)](CoapMessage response) {
      if (!lwm2m::is_success(response.code)) metrics->registrations_rejected.inc();
      respond(std::move(response));
    };
  const auto segments = request.uri_path_segments();
  if (segments.empty() || segments[0] != "rd" || segments.size() > 2)
    return respond(coap_response(CoapCode::kNotFound));
  const auto method = static_cast<CoapCode>(request.code);
  if (segments.size() == 1) {
    if (method != CoapCode::kPost) return respond(coap_response(CoapCode::kMethodNotAllowed));
    return do_register(peer, request, std::move(respond));
  }
  const std::string reg_id(segments[1]);
  if (method == CoapCode::kPost || method == CoapCode::kPut)
    return do_update(peer, reg_id, request, std::move(respond));
  if (method == CoapCode::kDelete) return do_deregister(peer, reg_id, std::move(respond));
  respond(coap_response(CoapCode::kMethodNotAllowed));
}

bool RegistrationService::admit(uint32_t& max_age_s) {
  const int64_t second = ctx_.now_ms() / 1000;
  if (second != second_) {
    const bool consecutive = second == second_ + 1;
    admitted_before_ = consecutive ? admitted_ : 0;
    deferred_before_ = consecutive ? deferred_ : 0;
    admitted_ = deferred_ = 0;
    second_ = second;
  }
  if (max_in_flight_ == 0 || *in_flight_ < max_in_flight_) {
    ++admitted_;
    return true;
  }
  ++deferred_;
  ++deferred_total_;
  // Spread the returns over the time the node needs for what it turned
  // away last second at the rate it admitted (at least 1 s, at most 60 s).
  const uint64_t rate = std::max<uint64_t>(admitted_before_, 1);
  const uint64_t window =
      std::clamp<uint64_t>((deferred_before_ + rate - 1) / rate, uint64_t{1}, uint64_t{60});
  rng_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = (rng_ ^ (rng_ >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  max_age_s = static_cast<uint32_t>(1 + (z ^ (z >> 31)) % window);
  return false;
}

void RegistrationService::do_register(const PeerInfo& peer, const CoapMessage& request,
                                      Responder respond) {
  if (uint32_t max_age_s = 0; !admit(max_age_s)) {
    CoapMessage busy = coap_response(CoapCode::kServiceUnavailable, "overloaded, retry later");
    busy.add_uint_option(lwm2m::coap_option::kMaxAge, max_age_s);
    return respond(std::move(busy));
  }
  ++*in_flight_;
  respond = [in_flight = in_flight_, respond = std::move(respond)](CoapMessage response) {
    --*in_flight;
    respond(std::move(response));
  };
  auto params = parse_params(request);
  if (!params) return respond(coap_response(CoapCode::kBadRequest, params.error().message));
  if (!params->endpoint)
    return respond(coap_response(CoapCode::kBadRequest, "missing endpoint name (ep)"));
  const std::string version = params->version.value_or("1.0");
  if (!supported_version(version))
    return respond(
        coap_response(CoapCode::kPreconditionFailed, "unsupported LwM2M version " + version));
  auto links = parse_links(request);
  if (!links) return respond(coap_response(CoapCode::kBadRequest, links.error().message));

  store::Registration reg;
  reg.endpoint = *params->endpoint;
  reg.reg_id = store::new_registration_id();
  reg.lifetime_s = params->lifetime_s.value_or(86400);
  reg.lwm2m_version = version;
  reg.binding = params->binding.value_or("U");
  reg.sms = params->sms.value_or("");
  reg.queue_mode = params->queue_mode;
  reg.peer = peer.address;
  reg.secure = peer.secure;
  reg.psk_identity = peer.psk_identity;
  if (*links) {
    reg.root_path = (*links)->root_path;
    reg.object_links = std::move((*links)->links);
  }
  reg.additional_attributes = std::move(params->additional);
  reg.registration_date_ms = reg.last_update_ms = ctx_.now_ms();
  reg.owner = ctx_.node_id;

  // A device with PSK security info must register over DTLS with its own
  // identity; a DTLS identity must belong to the endpoint it registers.
  // (The endpoint is copied first: the callback below takes `reg` by move,
  // and argument evaluation order is unspecified.)
  const std::string endpoint = reg.endpoint;
  ctx_.security.get_by_endpoint(
      endpoint, lifetime_.guard([this, peer, reg = std::move(reg), respond = std::move(respond)](
                                    Result<std::optional<store::SecurityInfo>> info) mutable {
        if (!info) {
          ++ctx_.counters.store_errors;
          return respond(store_failure(info.error(), "security store"));
        }
        const bool allowed =
            *info ? (peer.secure && peer.psk_identity == (*info)->identity) : !peer.secure;
        if (!allowed) {
          spdlog::warn("register of {} from {} refused: security mismatch", reg.endpoint,
                       peer.address.to_string());
          return respond(coap_response(CoapCode::kForbidden));
        }
        finish_register(peer, std::move(reg), std::move(respond));
      }));
}

void RegistrationService::finish_register(const PeerInfo& peer, store::Registration reg,
                                          Responder respond) {
  ctx_.registrations.add(
      reg, lifetime_.guard([this, peer, reg, respond = std::move(respond)](
                               Result<std::optional<store::Registration>> previous) {
        if (!previous) {
          ++ctx_.counters.store_errors;
          spdlog::error("register of {}: {}", reg.endpoint, previous.error().message);
          return respond(store_failure(previous.error(), "registration store"));
        }
        if (*previous) ctx_.devices.erase((*previous)->endpoint);
        ctx_.devices.put(LocalDevice{reg, peer});
        ++ctx_.counters.registrations;
        if (ctx_.metrics) ctx_.metrics->registrations_created.inc();
        ctx_.bus.publish(ctx_.channels.registration_new,
                         bus::format_registration_event(bus::RegistrationEventKind::kNew, reg));
        CoapMessage created = coap_response(CoapCode::kCreated);
        created.set_location_path("/rd/" + reg.reg_id);
        respond(std::move(created));
        const LocalDevice* device = ctx_.devices.by_endpoint(reg.endpoint);
        if (device == nullptr) return;
        if (*previous && on_reregistered) on_reregistered(**previous, *device);
        if (on_heard) on_heard(*device);
      }));
}

void RegistrationService::do_update(const PeerInfo& peer, const std::string& reg_id,
                                    const CoapMessage& request, Responder respond) {
  auto params = parse_params(request);
  if (!params) return respond(coap_response(CoapCode::kBadRequest, params.error().message));
  if (params->endpoint || params->version)
    return respond(coap_response(CoapCode::kBadRequest, "ep and lwm2m are not allowed in Update"));
  auto links = parse_links(request);
  if (!links) return respond(coap_response(CoapCode::kBadRequest, links.error().message));

  store::RegistrationUpdate update;
  update.reg_id = reg_id;
  update.lifetime_s = params->lifetime_s;
  update.binding = params->binding;
  update.sms = params->sms;
  update.peer = peer.address;
  if (*links) update.object_links = std::move((*links)->links);
  update.now_ms = ctx_.now_ms();

  auto apply = [this, peer, update, respond](const store::Registration& current) mutable {
    // A secure registration may only be updated by the same PSK identity.
    if (current.secure != peer.secure || (peer.secure && current.psk_identity != peer.psk_identity))
      return respond(coap_response(CoapCode::kForbidden));
    // Once a device has an Update waiting for the store, later ones join it,
    // so the store sees them in order.
    if (unwritten_.contains(update.reg_id)) return update_from_memory(peer, update, respond);
    ctx_.registrations.update(
        update, ctx_.node_id,
        lifetime_.guard([this, peer, update, respond](Result<store::UpdatedRegistration> r) {
          if (!r) {
            if (r.error().kind == ErrorKind::kNotFound)
              return respond(coap_response(CoapCode::kNotFound));
            ++ctx_.counters.store_errors;
            if (r.error().kind == ErrorKind::kIo && ctx_.devices.by_reg_id(update.reg_id))
              return update_from_memory(peer, update, respond);
            return respond(store_failure(r.error(), "registration store"));
          }
          const bool taken_over =
              ctx_.devices.by_reg_id(update.reg_id) == nullptr && r->previous.owner != ctx_.node_id;
          // A secure device heard from another address is on another DTLS
          // session, and observations end with the session they were made on.
          const bool new_session =
              !taken_over && peer.secure && !(r->previous.peer == peer.address);
          ctx_.devices.put(LocalDevice{r->current, peer});
          ++ctx_.counters.updates;
          if (ctx_.metrics) ctx_.metrics->registrations_updated.inc();
          if (taken_over && on_taken_over) on_taken_over(*ctx_.devices.by_reg_id(update.reg_id));
          if (new_session && on_new_session) on_new_session(*ctx_.devices.by_reg_id(update.reg_id));
          ctx_.bus.publish(
              ctx_.channels.registration_update,
              bus::format_registration_event(bus::RegistrationEventKind::kUpdate, r->current));
          respond(coap_response(CoapCode::kChanged));
          if (on_heard)
            if (const LocalDevice* device = ctx_.devices.by_reg_id(update.reg_id))
              on_heard(*device);
        }));
  };

  if (const LocalDevice* local = ctx_.devices.by_reg_id(reg_id)) return apply(local->registration);
  // Not ours (yet): the device may have moved here from another node.
  ctx_.registrations.get_by_reg_id(
      reg_id, lifetime_.guard(
                  [this, apply, respond](Result<std::optional<store::Registration>> found) mutable {
                    if (!found) {
                      ++ctx_.counters.store_errors;
                      return respond(store_failure(found.error(), "registration store"));
                    }
                    if (!*found) return respond(coap_response(CoapCode::kNotFound));
                    apply(**found);
                  }));
}

// A device this node owns updates while the store is out of reach: the
// in-memory registration takes the Update, the store gets it later.
void RegistrationService::update_from_memory(const PeerInfo& peer,
                                             const store::RegistrationUpdate& update,
                                             const Responder& respond) {
  const LocalDevice* local = ctx_.devices.by_reg_id(update.reg_id);
  if (!local) return respond(coap_response(CoapCode::kNotFound));
  store::Registration current = local->registration;
  store::apply_update(current, update);
  ctx_.devices.put(LocalDevice{std::move(current), peer});
  unwritten_.add(update);
  ++ctx_.counters.updates;
  ++ctx_.counters.updates_from_memory;
  if (ctx_.metrics) ctx_.metrics->registrations_updated.inc();
  respond(coap_response(CoapCode::kChanged));
  if (on_heard)
    if (const LocalDevice* device = ctx_.devices.by_reg_id(update.reg_id)) on_heard(*device);
  write_one(update.reg_id);  // fails at once while the store is away; kept
}

void RegistrationService::write_through() {
  if (unwritten_.size() > 0)
    spdlog::info("writing {} registration updates kept while Redis was away", unwritten_.size());
  for (const std::string& reg_id : unwritten_.reg_ids()) write_one(reg_id);
}

void RegistrationService::write_one(const std::string& reg_id) {
  auto write = unwritten_.begin_write(reg_id);
  if (!write) return;
  ctx_.registrations.update(
      write->update, ctx_.node_id,
      lifetime_.guard(
          [this, reg_id, version = write->version](Result<store::UpdatedRegistration> r) {
            if (r) {
              ++ctx_.counters.updates_written_through;
              ctx_.bus.publish(
                  ctx_.channels.registration_update,
                  bus::format_registration_event(bus::RegistrationEventKind::kUpdate, r->current));
              if (unwritten_.written(reg_id, version)) write_one(reg_id);
              return;
            }
            if (r.error().kind != ErrorKind::kNotFound) return unwritten_.write_failed(reg_id);
            // The store lost the record (a Redis restart without persistence,
            // or its expiry passed while the Update waited): the device is
            // alive and ours, so its registration is written whole again.
            const LocalDevice* local = ctx_.devices.by_reg_id(reg_id);
            if (!local) return unwritten_.erase(reg_id);
            store::Registration reg = local->registration;
            reg.owner = ctx_.node_id;
            ctx_.registrations.add(
                reg, lifetime_.guard(
                         [this, reg_id, version](Result<std::optional<store::Registration>> added) {
                           if (!added) return unwritten_.write_failed(reg_id);
                           ++ctx_.counters.updates_written_through;
                           if (unwritten_.written(reg_id, version)) write_one(reg_id);
                         }));
          }));
}

void RegistrationService::do_deregister(const PeerInfo& peer, const std::string& reg_id,
                                        Responder respond) {
  if (const LocalDevice* local = ctx_.devices.by_reg_id(reg_id);
      local && (local->registration.secure != peer.secure ||
                (peer.secure && local->registration.psk_identity != peer.psk_identity)))
    return respond(coap_response(CoapCode::kForbidden));
  ctx_.registrations.remove(
      reg_id, lifetime_.guard([this, respond](Result<store::Registration> removed) {
        if (!removed) {
          if (removed.error().kind == ErrorKind::kNotFound)
            return respond(coap_response(CoapCode::kNotFound));
          ++ctx_.counters.store_errors;
          return respond(store_failure(removed.error(), "registration store"));
        }
        ++ctx_.counters.deregistrations;
        if (ctx_.metrics) ctx_.metrics->registrations_deregistered.inc();
        publish_removed(*removed);
        respond(coap_response(CoapCode::kDeleted));
      }));
}

void RegistrationService::publish_removed(const store::Registration& reg) {
  unwritten_.erase(reg.reg_id);
  ctx_.devices.erase(reg.endpoint);
  if (on_removed) on_removed(reg);
  ctx_.bus.publish(ctx_.channels.registration_delete,
                   bus::format_registration_event(bus::RegistrationEventKind::kDelete, reg));
}

void RegistrationService::sweep_expired(int64_t grace_ms) {
  if (sweeping_) return;  // a slow store gets one sweep at a time
  sweeping_ = true;
  ctx_.registrations.remove_expired(
      ctx_.now_ms(), grace_ms,
      lifetime_.guard([this, grace_ms](Result<std::vector<store::Registration>> expired) {
        sweeping_ = false;
        if (!expired) {
          ++ctx_.counters.store_errors;
          spdlog::warn("expiry sweep: {}", expired.error().message);
          return;
        }
        for (const store::Registration& reg : *expired) {
          // Kept alive from memory while the store was away: not expired,
          // the record is written again instead.
          if (unwritten_.contains(reg.reg_id) && ctx_.devices.by_reg_id(reg.reg_id)) {
            write_one(reg.reg_id);
            continue;
          }
          ++ctx_.counters.expirations;
          if (ctx_.metrics) ctx_.metrics->registrations_expired.inc();
          spdlog::debug("registration of {} expired", reg.endpoint);
          publish_removed(reg);
        }
        if (!expired->empty())
          spdlog::info("expiry sweep: {} registrations expired", expired->size());
        // A full batch: more are waiting (a whole fleet gone at once); go
        // on after whatever else is ready.
        if (expired->size() >= store::kExpiredPerSweep)
          boost::asio::post(ctx_.io,
                            lifetime_.guard([this, grace_ms] { sweep_expired(grace_ms); }));
      }));
}

void RegistrationService::on_event(std::string_view channel, std::string_view message) {
  const std::optional<bus::RegistrationEventKind> kind = ctx_.channels.registration_kind(channel);
  if (!kind) return;
  auto reg = bus::parse_registration_event(*kind, message);
  if (!reg) return;
  const LocalDevice* local = ctx_.devices.by_endpoint(reg->endpoint);
  if (!local) return;
  if (*kind == bus::RegistrationEventKind::kDelete) {
    if (local->registration.reg_id == reg->reg_id) ctx_.devices.erase(reg->endpoint);
    return;
  }
  if (reg->owner != ctx_.node_id) {  // another node took the device over
    spdlog::info("{} moved to node {}", reg->endpoint, reg->owner);
    ctx_.devices.erase(reg->endpoint);
  }
}

}  // namespace fogm2m::server
