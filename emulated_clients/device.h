// One emulated LwM2M 1.1 device (an IPSO 3313 accelerometer): what a
// transport talks to. No sockets, no timers and no threads: a transport
// feeds it CoAP messages and the time, and sends what it returns. The same
// Device runs over UdpDevice (udp_device.h), DtlsDevice, in the fleet and in
// tests on a fake clock.
//
// Its parts, one file each:
//   device_objects.h       the object tree (objects, values, the sensor walk)
//   attributes.h           Write-Attributes and what is in force where
//   observations.h         the observe engine: when each observation notifies
//   registration_client.h  Register, Update, De-register and their retries
//   device.cc              the Device Management and Information Reporting
//                          operations on the tree (below)
//
// Time. Every call takes `now` (a steady_clock time point; tests pass any
// values that never go backwards). next_deadline() says when the device next
// needs tick(); a transport arms one timer for it. Nothing happens between
// calls. The sensors are sampled every sample period while something
// observes; an unobserved device wakes for nothing and takes the samples due
// when a request or a tick comes (so a million idle devices cost no CPU).
//
// Requests (handle_request; LwM2M 1.1 TS-Core 6.3, 6.4, 5.1):
//   GET              Read; Accept picks TEXT, OPAQUE, TLV, LwM2M JSON, or (1.1
//                    only) SenML JSON, SenML CBOR or LwM2M CBOR, default
//                    TLV; 4.06 when the format cannot carry the node or is
//                    unknown.
//   GET Accept:40    Discover (link format with dim, ver and attributes).
//   GET Observe:0/1  Observe / cancel observation (by token).
//   PUT              Write (replace); with only Uri-Query, Write-Attributes.
//   POST /o          Create (2.01, Location-Path o/i); /o/i Write (partial
//                    update); /o/i/r Execute (4.05 when not executable).
//   DELETE /o/i      Delete (3313 and 3303 instances; 4.05 on 1 and 3).
//   FETCH /          Read-Composite (LwM2M 1.1 devices; TS-Core 6.3.x): the
//                    body (Content-Format SenML JSON or CBOR) lists paths as
//                    records with only names; the answer (Accept, else the
//                    body's format) holds the values of those that exist,
//                    4.04 when none does. With Observe 0/1: Observe-Composite
//                    and its cancellation (observations.h says when a
//                    composite notifies).
//   iPATCH /         Write-Composite: SenML records of writable resources,
//                    all checked before any is written (2.04; 4.04, 4.05,
//                    4.00 as Write).
//   4.04 unknown path (and all of /0, hidden from servers as Leshan and
//   Wakaama clients hide it), 4.00 malformed or type-mismatched payload,
//   4.05 operation not allowed on the target, 4.15 unknown Content-Format.
// on_reset() (RST) and on_timeout() (CON not acknowledged) cancel the
// observation of a token. A new registration drops all observations (the
// server has dropped them too).
//
// Send (LwM2M 1.1, DeviceConfig::send_period): while registered, tick()
// emits POST /dp (CON) with the accelerometers' x, y, z in SenML JSON or
// CBOR every send period; its answer comes back through handle_response()
// (counted as sends or send_errors).
//
// Queue mode (DeviceConfig::queue_mode): the device registers with binding
// UQ (1.0) or b=U&Q (1.1) and is awake for awake_time after each message it
// sends (a registration request, a Send, a notification, an answer);
// asleep() then says its radio is off, and the transports drop incoming
// requests unanswered (counted in dropped_asleep) until it next sends.
//
// Bootstrap happens before a Device exists (bootstrap_client.h gives the
// server URI, lifetime and PSK it is then built with). Not emulated:
// block-wise transfer; FETCH
// and iPATCH elsewhere than "/" (and on LwM2M 1.0 devices) are 4.05. DTLS is DtlsDevice's (the PSK
// material lives in /0/0).
//
// Threading: none; a Device is used from one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "emulated_clients/attributes.h"
#include "emulated_clients/device_config.h"
#include "emulated_clients/device_counters.h"
#include "emulated_clients/device_objects.h"
#include "emulated_clients/observations.h"
#include "emulated_clients/registration_client.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/content_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

class Device {
 public:
  Device(std::shared_ptr<const DeviceConfig> config, DeviceIdentity identity);

  // The object models every Device types payloads with (the built-in ones).
  static const lwm2m::ModelRegistry& models() { return DeviceObjects::models(); }

  const std::string& endpoint() const { return objects_.endpoint(); }
  uint64_t seed() const { return seed_; }
  const DeviceConfig& config() const { return objects_.config(); }

  // ---- Life cycle and registration ------------------------------------------

  // Starts sampling and, when `register_with_server`, registration: Register
  // goes out at the next tick. Calling it again restarts registration.
  void start(TimePoint now, bool register_with_server = true);

  // The De-register request when registered (state becomes kDeregistering
  // until its response, timeout or reset); otherwise nullopt, and the state
  // becomes kStopped. Sampling and answering requests go on.
  std::optional<lwm2m::CoapMessage> deregister(TimePoint now);

  // The transport's path to the server changed (a new DTLS session after
  // the old one went silent, a new address): an Update goes out at the next
  // tick when registered, so the server learns where the device is and, if
  // another node took the device over, asks again for its observations.
  void request_update() { registration_.request_update(); }

