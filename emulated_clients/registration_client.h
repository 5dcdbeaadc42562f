// The registration client of an emulated device (LwM2M 1.1 TS-Core 6.2): its
// state machine and the requests it sends.
//
// start() -> Register (POST /rd?ep=&lt=&lwm2m=&b=, link payload) -> 2.01 +
// Location-Path -> Registered; Update (POST /rd/<id>) at 90% of the
// lifetime, or at once when asked (request_update(): Registration Update
// Trigger, a Lifetime or Binding write, a Create or Delete, which then carry
// lt, b or the object list); 4.04 on Update -> Register again at once; any
// other failure or a timeout -> Register again after an exponential,
// jittered back-off. deregister() builds DELETE /rd/<id>. One request is
// outstanding at a time, with a 4-byte token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulated_clients/device_config.h"
#include "emulated_clients/device_counters.h"
#include "emulated_clients/device_objects.h"
#include "lwm2m/coap_message.h"

namespace fogm2m::emulated {

enum class RegistrationState : uint8_t {
  kStopped,        // not started, or de-registered
  kRegisterDue,    // Register will go out at the registration deadline
  kRegistering,    // Register sent, waiting for its response
  kRegistered,     // Update will go out at the update deadline
  kUpdating,       // Update sent (still registered)
  kDeregistering,  // De-register sent
};
const char* to_string(RegistrationState state);

class RegistrationClient {
 public:
  // `seed`: tokens and back-off jitter.
  explicit RegistrationClient(uint64_t seed) : rng_(seed) {}

  // Register goes out at the next tick. Calling it again restarts.
  void start(TimePoint now);

  // The De-register when registered (the state becomes kDeregistering until
  // its response, timeout or reset); otherwise nullopt, and kStopped.
  std::optional<lwm2m::CoapMessage> deregister(TimePoint now, const DeviceConfig& config);

  // What the server must hear of in the next Update (from DeviceObjects).
  void note(const DeviceObjects::Changes& changes);

  // An Update at the next tick when registered (the transport's path to the
  // server changed: a new DTLS session, a new address); nothing otherwise.
  void request_update() {
    if (state_ == RegistrationState::kRegistered) update_now_ = true;
  }

  // Appends the registration request due at `now`, if any, built from
  // `objects` (endpoint, lifetime, binding, object list); a request left
  // unanswered past DeviceConfig::request_timeout counts as failed here.
  void tick(TimePoint now, const DeviceObjects& objects, const std::string& endpoint,
            std::vector<lwm2m::CoapMessage>& out, DeviceCounters& counters);

  enum class Answer {
    kNotMine,     // not the response to the outstanding request
    kTaken,       // consumed
    kRegistered,  // consumed: a new registration began (observations end)
  };
  Answer handle_response(const lwm2m::CoapMessage& response, TimePoint now, uint32_t lifetime_s,
                         const DeviceConfig& config, DeviceCounters& counters);

  // The transport gave up on the request with `token`, or it was reset:
  // true when it was the outstanding request (which then failed).
  bool on_failure(std::string_view token, TimePoint now, const DeviceConfig& config,
                  DeviceCounters& counters);

  // When tick() next has work; TimePoint::max() when idle.
  TimePoint next_deadline() const;
  RegistrationState state() const { return state_; }
  bool registered() const {
    return state_ == RegistrationState::kRegistered || state_ == RegistrationState::kUpdating;
  }
  // "/rd/abc" from the Register response's Location-Path; empty before.
  const std::string& location() const { return location_; }

 private:
  lwm2m::CoapMessage make_request(uint8_t code);
  lwm2m::CoapMessage make_register(const DeviceObjects& objects, const std::string& endpoint);
  lwm2m::CoapMessage make_update(const DeviceObjects& objects);
  // `retry_after`: the server's Max-Age on 5.03/4.29 (when to try again),
  // used instead of the back-off.
  void failed(TimePoint now, bool update_not_found, const DeviceConfig& config,
              DeviceCounters& counters, std::optional<Duration> retry_after = std::nullopt);
  Duration backoff(const DeviceConfig& config);
  bool is_pending_token(std::string_view token) const;

  RegistrationState state_ = RegistrationState::kStopped;
  uint8_t failures_ = 0;          // consecutive failed registration requests
  bool pending_ = false;          // a registration request is outstanding
  bool update_now_ = false;       // an Update is wanted before its deadline
  bool send_lifetime_ = false;    // the next Update carries lt=
  bool send_binding_ = false;     // ... b=
  bool send_objects_ = false;     // ... the object list
  uint32_t pending_token_ = 0;    // the outstanding request's token (4 bytes)
  TimePoint deadline_{};          // kRegisterDue: Register; kRegistered: Update
  TimePoint pending_deadline_{};  // kRegistering/kUpdating/kDeregistering: give up
  uint64_t rng_;
  std::string location_;
};

}  // namespace fogm2m::emulated
