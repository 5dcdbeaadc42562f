// What configures an emulated device: what a whole fleet shares
// (DeviceConfig), what each device has of its own (DeviceIdentity), and the
// clock every device part reads its time from.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

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
  // LwM2M 1.1 Send (TS-Core 6.4.6): every this long while registered, POST
  // /dp with the accelerometers' x, y, z (/3313/i/5702..5704) in
  // send_format (SenML JSON or CBOR); zero: never. LwM2M 1.1 devices only.
  std::chrono::milliseconds send_period{0};
  bool send_cbor = false;  // SenML CBOR (112) instead of SenML JSON (110)
  // Queue mode (TS-Core 6.5): registers with binding UQ (1.0) or b=U and Q
  // (1.1); after awake_time without sending a message the radio is off:
  // incoming requests are dropped unanswered until the device next sends
  // (its Update, a Send, a notification).
  bool queue_mode = false;
  std::chrono::milliseconds awake_time{93000};
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

}  // namespace fogm2m::emulated
