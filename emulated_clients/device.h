// One emulated LwM2M 1.1 device (an IPSO 3313 accelerometer): its object
// tree, its answers to Device Management and Information Reporting requests,
// its notifications and its registration state machine. No sockets, no
// timers and no threads: a transport feeds it CoAP messages and the time, and
// sends what it returns. The same Device runs over UdpDevice (udp_device.h),
// in the fleet (many devices driven from one timer) and in tests on a fake
// clock.
//
// Time. Every call takes `now` (a steady_clock time point; tests pass any
// values that never go backwards). next_deadline() says when the device next
// needs tick(); a transport arms one timer for it (a fleet keeps devices in a
// timing wheel by it). Nothing happens between calls.
//
// Objects (LwM2M 1.1 core objects 1.1, IPSO objects 1.0):
//   0 Security     /0/0: server URI, Bootstrap-Server false, Security Mode
//                  3 NoSec, or 0 PSK with identity and key when given; Short
//                  Server ID 1. Hidden from the server, as Leshan and Wakaama
//                  clients hide it: every request on /0 is 4.04 and Register
//                  does not list it (read_local() sees it).
//   1 Server       /1/0: Short Server ID 1, Lifetime (RW), Default Minimum /
//                  Maximum Period (RW, 0 = none), Notification Storing (RW),
//                  Binding (RW), Registration Update Trigger (E).
//   3 Device       /3/0: Manufacturer "fogm2m", Model "accelerometer-emulator",
//                  Serial (from the endpoint name), Firmware Version, Reboot
//                  (E: resets values), Available Power Sources and Power
//                  Source Voltage (multiple: battery 3800 mV, USB 5000 mV),
//                  Battery Level, Error Code, Current Time, UTC Offset,
//                  Timezone (RW), Supported Binding "U".
//   3313 Accel.    /3313/0 (more by Create): Min/Max Range, Units "m/s2",
//                  X/Y/Z. X/Y/Z follow a seeded random walk, one step per
//                  sample period, clamped to the range and quantised to
//                  1/256 m/s2 (exact in float32, so TLV carries 4 bytes).
//   3303 Temp.     /3303/0 when DeviceConfig::temperature (same walk, Celsius).
//
// Requests (handle_request; LwM2M 1.1 TS-Core 6.3, 6.4, 5.1):
//   GET              Read; Accept picks TEXT, OPAQUE, TLV, LwM2M JSON or SenML
//                    JSON (1.1 only), default TLV; 4.06 when the format
//                    cannot carry the node or is unknown.
//   GET Accept:40    Discover (link format with dim, ver and attributes).
//   GET Observe:0/1  Observe / cancel observation (by token).
//   PUT              Write (replace); with only Uri-Query, Write-Attributes.
//   POST /o          Create (2.01, Location-Path o/i); /o/i Write (partial
//                    update); /o/i/r Execute (4.05 when not executable).
//   DELETE /o/i      Delete (3313 and 3303 instances; 4.05 on 1 and 3).
//   4.04 unknown path, 4.00 malformed or type-mismatched payload, 4.05
//   operation not allowed on the target, 4.15 unknown Content-Format.
//
// Notifications (tick / collect_notifications): an observation notifies
// when its value changed since its last notification and pmin has passed,
// and gt/lt (a crossing) or st (a step) allow it when set; and after pmax
// even when unchanged (pmax below pmin is ignored). Attributes are inherited
// resource > instance > object > Server defaults (/1/0/2, /1/0/3); gt/lt/st
// count only on the observed resource itself. Observe numbers come from one
// per-device counter, so they increase for every observation. Every Nth
// notification of an observation is CON (DeviceConfig::notify_con_every),
// the others NON; a deleted target sends one CON 4.04 and ends the
// observation. on_reset() (RST) and on_timeout() (CON not acknowledged)
// cancel the observation of a token.
//
// Registration: start() -> Register (POST /rd?ep=&lt=&lwm2m=&b=, link
// payload) -> 2.01 + Location-Path -> Registered; Update (POST /rd/<id>) at
// 90% of the lifetime, at once after Registration Update Trigger, a Lifetime
// or Binding write, or a Create/Delete (then carrying lt, b or the object
// list); 4.04 on Update -> Register again at once; any other failure or a
// timeout -> Register again after an exponential, jittered back-off.
// deregister() builds DELETE /rd/<id>. A new registration drops all
// observations (the server has dropped them too).
//
// Not emulated: Bootstrap, DTLS (PSK material is only stored), queue mode,
// Send, composite operations (FETCH/iPATCH: 4.05), block-wise transfer.
//
// Threading: none; a Device is used from one thread at a time.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/coap_message.h"
#include "lwm2m/content_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