  RegistrationState registration_state() const { return registration_.state(); }
  bool registered() const { return registration_.registered(); }
  // "/rd/abc" from the Register response's Location-Path; empty before.
  const std::string& registration_location() const { return registration_.location(); }

  // ---- Time -----------------------------------------------------------------

  // When tick() next has work: a sample, a registration message, or a
  // notification that pmin, pmax or the clock may release. May lie in the
  // past (tick at once); TimePoint::max() when idle.
  TimePoint next_deadline() const;

  // Advances to `now`: samples the sensors (all samples due, at most 200 in
  // a row, then it skips ahead), then appends the registration request due
  // and the notifications due to `out`. Requests are CON and carry a fresh
  // token; notifications are CON or NON. Message IDs are left 0 for the
  // transport to assign.
  void tick(TimePoint now, std::vector<lwm2m::CoapMessage>& out);

  // The notifications due at `now` (tick() includes them), returned or
  // appended to `out`.
  std::vector<lwm2m::CoapMessage> collect_notifications(TimePoint now);
  void collect_notifications(TimePoint now, std::vector<lwm2m::CoapMessage>& out);

  // ---- Server requests ------------------------------------------------------

  // The response to one request from the server (see the header comment).
  // For a CON request it is an ACK with the request's message ID (piggy-
  // backed); for a NON request a NON with message ID 0 (the transport
  // assigns one). Token copied. Never fails: errors are response codes.
  lwm2m::CoapMessage handle_request(const lwm2m::CoapMessage& request, TimePoint now);

  // ---- Responses to the device's own requests and transport verdicts ---------

  // Consumes a response to a registration request, matched by token. False
  // when the token is not the outstanding request's.
  bool handle_response(const lwm2m::CoapMessage& response, TimePoint now);

  // The transport gave up on a CON with `token` (no ACK): a registration
  // request fails, an observation is cancelled.
  void on_timeout(std::string_view token, TimePoint now);

  // The peer answered a message with `token` by RST: same as on_timeout.
  void on_reset(std::string_view token, TimePoint now);

  // Queue mode: the radio is off at `now` (incoming requests are to be
  // dropped, and counted with count_dropped()). Always false otherwise.
  bool asleep(TimePoint now) const { return config().queue_mode && now >= awake_until_; }
  void count_dropped() { ++counters_.dropped_asleep; }

  // ---- Inspection -----------------------------------------------------------

  bool has_observation(std::string_view token) const;
  size_t observation_count() const { return observations_.size(); }
  const DeviceCounters& counters() const { return counters_; }

  // The node at `path` as the device holds it, without the server's access
  // rules (so /0 is readable). kNotFound for absent paths.
  Result<lwm2m::Node> read_local(const lwm2m::Path& path, TimePoint now) const;

  // The attributes written at exactly `path` (nullopt when none).
  std::optional<Attributes> attributes_at(const lwm2m::Path& path) const;

  // One random-walk step of every sensor (what each sample period does).
  void sample() { objects_.sample(); }

 private:
  using Code = DeviceObjects::Code;

  // The Device Management and Information Reporting operations (device.cc).
  Code do_read(const lwm2m::CoapMessage& req, const lwm2m::Path& path, TimePoint now,
               lwm2m::CoapMessage& resp);
  Code do_observe(const lwm2m::CoapMessage& req, const lwm2m::Path& path, TimePoint now,
                  lwm2m::CoapMessage& resp);
  Code do_discover(const lwm2m::Path& path, lwm2m::CoapMessage& resp) const;
  Code do_write(const lwm2m::CoapMessage& req, const lwm2m::Path& path, bool replace,
                TimePoint now);
  Code do_write_attributes(const lwm2m::CoapMessage& req, const lwm2m::Path& path);
  Code do_execute(const lwm2m::Path& path);
  Code do_create(const lwm2m::CoapMessage& req, const lwm2m::Path& path, lwm2m::CoapMessage& resp);
  Code do_delete(const lwm2m::Path& path);
  // Read-Composite: the paths asked for into `paths`, the nodes answered
  // into `nodes`.
  Code do_read_composite(const lwm2m::CoapMessage& req, TimePoint now, lwm2m::CoapMessage& resp,
                         std::vector<lwm2m::Path>& paths, std::vector<lwm2m::PathNode>& nodes);
  Code do_observe_composite(const lwm2m::CoapMessage& req, TimePoint now, lwm2m::CoapMessage& resp);
  Code do_write_composite(const lwm2m::CoapMessage& req, TimePoint now);
  // Takes the samples due at `now` (at most kMaxCatchUpSamples in a row,
  // then it skips ahead).
  void catch_up_samples(TimePoint now);
  // The Send due at `now`, if any (LwM2M 1.1, registered, send_period).
  void maybe_send(TimePoint now, std::vector<lwm2m::CoapMessage>& out);
  // Hands what writes and executes changed on to the registration client.
  void note_changes() { registration_.note(objects_.take_changes()); }

  // Keep it small: a fleet holds 100k of these.
  uint64_t seed_;
  DeviceObjects objects_;
  AttributeTable attributes_;
  Observations observations_;
  RegistrationClient registration_;
  bool sampling_ = false;
  bool send_pending_ = false;  // a Send is outstanding (send_token_)
  uint32_t send_token_ = 0;
  TimePoint next_sample_{};
  TimePoint next_send_{};    // while registered with a send period
  TimePoint awake_until_{};  // queue mode: the radio is on until then
  DeviceCounters counters_;
};

}  // namespace fogm2m::emulated
