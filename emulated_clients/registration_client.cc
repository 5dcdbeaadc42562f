#include "emulated_clients/registration_client.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "emulated_clients/splitmix.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/content_format.h"

namespace fogm2m::emulated {

using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;

namespace {

// An Update goes out at 90% of the lifetime (at least a second after the last).
Duration update_interval(uint32_t lifetime_s) {
  return std::chrono::milliseconds(std::max<int64_t>(1000, int64_t{lifetime_s} * 900));
}

}  // namespace

const char* to_string(RegistrationState state) {
  switch (state) {
    case RegistrationState::kStopped:
      return "stopped";
    case RegistrationState::kRegisterDue:
      return "register-due";
    case RegistrationState::kRegistering:
      return "registering";
    case RegistrationState::kRegistered:
      return "registered";
    case RegistrationState::kUpdating:
      return "updating";
    case RegistrationState::kDeregistering:
      return "deregistering";
  }
  return "?";
}

void RegistrationClient::start(TimePoint now) {
  state_ = RegistrationState::kRegisterDue;
  deadline_ = now;
  failures_ = 0;
  pending_ = false;
}

std::optional<CoapMessage> RegistrationClient::deregister(TimePoint now,
                                                          const DeviceConfig& config) {
  if (!registered()) {
    state_ = RegistrationState::kStopped;
    pending_ = false;
    return std::nullopt;
  }
  CoapMessage m = make_request(coap_code(CoapCode::kDelete));
  m.set_uri_path(location_);
  state_ = RegistrationState::kDeregistering;
  pending_deadline_ = now + config.request_timeout;
  return m;
}

void RegistrationClient::note(const DeviceObjects::Changes& changes) {
  send_lifetime_ |= changes.lifetime;
  send_binding_ |= changes.binding;
  send_objects_ |= changes.objects;
  if (changes.update && registered()) update_now_ = true;
}

void RegistrationClient::tick(TimePoint now, const DeviceObjects& objects,
                              const std::string& endpoint, std::vector<CoapMessage>& out,
                              DeviceCounters& counters) {
  const DeviceConfig& config = objects.config();
  if (pending_ && now >= pending_deadline_) {
    pending_ = false;
    failed(now, false, config, counters);
  }
  if (state_ == RegistrationState::kRegisterDue && now >= deadline_) {
    out.push_back(make_register(objects, endpoint));
    state_ = RegistrationState::kRegistering;
    pending_deadline_ = now + config.request_timeout;
  } else if (state_ == RegistrationState::kRegistered && (update_now_ || now >= deadline_)) {
    out.push_back(make_update(objects));
    state_ = RegistrationState::kUpdating;
    pending_deadline_ = now + config.request_timeout;
  }
}

TimePoint RegistrationClient::next_deadline() const {
  TimePoint d = TimePoint::max();
  if (state_ == RegistrationState::kRegisterDue) d = deadline_;
  if (state_ == RegistrationState::kRegistered) d = update_now_ ? TimePoint{} : deadline_;
  if (pending_) d = std::min(d, pending_deadline_);
  return d;
}

bool RegistrationClient::is_pending_token(std::string_view token) const {
  return pending_ && token.size() == sizeof pending_token_ &&
         std::memcmp(token.data(), &pending_token_, sizeof pending_token_) == 0;
}

// A CON request with a fresh 4-byte token, now the outstanding one.
CoapMessage RegistrationClient::make_request(uint8_t code) {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = code;
  pending_token_ = static_cast<uint32_t>(splitmix64(rng_));
  pending_ = true;
  m.token.assign(reinterpret_cast<const char*>(&pending_token_), sizeof pending_token_);
  return m;
}

CoapMessage RegistrationClient::make_register(const DeviceObjects& objects,
                                              const std::string& endpoint) {
  CoapMessage m = make_request(coap_code(CoapCode::kPost));
  m.set_uri_path("/rd");
  m.add_uri_query("ep=" + endpoint);
  m.add_uri_query("lt=" + std::to_string(objects.lifetime_s()));
  m.add_uri_query(objects.config().version == Lwm2mVersion::k1_1 ? "lwm2m=1.1" : "lwm2m=1.0");
  // Queue mode: LwM2M 1.0 says so in the binding (UQ), 1.1 with Q.
  std::string binding(objects.binding());
  const bool v1_1 = objects.config().version == Lwm2mVersion::k1_1;
  if (objects.config().queue_mode && !v1_1 && binding.find('Q') == std::string::npos)
    binding += 'Q';
  m.add_uri_query("b=" + binding);
  if (objects.config().queue_mode && v1_1) m.add_uri_query("Q");
  m.add_uint_option(lwm2m::coap_option::kContentFormat,
                    static_cast<uint32_t>(lwm2m::ContentFormat::kLinkFormat));
  m.payload = objects.registration_links();
  send_lifetime_ = send_binding_ = send_objects_ = update_now_ = false;
  return m;
}

CoapMessage RegistrationClient::make_update(const DeviceObjects& objects) {
  CoapMessage m = make_request(coap_code(CoapCode::kPost));
  m.set_uri_path(location_);
  if (send_lifetime_) m.add_uri_query("lt=" + std::to_string(objects.lifetime_s()));
  if (send_binding_) m.add_uri_query("b=" + std::string(objects.binding()));
  if (send_objects_) {
    m.add_uint_option(lwm2m::coap_option::kContentFormat,
                      static_cast<uint32_t>(lwm2m::ContentFormat::kLinkFormat));
    m.payload = objects.registration_links();
  }
  send_lifetime_ = send_binding_ = send_objects_ = update_now_ = false;
  return m;
}

Duration RegistrationClient::backoff(const DeviceConfig& config) {
  const double base = static_cast<double>(config.retry_base.count());
  const double cap = static_cast<double>(config.retry_max.count());
  const double ms = std::min(base * std::ldexp(1.0, std::min<int>(failures_, 30)), cap) *
                    (0.75 + 0.5 * uniform01(rng_));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}

void RegistrationClient::failed(TimePoint now, bool update_not_found, const DeviceConfig& config,
                                DeviceCounters& counters, std::optional<Duration> retry_after) {
  ++counters.errors;
  switch (state_) {
    case RegistrationState::kDeregistering:
      ++counters.deregistrations;
      state_ = RegistrationState::kStopped;
      location_.clear();
      return;
    case RegistrationState::kRegistering:
    case RegistrationState::kUpdating:
      state_ = RegistrationState::kRegisterDue;
      if (update_not_found) {
        deadline_ = now;  // the server forgot us: register again at once
      } else if (retry_after) {
        // The server said when (overloaded, or its store away): then, with
        // a quarter of jitter so the refused do not come back together.
        deadline_ = now + *retry_after +
                    std::chrono::duration_cast<Duration>(*retry_after * 0.25 * uniform01(rng_));
        if (failures_ < 30) ++failures_;
      } else {
        deadline_ = now + backoff(config);
        if (failures_ < 30) ++failures_;
      }
      return;
    default:
      return;
  }
}

namespace {

// Max-Age of a 5.03 Service Unavailable or 4.29 Too Many Requests: when the
// server wants to hear from us again (RFC 7252 5.9.3.4, RFC 8516).
std::optional<Duration> retry_after(const CoapMessage& response) {
  if (response.code != coap_code(CoapCode::kServiceUnavailable) &&
      response.code != coap_code(CoapCode::kTooManyRequests))
    return std::nullopt;
  const auto max_age = response.uint_option(lwm2m::coap_option::kMaxAge);
  if (!max_age || *max_age == 0) return std::nullopt;
  return std::chrono::seconds(std::min<uint32_t>(*max_age, 3600));
}

}  // namespace

RegistrationClient::Answer RegistrationClient::handle_response(const CoapMessage& response,
                                                               TimePoint now, uint32_t lifetime_s,
                                                               const DeviceConfig& config,
                                                               DeviceCounters& counters) {
  if (!is_pending_token(response.token) || !response.is_response()) return Answer::kNotMine;
  pending_ = false;
  switch (state_) {
    case RegistrationState::kRegistering: {
      std::string location = response.location_path();
      if (response.code == coap_code(CoapCode::kCreated) && !location.empty()) {
        location_ = std::move(location);
        state_ = RegistrationState::kRegistered;
        deadline_ = now + update_interval(lifetime_s);
        failures_ = 0;
        ++counters.registrations;
        return Answer::kRegistered;
      }
      failed(now, false, config, counters, retry_after(response));
      break;
    }
    case RegistrationState::kUpdating:
      if (response.code == coap_code(CoapCode::kChanged)) {
        state_ = RegistrationState::kRegistered;
        deadline_ = now + update_interval(lifetime_s);
        failures_ = 0;
        ++counters.updates;
      } else {
        failed(now, response.code == coap_code(CoapCode::kNotFound), config, counters,
               retry_after(response));
      }
      break;
    case RegistrationState::kDeregistering:
      ++counters.deregistrations;
      state_ = RegistrationState::kStopped;
      location_.clear();
      break;
    default:
      break;
  }
  return Answer::kTaken;
}

bool RegistrationClient::on_failure(std::string_view token, TimePoint now,
                                    const DeviceConfig& config, DeviceCounters& counters) {
  if (!is_pending_token(token)) return false;
  pending_ = false;
  failed(now, false, config, counters);
  return true;
}

}  // namespace fogm2m::emulated