enum class Lwm2mVersion : uint8_t { k1_0, k1_1 };

// Unix time minus steady_clock time, in milliseconds, as of this call.
int64_t unix_minus_steady_ms();

// What many devices share (one object for a whole fleet). Immutable once a
// Device holds it.
struct DeviceConfig {
  std::string server_uri = "coap://127.0.0.1:5683";
  Lwm2mVersion version = Lwm2mVersion::k1_1;
  uint32_t lifetime_s = 300;
  std::string binding = "U";
  std::string firmware_version = "0.1.0";
  std::string utc_offset = "+00:00";
  std::string timezone = "Etc/UTC";
  // One random-walk step of every sensor per period; zero disables sampling.
  std::chrono::milliseconds sample_period{50};
  double accel_min = -20.0;  // /3313/x/5603 of instance 0 and of created ones
  double accel_max = 20.0;   // /3313/x/5604
  double accel_step = 0.05;  // largest change of one axis per sample, m/s2
  bool temperature = false;  // expose /3303/0 too
  // Every Nth notification of an observation is CON (1: all, 0: none).
  uint32_t notify_con_every = 10;
  // Observations beyond this many are answered as plain reads (RFC 7641 4.1).
  uint16_t max_observations = 32;
  // Back-off before Register is retried: base * 2^failures, at most max,
  // times a random factor in [0.75, 1.25).
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_max{60000};
  // A registration request without response or transport verdict after this
  // long counts as failed (a transport normally reports first; 93 s is
  // CoAP's MAX_TRANSMIT_WAIT).
  std::chrono::milliseconds request_timeout{93000};
  // Unix time = steady time + this (Current Time, /3/0/13).
  int64_t unix_minus_steady_ms = emulated::unix_minus_steady_ms();
};

// What differs between devices.
struct DeviceIdentity {
  std::string endpoint;      // the registration's ep= and the serial number
  uint64_t seed = 1;         // sensor walk, tokens, jitter
  std::string psk_identity;  // empty: NoSec
  std::string psk_key;       // raw key bytes
};

enum class RegistrationState : uint8_t {
  kStopped,        // not started, or de-registered
  kRegisterDue,    // Register will go out at the registration deadline
  kRegistering,    // Register sent, waiting for its response
  kRegistered,     // Update will go out at the update deadline
  kUpdating,       // Update sent (still registered)
  kDeregistering,  // De-register sent
};
const char* to_string(RegistrationState state);

struct DeviceCounters {
  uint32_t requests_answered = 0;   // every handle_request call
  uint32_t error_responses = 0;     // of those, answered with 4.xx/5.xx
  uint32_t notifications_sent = 0;  // notifications returned by tick
  uint32_t registrations = 0;       // Register answered 2.01
  uint32_t updates = 0;             // Update answered 2.04
  uint32_t deregistrations = 0;     // De-register answered (any code) or timed out
  uint32_t errors = 0;  // failed or timed-out registration requests, cancelled observations
};

// Write-Attributes of one path (LwM2M 1.1 TS-Core 5.1.2). Unset ones are absent.
struct Attributes {
  enum : uint8_t { kPmin = 1, kPmax = 2, kGt = 4, kLt = 8, kSt = 16, kEpmin = 32, kEpmax = 64 };
  uint8_t set = 0;                                    // which of the fields below are present
  uint32_t pmin = 0, pmax = 0, epmin = 0, epmax = 0;  // seconds
  double gt = 0, lt = 0, st = 0;
  bool has(uint8_t flag) const { return (set & flag) != 0; }
};

