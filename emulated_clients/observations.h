// The observe engine of an emulated device (RFC 7641, LwM2M 1.1 TS-Core
// 6.4): the observations servers hold on its tree, and when each notifies.
//
// An observation notifies when its value changed since its last
// notification and pmin has passed, and gt/lt (a crossing) or st (a step)
// allow it when set; and after pmax even when unchanged (pmax below pmin is
// ignored). Attributes come from the AttributeTable with the Server
// object's defaults; gt/lt/st count only on the observed resource itself.
// Observe numbers come from one counter, so they increase for every
// observation. Every Nth notification of an observation is CON
// (DeviceConfig::notify_con_every), the others NON; a target that is gone
// sends one CON error notification (4.04) and ends the observation.
//
// A composite observation (Observe-Composite, TS-Core 6.4.x) watches several
// paths under one token and notifies all of them in one SenML pack when any
// changed. Its periods are the composite's as a whole: the shortest pmin
// and the shortest pmax in force at any of its paths (so no path waits
// longer than it asked; a path without pmin makes the composite's 0); gt,
// lt and st do not apply. A path that is gone is left out of the pack; when
// all are gone the observation ends with a 4.04 like a single one.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "emulated_clients/attributes.h"
#include "emulated_clients/device_counters.h"
#include "emulated_clients/device_objects.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/content_format.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"

namespace fogm2m::emulated {

class Observations {
 public:
  // Starts observing `path` for `token` (or renews the observation of that
  // token), answered in `format`; `sent` is the value the Observe response
  // carries, the reference of the next notification. False, and nothing
  // observed, when the token is longer than 8 bytes or `limit` observations
  // exist already.
  bool observe(std::string_view token, const lwm2m::Path& path, lwm2m::ContentFormat format,
               const lwm2m::Node& sent, const DeviceObjects& objects, TimePoint now, size_t limit);
  // Starts (or renews) the composite observation of `paths` for `token`,
  // answered in `format` (SenML JSON or CBOR); `sent` are the nodes the
  // Observe-Composite response carries. Limits as observe().
  bool observe_composite(std::string_view token, std::span<const lwm2m::Path> paths,
                         lwm2m::ContentFormat format, std::span<const lwm2m::PathNode> sent,
                         const DeviceObjects& objects, TimePoint now, size_t limit);
  // Ends the observation of `token`; false when there was none.
  bool cancel(std::string_view token);
  bool has(std::string_view token) const;
  size_t size() const { return observations_.size(); }
  bool empty() const { return observations_.empty(); }
  void clear() { observations_.clear(); }

  // The Observe option of the next response or notification.
  uint32_t next_observe_number() { return observe_seq_++ & kObserveMask; }

  // Attributes changed: every observation is evaluated again at the next
  // collect(), whatever the data did.
  void reevaluate(const DeviceObjects& objects) {
    for (Observation& o : observations_) o.checked_version = objects.data_version() - 1;
  }

  // Appends the notifications due at `now` to `out`.
  void collect(TimePoint now, const DeviceObjects& objects, const AttributeTable& attributes,
               std::vector<lwm2m::CoapMessage>& out, DeviceCounters& counters);

  // The earliest time pmin, pmax or the clock may release a notification;
  // TimePoint::max() when none can come without a change of data.
  TimePoint next_deadline(const DeviceObjects& objects, const AttributeTable& attributes) const;

 private:
  static constexpr uint32_t kObserveMask = 0xFFFFFF;  // Observe is a 24-bit number

  struct Observation {
    std::array<char, 8> token{};
    uint8_t token_size = 0;
    uint16_t since_con = 0;  // notifications since the last CON one
    lwm2m::ContentFormat format = lwm2m::ContentFormat::kTlv;
    lwm2m::Path path;
    uint32_t checked_version = 0;  // DeviceObjects::data_version() at the last evaluation
    uint64_t fingerprint = 0;      // hash of the last notified value(s)
    double last_number = 0;        // last notified value, for gt/lt/st
    TimePoint last_notify{};
    TimePoint next_check{};  // when the clock alone may change the value (Current Time)
    // A composite observation's paths (`path` is then the root); null for a
    // single one, so the common case costs one pointer.
    std::unique_ptr<std::vector<lwm2m::Path>> paths{};
    std::string_view token_view() const { return {token.data(), token_size}; }
  };

  Observation* find(std::string_view token);
  // The observation of `token`, found or made (reset to a single one), or
  // null when the token is too long or `limit` observations exist.
  Observation* start(std::string_view token, const DeviceObjects& objects, TimePoint now,
                     size_t limit);
  // The observation's value follows the clock (it covers Current Time, /3/0/13).
  static bool follows_clock(const Observation& o);
  // What is in force for `o` (composite_attributes() for a composite).
  Attributes attributes_of(const Observation& o, const AttributeTable& attributes,
                           const Attributes& defaults) const;

  std::vector<Observation> observations_;
  uint32_t observe_seq_ = 1;
};

}  // namespace fogm2m::emulated
