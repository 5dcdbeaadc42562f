#include "emulated_clients/device_objects.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "emulated_clients/response_codes.h"
#include "emulated_clients/splitmix.h"
#include "lwm2m/object_ids.h"

namespace fogm2m::emulated {

using lwm2m::Node;
using lwm2m::Object;
using lwm2m::ObjectInstance;
using lwm2m::Path;
using lwm2m::Resource;
using lwm2m::ResourceInstance;
using lwm2m::Value;

using namespace response_code;

namespace {

using lwm2m::object_id::kAccelerometer;
using lwm2m::object_id::kDevice;
using lwm2m::object_id::kSecurity;
using lwm2m::object_id::kServer;
using lwm2m::object_id::kTemperature;

// Resources each object instance of the emulated device has, ascending.
constexpr uint16_t kSecurityResources[] = {0, 1, 2, 3, 5, 10};
constexpr uint16_t kServerResources[] = {0, 1, 2, 3, 6, 7, 8};
constexpr uint16_t kDeviceResources[] = {0, 1, 2, 3, 4, 6, 7, 9, 11, 13, 14, 15, 16};
constexpr uint16_t kAccelResources[] = {5603, 5604, 5701, 5702, 5703, 5704};
constexpr uint16_t kTempResources[] = {5601, 5602, 5603, 5604, 5605, 5700, 5701};

constexpr const char* kAccelUnits = "m/s2";
constexpr const char* kTempUnits = "Cel";
constexpr double kGravity = 9.80665;
constexpr double kTempBase = 21.5, kTempMin = -40.0, kTempMax = 85.0, kTempStep = 0.02;
constexpr double kQuantum = 256.0;    // sensor values are multiples of 1/256
constexpr double kReversion = 0.02;   // pull of the walk back to its base per sample
constexpr size_t kMaxInstances = 64;  // per creatable object

// `v` rounded to the sensor quantum, kept inside [lo, hi].
double quantize(double v, double lo, double hi) {
  double q = std::round(v * kQuantum) / kQuantum;
  if (q > hi) q = std::floor(hi * kQuantum) / kQuantum;
  if (q < lo) q = std::ceil(lo * kQuantum) / kQuantum;
  if (q > hi || q < lo) q = lo;  // range narrower than one quantum
  return q;
}

// One random-walk step: a uniform step in [-step, step), a pull back to
// `base`, clamped and quantised.
float walk(float v, double base, double lo, double hi, double step, uint64_t& rng) {
  const double u = uniform01(rng) * 2.0 - 1.0;
  const double next = v + step * u - (v - base) * kReversion;
  return static_cast<float>(quantize(std::clamp(next, lo, hi), lo, hi));
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool valid_binding(std::string_view b) {
  if (b.empty() || b.size() > 8) return false;
  return std::all_of(b.begin(), b.end(), [](char ch) {
    return std::string_view("UMHTSNQ").find(ch) != std::string_view::npos;
  });
}

}  // namespace

// ---- Construction and sensors ---------------------------------------------------

DeviceObjects::DeviceObjects(std::shared_ptr<const DeviceConfig> config,
                             const DeviceIdentity& identity)
    : config_(std::move(config)),
      endpoint_(identity.endpoint),
      lifetime_s_(config_->lifetime_s),
      sensor_rng_(identity.seed) {
  if (!identity.psk_identity.empty())
    psk_ = std::make_unique<const Psk>(Psk{identity.psk_identity, identity.psk_key});
  set_binding(valid_binding(config_->binding) ? config_->binding : "U");
  accel_.push_back(AccelInstance{0, 0, 0, 0, static_cast<float>(config_->accel_min),
                                 static_cast<float>(config_->accel_max)});
  if (config_->temperature)
    temp_.push_back(
        TempInstance{0, 0, 0, 0, static_cast<float>(kTempMin), static_cast<float>(kTempMax)});
  reset_values();
}

const lwm2m::ModelRegistry& DeviceObjects::models() {
  static const lwm2m::ModelRegistry registry = lwm2m::ModelRegistry::builtin();
  return registry;
}

void DeviceObjects::sample() {
  const double step = config_->accel_step;
  for (AccelInstance& a : accel_) {
    const double lo = a.min, hi = a.max;
    a.x = walk(a.x, std::clamp(0.0, lo, hi), lo, hi, step, sensor_rng_);
    a.y = walk(a.y, std::clamp(0.0, lo, hi), lo, hi, step, sensor_rng_);
    a.z = walk(a.z, std::clamp(kGravity, lo, hi), lo, hi, step, sensor_rng_);
  }
  for (TempInstance& t : temp_) {
    t.value = walk(t.value, std::clamp(kTempBase, double{t.min}, double{t.max}), t.min, t.max,
                   kTempStep, sensor_rng_);
    t.min_measured = std::min(t.min_measured, t.value);
    t.max_measured = std::max(t.max_measured, t.value);
  }
  data_changed();
}

void DeviceObjects::reset_values() {
  for (AccelInstance& a : accel_) {
    a.x = static_cast<float>(quantize(0.0, a.min, a.max));
    a.y = a.x;
    a.z = static_cast<float>(quantize(kGravity, a.min, a.max));
  }
  for (TempInstance& t : temp_) {
    t.value = static_cast<float>(quantize(kTempBase, t.min, t.max));
    t.min_measured = t.max_measured = t.value;
  }
  time_offset_s_ = 0;
  written_.reset();
  battery_level_ = 100;
  data_changed();
}

int64_t DeviceObjects::unix_time(TimePoint now) const {
  const int64_t steady_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return floor_div(config_->unix_minus_steady_ms + steady_ms, 1000) + time_offset_s_;
}

TimePoint DeviceObjects::next_second(TimePoint now) const {
  const int64_t ms =
      config_->unix_minus_steady_ms +
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t into = ms - floor_div(ms, 1000) * 1000;
  return now + std::chrono::milliseconds(1000 - into);
}

// ---- The tree ---------------------------------------------------------------

bool DeviceObjects::object_present(uint16_t object_id) const {
  switch (object_id) {
    case kSecurity:
    case kServer:
    case kDevice:
    case kAccelerometer:
      return true;
    case kTemperature:
      return config_->temperature;
    default:
      return false;
  }
}

std::vector<uint16_t> DeviceObjects::instance_ids(uint16_t object_id) const {
  std::vector<uint16_t> ids;
  if (object_id == kAccelerometer) {
    for (const auto& a : accel_) ids.push_back(a.id);
  } else if (object_id == kTemperature) {
    for (const auto& t : temp_) ids.push_back(t.id);
  } else if (object_present(object_id)) {
    ids.push_back(0);
  }
  return ids;
}

bool DeviceObjects::instance_present(uint16_t object_id, uint16_t instance_id) const {
  if (object_id == kAccelerometer)
    return std::any_of(accel_.begin(), accel_.end(),
                       [&](const auto& a) { return a.id == instance_id; });
  if (object_id == kTemperature)
    return std::any_of(temp_.begin(), temp_.end(),
                       [&](const auto& t) { return t.id == instance_id; });
  return object_present(object_id) && instance_id == 0;
}

std::span<const uint16_t> DeviceObjects::resource_ids(uint16_t object_id) const {
  switch (object_id) {
    case kSecurity:
      return kSecurityResources;
    case kServer:
      return kServerResources;
    case kDevice:
      return kDeviceResources;
    case kAccelerometer:
      return kAccelResources;
    case kTemperature:
      return kTempResources;
    default:
      return {};
  }
}

bool DeviceObjects::resource_present(uint16_t object_id, uint16_t resource_id) const {
  const auto ids = resource_ids(object_id);
  return std::binary_search(ids.begin(), ids.end(), resource_id);
}

std::optional<Resource> DeviceObjects::read_resource(uint16_t oid, uint16_t iid, uint16_t rid,
                                                     TimePoint now) const {
  if (!instance_present(oid, iid) || !resource_present(oid, rid)) return std::nullopt;
  const lwm2m::ResourceModel* model = models().find_resource(oid, rid);
  if (!model || model->executable()) return std::nullopt;
  auto single = [rid](Value v) -> std::optional<Resource> {
    return Resource::single(rid, std::move(v));
  };
  auto f = [](float v) { return Value(static_cast<double>(v)); };
  switch (oid) {
    case kSecurity: {
      static const std::string kNone;
      const std::string& id = psk_ ? psk_->identity : kNone;
      const std::string& key = psk_ ? psk_->key : kNone;
      switch (rid) {
        case 0:
          return single(config_->server_uri);
        case 1:
          return single(false);
        case 2:
          return single(int64_t{psk_ ? 0 : 3});  // PSK or NoSec
        case 3:
          return single(lwm2m::Opaque(id.begin(), id.end()));
        case 5:
          return single(lwm2m::Opaque(key.begin(), key.end()));
        case 10:
          return single(int64_t{1});
      }
      break;
    }
    case kServer:
      switch (rid) {
        case 0:
          return single(int64_t{1});
        case 1:
          return single(int64_t{lifetime_s_});
        case 2:
          return single(int64_t{default_pmin_});
        case 3:
          return single(int64_t{default_pmax_});
        case 6:
          return single(notification_storing_);
        case 7:
          return single(std::string(binding()));
      }
      break;
    case kDevice:
      switch (rid) {
        case 0:
          return single("fogm2m");
        case 1:
          return single("accelerometer-emulator");
        case 2:
          return single(endpoint_);
        case 3:
          return single(config_->firmware_version);
        case 6:
          return Resource::multi(rid, {{0, Value(int64_t{1})}, {1, Value(int64_t{5})}});
        case 7:
          return Resource::multi(rid, {{0, Value(int64_t{3800})}, {1, Value(int64_t{5000})}});
        case 9:
          return single(int64_t{battery_level_});
        case 11:
          return Resource::multi(rid, {{0, Value(int64_t{0})}});
        case 13:
          return single(lwm2m::Time{unix_time(now)});
        case 14:
          return single(utc_offset());
        case 15:
          return single(timezone());
        case 16:
          return single("U");
      }
      break;
    case kAccelerometer:
      for (const AccelInstance& a : accel_) {
        if (a.id != iid) continue;
        switch (rid) {
          case 5603:
            return single(f(a.min));
          case 5604:
            return single(f(a.max));
          case 5701:
            return single(kAccelUnits);
          case 5702:
            return single(f(a.x));
          case 5703:
            return single(f(a.y));
          case 5704:
            return single(f(a.z));
        }
      }
      break;
    case kTemperature:
      for (const TempInstance& t : temp_) {
        if (t.id != iid) continue;
        switch (rid) {
          case 5601:
            return single(f(t.min_measured));
          case 5602:
            return single(f(t.max_measured));
          case 5603:
            return single(f(t.min));
          case 5604:
            return single(f(t.max));
          case 5700:
            return single(f(t.value));
          case 5701:
            return single(kTempUnits);
        }
      }
      break;
  }
  return std::nullopt;
}

ObjectInstance DeviceObjects::read_instance(uint16_t oid, uint16_t iid, TimePoint now) const {
  ObjectInstance oi;
  oi.id = iid;
  for (uint16_t rid : resource_ids(oid))
    if (auto r = read_resource(oid, iid, rid, now)) oi.resources.push_back(std::move(*r));
  return oi;
}

std::optional<Node> DeviceObjects::read_for_server(const Path& path, TimePoint now,
                                                   Code* code) const {
  *code = kNotFound;
  if (path.is_root()) {
    *code = kMethodNotAllowed;
    return std::nullopt;
  }
  if (path.object_id() == kSecurity) return std::nullopt;  // hidden from servers
  auto local = read_local(path, now);
  if (local) {
    *code = kContent;
    return std::move(*local);
  }
  if (local.error().kind == ErrorKind::kUnsupported) *code = kMethodNotAllowed;
  return std::nullopt;
}

Result<Node> DeviceObjects::read_local(const Path& path, TimePoint now) const {
  auto not_found = [&] {
    return make_error(ErrorKind::kNotFound, path.to_string() + " not found");
  };
  if (path.is_root() || !object_present(path.object_id())) return not_found();
  const uint16_t oid = path.object_id();
  if (path.is_object()) {
    Object o;
    o.id = oid;
    for (uint16_t iid : instance_ids(oid)) o.instances.push_back(read_instance(oid, iid, now));
    return Node(std::move(o));
  }
  const uint16_t iid = path.instance_id();
  if (!instance_present(oid, iid)) return not_found();
  if (path.is_object_instance()) return Node(read_instance(oid, iid, now));
  const uint16_t rid = path.resource_id();
  if (!resource_present(oid, rid)) return not_found();
  const lwm2m::ResourceModel* model = models().find_resource(oid, rid);
  if (model && model->executable())
    return make_error(ErrorKind::kUnsupported, path.to_string() + " is executable");
  auto r = read_resource(oid, iid, rid, now);
  if (!r) return not_found();
  if (path.is_resource()) return Node(std::move(*r));
  const ResourceInstance* ri = r->multiple ? r->find(path.resource_instance_id()) : nullptr;
  if (!ri) return not_found();
  return Node(*ri);
}

// ---- Writes, executes, instances ------------------------------------------------

DeviceObjects::Code DeviceObjects::write_resource(uint16_t oid, uint16_t iid, const Resource& r,
                                                  TimePoint now, bool apply) {
  const Code code = write_value(oid, iid, r, now, apply);
  if (apply && code == kChanged) data_changed();
  return code;
}

DeviceObjects::Code DeviceObjects::write_value(uint16_t oid, uint16_t iid, const Resource& r,
                                               TimePoint now, bool apply) {
  (void)iid;  // objects 1 and 3 have one instance
  const lwm2m::ResourceModel* model = models().find_resource(oid, r.id);
  if (!model || !resource_present(oid, r.id)) return kNotFound;
  if (!model->writable()) return kMethodNotAllowed;
  if (r.multiple != model->multiple) return kBadRequest;
  if (r.multiple || r.value.type() != model->type) return kBadRequest;
  const Value& v = r.value;
  switch (oid) {
    case kServer:
      switch (r.id) {
        case 1: {
          const int64_t lt = v.as<int64_t>();
          if (lt < 1 || lt > std::numeric_limits<uint32_t>::max()) return kBadRequest;
          if (apply && static_cast<uint32_t>(lt) != lifetime_s_) {
            lifetime_s_ = static_cast<uint32_t>(lt);
            changes_.lifetime = changes_.update = true;
          }
          return kChanged;
        }
        case 2:
        case 3: {
          const int64_t p = v.as<int64_t>();
          if (p < 0 || p > std::numeric_limits<uint32_t>::max()) return kBadRequest;
          if (apply) (r.id == 2 ? default_pmin_ : default_pmax_) = static_cast<uint32_t>(p);
          return kChanged;
        }
        case 6:
          if (apply) notification_storing_ = v.as<bool>();
          return kChanged;
        case 7:
          if (!valid_binding(v.as<std::string>())) return kBadRequest;
          if (apply && v.as<std::string>() != binding()) {
            set_binding(v.as<std::string>());
            changes_.binding = changes_.update = true;
          }
          return kChanged;
      }
      break;
    case kDevice:
      switch (r.id) {
        case 13:
          // Current Time: keep the offset from the clock, so time goes on.
          if (apply)
            time_offset_s_ = v.as<lwm2m::Time>().seconds - (unix_time(now) - time_offset_s_);
          return kChanged;
        case 14:
        case 15:
          if (v.as<std::string>().size() > 64) return kBadRequest;
          if (apply) {
            if (!written_) written_.reset(new WrittenStrings{utc_offset(), timezone()});
            (r.id == 14 ? written_->utc_offset : written_->timezone) = v.as<std::string>();
          }
          return kChanged;
      }
      break;
  }
  return kMethodNotAllowed;
}

DeviceObjects::Code DeviceObjects::execute(const Path& path) {
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (!instance_present(oid, path.instance_id()) || !resource_present(oid, path.resource_id()))
    return kNotFound;
  const lwm2m::ResourceModel* model = models().find_resource(oid, path.resource_id());
  if (!model || !model->executable()) return kMethodNotAllowed;
  if (oid == kServer && path.resource_id() == 8) {
    changes_.update = true;  // Registration Update Trigger
  } else if (oid == kDevice && path.resource_id() == 4) {
    reset_values();  // Reboot
  } else if (oid == kTemperature && path.resource_id() == 5605) {
    for (TempInstance& t : temp_)
      if (t.id == path.instance_id()) t.min_measured = t.max_measured = t.value;
    data_changed();
  }
  return kChanged;
}

uint16_t DeviceObjects::free_instance_id(uint16_t object_id) const {
  uint16_t id = 0;
  while (instance_present(object_id, id)) ++id;
  return id;
}

DeviceObjects::Code DeviceObjects::creatable(uint16_t oid) const {
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (oid != kAccelerometer && oid != kTemperature) return kMethodNotAllowed;
  if ((oid == kAccelerometer ? accel_.size() : temp_.size()) >= kMaxInstances)
    return kInternalError;
  return 0;
}

DeviceObjects::Code DeviceObjects::create(uint16_t oid, const ObjectInstance& given) {
  if (const Code refused = creatable(oid)) return refused;
  if (instance_present(oid, given.id)) return kBadRequest;
  for (const Resource& r : given.resources) {
    const lwm2m::ResourceModel* model = models().find_resource(oid, r.id);
    if (!model || !resource_present(oid, r.id) || model->executable() || r.multiple ||
        r.value.type() != model->type)
      return kBadRequest;
  }
  auto real = [&](uint16_t rid) -> std::optional<double> {
    const Resource* r = given.find(rid);
    if (!r) return std::nullopt;
    return r->value.as<double>();
  };
  auto in_range = [](std::optional<double> v, double lo, double hi) {
    return !v || (*v >= lo && *v <= hi);
  };

  const double lo = real(5603).value_or(oid == kAccelerometer ? config_->accel_min : kTempMin);
  const double hi = real(5604).value_or(oid == kAccelerometer ? config_->accel_max : kTempMax);
  if (!(lo < hi)) return kBadRequest;
  if (oid == kAccelerometer) {
    const auto x = real(5702), y = real(5703), z = real(5704);
    if (!in_range(x, lo, hi) || !in_range(y, lo, hi) || !in_range(z, lo, hi)) return kBadRequest;
    AccelInstance a{given.id, 0, 0, 0, static_cast<float>(lo), static_cast<float>(hi)};
    a.x = static_cast<float>(x.value_or(quantize(0.0, lo, hi)));
    a.y = static_cast<float>(y.value_or(quantize(0.0, lo, hi)));
    a.z = static_cast<float>(z.value_or(quantize(kGravity, lo, hi)));
    accel_.insert(std::upper_bound(accel_.begin(), accel_.end(), a.id,
                                   [](uint16_t id, const AccelInstance& e) { return id < e.id; }),
                  a);
  } else {
    const auto v = real(5700);
    if (!in_range(v, lo, hi)) return kBadRequest;
    TempInstance t{given.id, 0, 0, 0, static_cast<float>(lo), static_cast<float>(hi)};
    t.value = static_cast<float>(v.value_or(quantize(std::clamp(kTempBase, lo, hi), lo, hi)));
    t.min_measured = t.max_measured = t.value;
    temp_.insert(std::upper_bound(temp_.begin(), temp_.end(), t.id,
                                  [](uint16_t id, const TempInstance& e) { return id < e.id; }),
                 t);
  }
  data_changed();
  changes_.objects = changes_.update = true;
  return kCreated;
}

DeviceObjects::Code DeviceObjects::remove(const Path& path) {
  if (path.is_root()) return kMethodNotAllowed;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (!path.is_object_instance()) return kMethodNotAllowed;
  const uint16_t iid = path.instance_id();
  if (!instance_present(oid, iid)) return kNotFound;
  if (oid == kAccelerometer) {
    std::erase_if(accel_, [&](const AccelInstance& a) { return a.id == iid; });
  } else if (oid == kTemperature) {
    std::erase_if(temp_, [&](const TempInstance& t) { return t.id == iid; });
  } else {
    return kMethodNotAllowed;  // Server and Device instances stay
  }
  data_changed();
  changes_.objects = changes_.update = true;
  return kDeleted;
}

// ---- What registration needs ------------------------------------------------------

Attributes DeviceObjects::default_periods() const {
  Attributes out;
  if (default_pmin_ > 0) out.pmin = default_pmin_, out.set |= Attributes::kPmin;
  if (default_pmax_ > 0) out.pmax = default_pmax_, out.set |= Attributes::kPmax;
  return out;
}

void DeviceObjects::set_binding(std::string_view b) {
  binding_size_ = static_cast<uint8_t>(std::min(b.size(), binding_.size()));
  std::memcpy(binding_.data(), b.data(), binding_size_);
}

const std::string& DeviceObjects::utc_offset() const {
  return written_ ? written_->utc_offset : config_->utc_offset;
}

const std::string& DeviceObjects::timezone() const {
  return written_ ? written_->timezone : config_->timezone;
}

std::string DeviceObjects::registration_links() const {
  const bool v11 = config_->version == Lwm2mVersion::k1_1;
  // Besides TEXT, OPAQUE and CoRE links, which every client supports.
  std::string s = v11 ? "</>;rt=\"oma.lwm2m\";ct=\"110 112 11542 11543 11544\""
                      : "</>;rt=\"oma.lwm2m\";ct=11543";
  for (uint16_t oid : {kServer, kDevice, kTemperature, kAccelerometer}) {
    if (!object_present(oid)) continue;
    const auto ids = instance_ids(oid);
    const lwm2m::ObjectModel* model = models().find(oid);
    const std::string o = std::to_string(oid);
    if (v11 && model && model->version != "1.0")
      s += ",</" + o + ">;ver=" + model->version;
    else if (ids.empty())
      s += ",</" + o + ">";
    for (uint16_t iid : ids) s += ",</" + o + "/" + std::to_string(iid) + ">";
  }
  return s;
}

}  // namespace fogm2m::emulated