class Device {
 public:
  Device(std::shared_ptr<const DeviceConfig> config, DeviceIdentity identity);

  // The object models every Device types payloads with (the built-in ones).
  static const lwm2m::ModelRegistry& models();

  const std::string& endpoint() const { return endpoint_; }
  uint64_t seed() const { return seed_; }
  const DeviceConfig& config() const { return *config_; }

  // ---- Life cycle and registration ------------------------------------------

  // Starts sampling and, when `register_with_server`, registration: Register
  // goes out at the next tick. Calling it again restarts registration.
  void start(TimePoint now, bool register_with_server = true);

  // The De-register request when registered (state becomes kDeregistering
  // until its response, timeout or reset); otherwise nullopt, and the state
  // becomes kStopped. Sampling and answering requests go on.
  std::optional<lwm2m::CoapMessage> deregister(TimePoint now);

  RegistrationState registration_state() const { return reg_state_; }
  bool registered() const {
    return reg_state_ == RegistrationState::kRegistered ||
           reg_state_ == RegistrationState::kUpdating;
  }
  // "/rd/abc" from the Register response's Location-Path; empty before.
  const std::string& registration_location() const { return reg_location_; }

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
  void sample();

 private:
  struct AccelInstance {
    uint16_t id = 0;
    float x = 0, y = 0, z = 0;
    float min = 0, max = 0;
  };
  struct TempInstance {
    uint16_t id = 0;
    float value = 0, min_measured = 0, max_measured = 0;
    float min = 0, max = 0;
  };
  struct Observation {
    std::array<char, 8> token{};
    uint8_t token_size = 0;
    uint16_t since_con = 0;  // notifications since the last CON one
    lwm2m::ContentFormat format = lwm2m::ContentFormat::kTlv;
    lwm2m::Path path;
    uint32_t checked_version = 0;  // data_version_ at the last evaluation
    uint64_t fingerprint = 0;      // hash of the last notified value(s)
    double last_number = 0;        // last notified value, for gt/lt/st
    TimePoint last_notify{};
    TimePoint next_check{};  // when the clock alone may change the value (Current Time)
    std::string_view token_view() const { return {token.data(), token_size}; }
  };
  struct AttributeEntry {
    lwm2m::Path path;
    Attributes attributes;
  };
  struct Psk {
    std::string identity, key;
  };
  // Device-object strings once the server wrote them (else the config's).
  struct WrittenStrings {
    std::string utc_offset, timezone;
  };
  // Outcome of an operation on the tree: a CoAP response code.
  using Code = uint8_t;

  // Tree access.
  bool object_present(uint16_t object_id) const;
  std::vector<uint16_t> instance_ids(uint16_t object_id) const;
  bool instance_present(uint16_t object_id, uint16_t instance_id) const;
  std::span<const uint16_t> resource_ids(uint16_t object_id) const;
  bool resource_present(uint16_t object_id, uint16_t resource_id) const;
  // The readable resource, nullopt when absent or executable.
  std::optional<lwm2m::Resource> read_resource(uint16_t object_id, uint16_t instance_id,
                                               uint16_t resource_id, TimePoint now) const;
  lwm2m::ObjectInstance read_instance(uint16_t object_id, uint16_t instance_id,
                                      TimePoint now) const;
  // The node for a server's Read/Observe: 4.04 or 4.05 in `code` on failure.
  std::optional<lwm2m::Node> read_for_server(const lwm2m::Path& path, TimePoint now,
                                             Code* code) const;
  int64_t unix_time(TimePoint now) const;

