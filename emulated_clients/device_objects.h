// The object tree of one emulated device: what it holds, how its sensors
// walk, and reads and writes of single resources. The device-management
// operations (device.h) and the observe engine (observations.h) work on it.
//
// Objects (LwM2M 1.1 core objects 1.1, IPSO objects 1.0):
//   0 Security     /0/0: server URI, Bootstrap-Server false, Security Mode
//                  3 NoSec, or 0 PSK with identity and key when given; Short
//                  Server ID 1. Hidden from the server (read_for_server).
//   1 Server       /1/0: Short Server ID 1, Lifetime (RW), Default Minimum /
//                  Maximum Period (RW, 0 = none), Notification Storing (RW),
//                  Binding (RW), Registration Update Trigger (E).
//   3 Device       /3/0: Manufacturer "fogm2m", Model "accelerometer-emulator",
//                  Serial (the endpoint name), Firmware Version, Reboot (E:
//                  resets values), Available Power Sources and Power Source
//                  Voltage (multiple: battery 3800 mV, USB 5000 mV), Battery
//                  Level, Error Code, Current Time, UTC Offset, Timezone (RW),
//                  Supported Binding "U".
//   3313 Accel.    /3313/0 (more by create): Min/Max Range, Units "m/s2",
//                  X/Y/Z. X/Y/Z follow a seeded random walk, one step per
//                  sample, clamped to the range and quantised to 1/256 m/s2
//                  (exact in float32, so TLV carries 4 bytes).
//   3303 Temp.     /3303/0 when DeviceConfig::temperature (same walk, Celsius).
//
// Codes are CoAP response codes (lwm2m/coap_code.h) as the device answers
// them. Writes and executes that the server must hear of in an Update
// (Lifetime, Binding, the object list, Registration Update Trigger) are
// collected until take_changes().
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "emulated_clients/attributes.h"
#include "emulated_clients/device_config.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

class DeviceObjects {
 public:
  using Code = uint8_t;

  DeviceObjects(std::shared_ptr<const DeviceConfig> config, const DeviceIdentity& identity);

  // The object models every device types payloads with (the built-in ones).
  static const lwm2m::ModelRegistry& models();
  const DeviceConfig& config() const { return *config_; }
  const std::string& endpoint() const { return endpoint_; }

  // ---- Sensors --------------------------------------------------------------

  // One random-walk step of every sensor.
  void sample();
  // Counts changes of any value: a notification is due only after one.
  uint32_t data_version() const { return data_version_; }
  // Unix time at steady time `now`, as Current Time (/3/0/13) reads.
  int64_t unix_time(TimePoint now) const;
  // The next steady time at which Current Time changes.
  TimePoint next_second(TimePoint now) const;

  // ---- The tree ---------------------------------------------------------------

  bool object_present(uint16_t object_id) const;
  std::vector<uint16_t> instance_ids(uint16_t object_id) const;
  bool instance_present(uint16_t object_id, uint16_t instance_id) const;
  std::span<const uint16_t> resource_ids(uint16_t object_id) const;
  bool resource_present(uint16_t object_id, uint16_t resource_id) const;

  // The node at `path` without the server's access rules (so /0 is
  // readable). kNotFound for absent paths, kUnsupported for an executable
  // resource.
  Result<lwm2m::Node> read_local(const lwm2m::Path& path, TimePoint now) const;
  // The node for a server's Read or Observe; on failure nullopt with 4.04
  // or 4.05 in `*code` (the Security object is hidden: 4.04).
  std::optional<lwm2m::Node> read_for_server(const lwm2m::Path& path, TimePoint now,
                                             Code* code) const;
  // A readable resource; nullopt when absent or executable.
  std::optional<lwm2m::Resource> read_resource(uint16_t object_id, uint16_t instance_id,
                                               uint16_t resource_id, TimePoint now) const;

  // Checks a written resource value (2.04, or 4.00 / 4.04 / 4.05); applies
  // it when `apply`.
  Code write_resource(uint16_t object_id, uint16_t instance_id, const lwm2m::Resource& resource,
                      TimePoint now, bool apply);
  // Executes the resource at `path` (2.04, 4.04, 4.05).
  Code execute(const lwm2m::Path& path);
  // Whether instances of `object_id` can be created now: 0 when they can,
  // else the code to answer (4.04 no such object, 4.05 not creatable, 5.00
  // full).
  Code creatable(uint16_t object_id) const;
  // Adds an instance of object `object_id` with id `given.id` and the
  // resources `given` sets (2.01; 4.00 for a taken id or a bad value; the
  // codes of creatable()).
  Code create(uint16_t object_id, const lwm2m::ObjectInstance& given);
  // A free instance id of `object_id`.
  uint16_t free_instance_id(uint16_t object_id) const;
  // Removes the instance at `path` (2.02, 4.04, 4.05 for Server and Device).
  Code remove(const lwm2m::Path& path);

  // ---- What registration needs -------------------------------------------------

  uint32_t lifetime_s() const { return lifetime_s_; }
  std::string_view binding() const { return {binding_.data(), binding_size_}; }
  // The Server object's default periods as attributes (none when 0).
  Attributes default_periods() const;
  // The object list of Register and Update ("</>;rt=...,</1/0>,...").
  std::string registration_links() const;

  // What changed since the last call that an Update must carry.
  struct Changes {
    bool lifetime = false;  // lt=
    bool binding = false;   // b=
    bool objects = false;   // the object list
    bool update = false;    // an Update at once (any of the above, or the trigger)
  };
  Changes take_changes() { return std::exchange(changes_, Changes{}); }

  // Values as after power-on (Reboot); the walk's random stream goes on.
  void reset_values();

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
  struct Psk {
    std::string identity, key;
  };
  // Device-object strings once the server wrote them (else the config's).
  struct WrittenStrings {
    std::string utc_offset, timezone;
  };

  lwm2m::ObjectInstance read_instance(uint16_t object_id, uint16_t instance_id,
                                      TimePoint now) const;
  Code write_value(uint16_t object_id, uint16_t instance_id, const lwm2m::Resource& resource,
                   TimePoint now, bool apply);
  void data_changed() { ++data_version_; }
  void set_binding(std::string_view b);
  const std::string& utc_offset() const;
  const std::string& timezone() const;

  // Keep it small: a fleet holds 100k of these.
  std::shared_ptr<const DeviceConfig> config_;
  std::string endpoint_;
  std::unique_ptr<const Psk> psk_;  // null: NoSec
  // Server object.
  uint32_t lifetime_s_;
  uint32_t default_pmin_ = 0;
  uint32_t default_pmax_ = 0;
  bool notification_storing_ = false;
  uint8_t binding_size_ = 0;
  std::array<char, 8> binding_{};
  // Device object.
  uint8_t battery_level_ = 100;
  int64_t time_offset_s_ = 0;  // written Current Time minus unix time
  std::unique_ptr<WrittenStrings> written_;
  // IPSO objects.
  std::vector<AccelInstance> accel_;
  std::vector<TempInstance> temp_;
  uint64_t sensor_rng_;  // the walk only, so it is reproducible for a seed
  uint32_t data_version_ = 1;
  Changes changes_;
};

}  // namespace fogm2m::emulated