  // Operations.
  Code do_read(const lwm2m::CoapMessage& req, const lwm2m::Path& path, TimePoint now,
               lwm2m::CoapMessage& resp);
  Code do_observe(const lwm2m::CoapMessage& req, const lwm2m::Path& path, TimePoint now,
                  lwm2m::CoapMessage& resp);
  Code do_discover(const lwm2m::Path& path, lwm2m::CoapMessage& resp) const;
  Code do_write(const lwm2m::CoapMessage& req, const lwm2m::Path& path, bool replace,
                TimePoint now);
  Code do_write_attributes(const lwm2m::CoapMessage& req, const lwm2m::Path& path);
  Code do_execute(const lwm2m::Path& path, TimePoint now);
  Code do_create(const lwm2m::CoapMessage& req, const lwm2m::Path& path, lwm2m::CoapMessage& resp);
  Code do_delete(const lwm2m::Path& path);
  // Checks a written resource value; applies it when `apply`.
  Code write_resource(uint16_t object_id, uint16_t instance_id, const lwm2m::Resource& resource,
                      TimePoint now, bool apply);
  void reset_values();
  void data_changed() { ++data_version_; }

  // Attributes.
  const Attributes* attributes_ptr(const lwm2m::Path& path) const;
  Attributes effective_attributes(const lwm2m::Path& path, bool with_defaults) const;
  void remove_attributes_under(const lwm2m::Path& path);

  // Observations.
  Observation* find_observation(std::string_view token);
  bool cancel_observation(std::string_view token);
  bool covers_current_time(const lwm2m::Path& path) const;
  TimePoint next_second(TimePoint now) const;  // next change of Current Time

  // Registration.
  lwm2m::CoapMessage make_request(uint8_t code);
  lwm2m::CoapMessage make_register();
  lwm2m::CoapMessage make_update();
  std::string registration_links() const;
  void registration_failed(TimePoint now, bool update_not_found);
  Duration backoff();
  Duration update_interval() const;
  void request_update();
  bool is_pending_token(std::string_view token) const;

  // State. Keep it small: a fleet holds 100k of these.
  std::shared_ptr<const DeviceConfig> config_;
  std::string endpoint_;
  uint64_t seed_;
  std::unique_ptr<const Psk> psk_;  // null: NoSec

  // Server object.
  uint32_t lifetime_s_;
  uint32_t default_pmin_ = 0;
  uint32_t default_pmax_ = 0;
  bool notification_storing_ = false;
  uint8_t binding_size_ = 0;
  std::array<char, 8> binding_{};
  std::string_view binding() const { return {binding_.data(), binding_size_}; }
  void set_binding(std::string_view b);
  // Device object.
  uint8_t battery_level_ = 100;
  int64_t time_offset_s_ = 0;  // written Current Time minus unix time
  std::unique_ptr<WrittenStrings> written_;
  const std::string& utc_offset() const;
  const std::string& timezone() const;

  std::vector<AccelInstance> accel_;
  std::vector<TempInstance> temp_;
  std::vector<Observation> observations_;
  std::vector<AttributeEntry> attributes_;

  uint64_t sensor_rng_;  // the walk only, so it is reproducible for a seed
  uint64_t misc_rng_;    // tokens and jitter
  uint32_t data_version_ = 1;
  uint32_t observe_seq_ = 1;

  bool sampling_ = false;
  TimePoint next_sample_{};

  RegistrationState reg_state_ = RegistrationState::kStopped;
  uint8_t failures_ = 0;          // consecutive failed registration requests
  bool pending_ = false;          // a registration request is outstanding
  bool update_now_ = false;       // an Update is wanted before its deadline
  bool send_lifetime_ = false;    // the next Update carries lt=
  bool send_binding_ = false;     // ... b=
  bool send_objects_ = false;     // ... the object list
  TimePoint reg_deadline_{};      // kRegisterDue: Register; kRegistered: Update
  TimePoint pending_deadline_{};  // kRegistering/kUpdating/kDeregistering: give up
  uint32_t pending_token_ = 0;    // its token (4 bytes)
  std::string reg_location_;

  DeviceCounters counters_;
};

}  // namespace fogm2m::emulated
