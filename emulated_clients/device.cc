#include "emulated_clients/device.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "lwm2m/codec/codec.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::emulated {

using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;
using lwm2m::Node;
using lwm2m::Object;
using lwm2m::ObjectInstance;
using lwm2m::Path;
using lwm2m::Resource;
using lwm2m::ResourceInstance;
using lwm2m::ResourceType;
using lwm2m::Value;
namespace coap_option = lwm2m::coap_option;

namespace {

// ---- Small helpers -----------------------------------------------------------

constexpr uint8_t code_of(CoapCode c) {
  return static_cast<uint8_t>(c);
}

constexpr uint8_t kContent = code_of(CoapCode::kContent);
constexpr uint8_t kChanged = code_of(CoapCode::kChanged);
constexpr uint8_t kCreated = code_of(CoapCode::kCreated);
constexpr uint8_t kDeleted = code_of(CoapCode::kDeleted);
constexpr uint8_t kBadRequest = code_of(CoapCode::kBadRequest);
constexpr uint8_t kNotFound = code_of(CoapCode::kNotFound);
constexpr uint8_t kMethodNotAllowed = code_of(CoapCode::kMethodNotAllowed);
constexpr uint8_t kNotAcceptable = code_of(CoapCode::kNotAcceptable);
constexpr uint8_t kUnsupportedFormat = code_of(CoapCode::kUnsupportedContentFormat);
constexpr uint8_t kInternalError = code_of(CoapCode::kInternalServerError);

constexpr uint16_t kSecurity = 0, kServer = 1, kDevice = 3, kTemperature = 3303,
                   kAccelerometer = 3313;

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
constexpr double kQuantum = 256.0;   // sensor values are multiples of 1/256
constexpr double kReversion = 0.02;  // pull of the walk back to its base per sample
constexpr int kMaxCatchUpSamples = 200;
constexpr size_t kMaxInstances = 64;  // per creatable object
constexpr size_t kMaxAttributeEntries = 64;
constexpr uint32_t kObserveMask = 0xFFFFFF;  // Observe is a 24-bit number

// splitmix64: 8 bytes of state, good enough statistics, same everywhere.
uint64_t next_random(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1).
double uniform01(uint64_t& state) {
  return static_cast<double>(next_random(state) >> 11) * 0x1.0p-53;
}

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

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// FNV-1a over the values of a node: what "the value changed" compares.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void add(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  }
  template <class T>
  void add_pod(const T& v) {
    add(&v, sizeof v);
  }
  void add_value(const Value& v) {
    const auto& s = v.storage();
    add_pod(static_cast<uint8_t>(s.index()));
    std::visit(
        [this](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, lwm2m::Opaque>) {
            add_pod(x.size());
            add(x.data(), x.size());
          } else if constexpr (std::is_same_v<T, lwm2m::CoreLink>) {
            add(x.text.data(), x.text.size());
          } else if constexpr (std::is_same_v<T, lwm2m::Time>) {
            add_pod(x.seconds);
          } else if constexpr (std::is_same_v<T, lwm2m::ObjectLink>) {
            add_pod(x.object_id);
            add_pod(x.instance_id);
          } else if constexpr (std::is_same_v<T, std::monostate>) {
          } else {
            add_pod(x);
          }
        },
        s);
  }
  void add_resource(const Resource& r) {
    add_pod(r.id);
    if (!r.multiple) return add_value(r.value);
    for (const auto& ri : r.instances) {
      add_pod(ri.id);
      add_value(ri.value);
    }
  }
  void add_instance(const ObjectInstance& oi) {
    add_pod(oi.id);
    for (const auto& r : oi.resources) add_resource(r);
  }
};

uint64_t fingerprint(const Node& node) {
  Fnv f;
  switch (node.index()) {
    case 0:
      for (const auto& oi : std::get<Object>(node).instances) f.add_instance(oi);
      break;
    case 1:
      f.add_instance(std::get<ObjectInstance>(node));
      break;
    case 2:
      f.add_resource(std::get<Resource>(node));
      break;
    case 3:
      f.add_value(std::get<ResourceInstance>(node).value);
      break;
  }
  return f.h;
}

// The value of a single numeric resource (or resource instance), else nullopt.
std::optional<double> numeric_value(const Node& node) {
  const Value* v = nullptr;
  if (const auto* r = std::get_if<Resource>(&node); r && !r->multiple) v = &r->value;
  if (const auto* ri = std::get_if<ResourceInstance>(&node)) v = &ri->value;
  if (!v) return std::nullopt;
  if (const auto* d = v->get_if<double>()) return *d;
  if (const auto* i = v->get_if<int64_t>()) return static_cast<double>(*i);
  if (const auto* u = v->get_if<uint64_t>()) return static_cast<double>(*u);
  return std::nullopt;
}

bool is_numeric(ResourceType t) {
  return t == ResourceType::kInteger || t == ResourceType::kUnsignedInteger ||
         t == ResourceType::kFloat;
}

// A content format this device can encode/decode, or nullopt.
std::optional<ContentFormat> supported_format(uint32_t number, Lwm2mVersion version) {
  auto f = lwm2m::content_format_from_number(number);
  if (!f) return std::nullopt;
  switch (*f) {
    case ContentFormat::kText:
    case ContentFormat::kOpaque:
    case ContentFormat::kTlv:
    case ContentFormat::kOldTlv:
    case ContentFormat::kLwm2mJson:
    case ContentFormat::kOldJson:
      return f;
    case ContentFormat::kSenmlJson:
      if (version == Lwm2mVersion::k1_1) return f;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// gt/lt crossings and st steps between the last notified and the current value.
bool conditions_met(const Attributes& a, double last, double now) {
  if (!a.has(Attributes::kGt) && !a.has(Attributes::kLt) && !a.has(Attributes::kSt)) return true;
  if (a.has(Attributes::kGt) && ((last > a.gt) != (now > a.gt))) return true;
  if (a.has(Attributes::kLt) && ((last < a.lt) != (now < a.lt))) return true;
  if (a.has(Attributes::kSt) && std::fabs(now - last) >= a.st) return true;
  return false;
}

bool parse_uint32(std::string_view text, uint32_t* out) {
  if (text.empty()) return false;
  for (char ch : text)
    if (ch < '0' || ch > '9') return false;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size();
}

bool parse_number(std::string_view text, double* out) {
  if (text.empty() || text[0] == '+') return false;
  for (char ch : text) {
    const bool ok = (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == 'e' || ch == 'E';
    if (!ok) return false;
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && p == text.data() + text.size() && std::isfinite(*out);
}

void append_attributes(std::string& out, const Attributes& a) {
  auto num = [&](const char* name, uint32_t v) {
    out += ';';
    out += name;
    out += '=';
    out += std::to_string(v);
  };
  auto real = [&](const char* name, double v) {
    out += ';';
    out += name;
    out += '=';
    out += lwm2m::text::format_double(v);
  };
  if (a.has(Attributes::kPmin)) num("pmin", a.pmin);
  if (a.has(Attributes::kPmax)) num("pmax", a.pmax);
  if (a.has(Attributes::kGt)) real("gt", a.gt);
  if (a.has(Attributes::kLt)) real("lt", a.lt);
  if (a.has(Attributes::kSt)) real("st", a.st);
  if (a.has(Attributes::kEpmin)) num("epmin", a.epmin);
  if (a.has(Attributes::kEpmax)) num("epmax", a.epmax);
}

// Copies the periods (pmin, pmax, epmin, epmax) that `from` sets over `into`.
void overlay_periods(Attributes& into, const Attributes& from) {
  if (from.has(Attributes::kPmin)) into.pmin = from.pmin, into.set |= Attributes::kPmin;
  if (from.has(Attributes::kPmax)) into.pmax = from.pmax, into.set |= Attributes::kPmax;
  if (from.has(Attributes::kEpmin)) into.epmin = from.epmin, into.set |= Attributes::kEpmin;
  if (from.has(Attributes::kEpmax)) into.epmax = from.epmax, into.set |= Attributes::kEpmax;
}

bool valid_binding(std::string_view b) {
  if (b.empty() || b.size() > 8) return false;
  return std::all_of(b.begin(), b.end(), [](char ch) {
    return std::string_view("UMHTSNQ").find(ch) != std::string_view::npos;
  });
}

Path path_prefix(const Path& p, int depth) {
  switch (depth) {
    case 1:
      return Path(p.object_id());
    case 2:
      return Path(p.object_id(), p.instance_id());
    case 3:
      return Path(p.object_id(), p.instance_id(), p.resource_id());
    default:
      return p;
  }
}

}  // namespace

int64_t unix_minus_steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() -
         duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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

// ---- Construction -----------------------------------------------------------

Device::Device(std::shared_ptr<const DeviceConfig> config, DeviceIdentity identity)
    : config_(std::move(config)),
      endpoint_(std::move(identity.endpoint)),
      seed_(identity.seed),
      lifetime_s_(config_->lifetime_s),
      sensor_rng_(identity.seed),
      misc_rng_(identity.seed ^ 0x5DEECE66Dull) {
  if (!identity.psk_identity.empty())
    psk_ = std::make_unique<const Psk>(
        Psk{std::move(identity.psk_identity), std::move(identity.psk_key)});
  set_binding(valid_binding(config_->binding) ? config_->binding : "U");
  accel_.push_back(AccelInstance{0, 0, 0, 0, static_cast<float>(config_->accel_min),
                                 static_cast<float>(config_->accel_max)});
  if (config_->temperature)
    temp_.push_back(
        TempInstance{0, 0, 0, 0, static_cast<float>(kTempMin), static_cast<float>(kTempMax)});
  reset_values();
}

const lwm2m::ModelRegistry& Device::models() {
  static const lwm2m::ModelRegistry registry = lwm2m::ModelRegistry::builtin();
  return registry;
}

// ---- Sensors ----------------------------------------------------------------

void Device::sample() {
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

// Values as after power-on (Reboot); the walk's random stream goes on.
void Device::reset_values() {
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

int64_t Device::unix_time(TimePoint now) const {
  const int64_t steady_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return floor_div(config_->unix_minus_steady_ms + steady_ms, 1000) + time_offset_s_;
}

// ---- The object tree --------------------------------------------------------

bool Device::object_present(uint16_t object_id) const {
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

std::vector<uint16_t> Device::instance_ids(uint16_t object_id) const {
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

bool Device::instance_present(uint16_t object_id, uint16_t instance_id) const {
  if (object_id == kAccelerometer)
    return std::any_of(accel_.begin(), accel_.end(),
                       [&](const auto& a) { return a.id == instance_id; });
  if (object_id == kTemperature)
    return std::any_of(temp_.begin(), temp_.end(),
                       [&](const auto& t) { return t.id == instance_id; });
  return object_present(object_id) && instance_id == 0;
}

std::span<const uint16_t> Device::resource_ids(uint16_t object_id) const {
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

bool Device::resource_present(uint16_t object_id, uint16_t resource_id) const {
  const auto ids = resource_ids(object_id);
  return std::binary_search(ids.begin(), ids.end(), resource_id);
}

std::optional<Resource> Device::read_resource(uint16_t oid, uint16_t iid, uint16_t rid,
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

ObjectInstance Device::read_instance(uint16_t oid, uint16_t iid, TimePoint now) const {
  ObjectInstance oi;
  oi.id = iid;
  for (uint16_t rid : resource_ids(oid))
    if (auto r = read_resource(oid, iid, rid, now)) oi.resources.push_back(std::move(*r));
  return oi;
}

std::optional<Node> Device::read_for_server(const Path& path, TimePoint now, Code* code) const {
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

Result<Node> Device::read_local(const Path& path, TimePoint now) const {
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

// ---- Requests -----------------------------------------------------------------

CoapMessage Device::handle_request(const CoapMessage& req, TimePoint now) {
  CoapMessage resp;
  resp.token = req.token;
  if (req.type == CoapType::kCon) {
    resp.type = CoapType::kAck;
    resp.message_id = req.message_id;
  } else {
    resp.type = CoapType::kNon;
  }

  // The Uri-Path as an LwM2M path; anything else is not a resource of ours.
  std::optional<Path> path;
  {
    std::string text;
    for (std::string_view seg : req.uri_path_segments()) {
      text += '/';
      text += seg;
    }
    if (text.empty()) text = "/";
    if (auto p = Path::parse(text)) path = *p;
  }

  Code code = kNotFound;
  if (!req.is_request()) {
    code = kBadRequest;
  } else if (path) {
    const auto accept = req.uint_option(coap_option::kAccept);
    switch (static_cast<CoapCode>(req.code)) {
      case CoapCode::kGet:
        if (accept && *accept == static_cast<uint32_t>(ContentFormat::kLinkFormat))
          code = do_discover(*path, resp);
        else if (req.observe() == 0u || req.observe() == 1u)
          code = do_observe(req, *path, now, resp);
        else
          code = do_read(req, *path, now, resp);
        break;
      case CoapCode::kPut:
        if (req.payload.empty() && !req.has_option(coap_option::kContentFormat) &&
            req.has_option(coap_option::kUriQuery))
          code = do_write_attributes(req, *path);
        else
          code = do_write(req, *path, /*replace=*/true, now);
        break;
      case CoapCode::kPost:
        if (path->is_object())
          code = do_create(req, *path, resp);
        else if (path->is_object_instance())
          code = do_write(req, *path, /*replace=*/false, now);
        else if (path->is_resource())
          code = do_execute(*path, now);
        else if (path->is_resource_instance() && path->object_id() != kSecurity)
          code = kMethodNotAllowed;
        else
          code = path->is_root() ? kMethodNotAllowed : kNotFound;
        break;
      case CoapCode::kDelete:
        code = do_delete(*path);
        break;
      default:
        code = kMethodNotAllowed;  // FETCH, PATCH, iPATCH (composite operations)
        break;
    }
  }

  resp.code = code;
  if (lwm2m::code_class(code) != 2) {
    resp.options.clear();
    resp.payload.clear();
    ++counters_.error_responses;
  }
  ++counters_.requests_answered;
  return resp;
}

Device::Code Device::do_read(const CoapMessage& req, const Path& path, TimePoint now,
                             CoapMessage& resp) {
  Code code;
  auto node = read_for_server(path, now, &code);
  if (!node) return code;
  ContentFormat format = ContentFormat::kTlv;
  if (req.has_option(coap_option::kAccept)) {
    const auto accept = req.uint_option(coap_option::kAccept);
    auto f = accept ? supported_format(*accept, config_->version) : std::nullopt;
    if (!f) return kNotAcceptable;
    format = *f;
  }
  if (!lwm2m::can_encode(format, path)) return kNotAcceptable;
  auto bytes = lwm2m::encode(format, path, *node);
  if (!bytes) return req.has_option(coap_option::kAccept) ? kNotAcceptable : kInternalError;
  resp.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(format));
  resp.payload.assign(bytes->begin(), bytes->end());
  return kContent;
}

Device::Code Device::do_observe(const CoapMessage& req, const Path& path, TimePoint now,
                                CoapMessage& resp) {
  if (req.observe() == 1u) {
    cancel_observation(req.token);
    return do_read(req, path, now, resp);
  }
  const Code code = do_read(req, path, now, resp);
  if (code != kContent) return code;

  Observation* obs = find_observation(req.token);
  if (!obs) {
    if (observations_.size() >= config_->max_observations || req.token.size() > 8)
      return code;  // answered as a plain read: not observed
    obs = &observations_.emplace_back();
  }
  obs->token_size = static_cast<uint8_t>(req.token.size());
  std::memcpy(obs->token.data(), req.token.data(), req.token.size());
  obs->path = path;
  obs->format = static_cast<ContentFormat>(
      resp.content_format().value_or(static_cast<uint32_t>(ContentFormat::kTlv)));
  obs->since_con = 0;
  obs->last_notify = now;
  obs->next_check = now;
  obs->checked_version = data_version_;
  // The value just sent is the reference for the next notification.
  Code ignored;
  if (auto node = read_for_server(path, now, &ignored)) {
    obs->fingerprint = fingerprint(*node);
    obs->last_number = numeric_value(*node).value_or(0.0);
  }
  resp.add_uint_option(coap_option::kObserve, observe_seq_++ & kObserveMask);
  return code;
}

Device::Code Device::do_discover(const Path& path, CoapMessage& resp) const {
  if (path.is_root()) return kMethodNotAllowed;
  if (path.is_resource_instance()) return kBadRequest;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (path.depth() >= 2 && !instance_present(oid, path.instance_id())) return kNotFound;
  if (path.is_resource() && !resource_present(oid, path.resource_id())) return kNotFound;

  const TimePoint no_time{};
  std::string out;
  auto link = [&](const Path& p) {
    if (!out.empty()) out += ',';
    out += '<';
    out += p.to_string();
    out += '>';
  };
  auto resource_link = [&](uint16_t iid, uint16_t rid, bool inherited) {
    const Path rp(oid, iid, rid);
    link(rp);
    if (auto r = read_resource(oid, iid, rid, no_time); r && r->multiple)
      out += ";dim=" + std::to_string(r->instances.size());
    if (inherited) {
      append_attributes(out, effective_attributes(rp, /*with_defaults=*/false));
    } else if (const Attributes* a = attributes_ptr(rp)) {
      append_attributes(out, *a);
    }
  };
  auto instance_links = [&](uint16_t iid) {
    link(Path(oid, iid));
    if (const Attributes* a = attributes_ptr(Path(oid, iid))) append_attributes(out, *a);
    for (uint16_t rid : resource_ids(oid)) resource_link(iid, rid, false);
  };

  if (path.is_object()) {
    link(path);
    const lwm2m::ObjectModel* model = models().find(oid);
    if (config_->version == Lwm2mVersion::k1_1 && model && model->version != "1.0")
      out += ";ver=" + model->version;
    if (const Attributes* a = attributes_ptr(path)) append_attributes(out, *a);
    for (uint16_t iid : instance_ids(oid)) instance_links(iid);
  } else if (path.is_object_instance()) {
    instance_links(path.instance_id());
  } else {
    resource_link(path.instance_id(), path.resource_id(), true);
  }
  resp.add_uint_option(coap_option::kContentFormat,
                       static_cast<uint32_t>(ContentFormat::kLinkFormat));
  resp.payload = std::move(out);
  return kContent;
}

Device::Code Device::do_write(const CoapMessage& req, const Path& path, bool replace,
                              TimePoint now) {
  (void)replace;  // every writable resource is single-instance: replace == update
  if (path.is_root()) return kMethodNotAllowed;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (path.is_object()) return kMethodNotAllowed;
  const uint16_t iid = path.instance_id();
  if (!instance_present(oid, iid)) return kNotFound;
  if (path.depth() >= 3 && !resource_present(oid, path.resource_id())) return kNotFound;

  if (!req.has_option(coap_option::kContentFormat)) return kBadRequest;
  const auto number = req.content_format();
  auto format = number ? supported_format(*number, config_->version) : std::nullopt;
  if (!format || !lwm2m::can_encode(*format, path)) return kUnsupportedFormat;

  if (path.is_resource_instance()) {
    // Only multiple-instance resources have instances; none of ours is writable.
    const auto* model = models().find_resource(oid, path.resource_id());
    if (!model || !model->multiple) return kNotFound;
    return model->writable() ? kBadRequest : kMethodNotAllowed;
  }
  if (path.is_resource()) {
    const auto* model = models().find_resource(oid, path.resource_id());
    if (!model || !model->writable()) return kMethodNotAllowed;
  }

  auto node = lwm2m::decode(*format, path, bytes_of(req.payload), models());
  if (!node) return kBadRequest;
  std::vector<const Resource*> resources;
  if (const auto* oi = std::get_if<ObjectInstance>(&*node)) {
    for (const Resource& r : oi->resources) resources.push_back(&r);
  } else if (const auto* r = std::get_if<Resource>(&*node)) {
    if (r->id != path.resource_id()) return kBadRequest;
    resources.push_back(r);
  } else {
    return kBadRequest;
  }
  for (const Resource* r : resources)
    if (Code c = write_resource(oid, iid, *r, now, /*apply=*/false); c != kChanged) return c;
  for (const Resource* r : resources) (void)write_resource(oid, iid, *r, now, /*apply=*/true);
  if (!resources.empty()) data_changed();
  return kChanged;
}

Device::Code Device::write_resource(uint16_t oid, uint16_t iid, const Resource& r, TimePoint now,
                                    bool apply) {
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
            send_lifetime_ = true;
            request_update();
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
            send_binding_ = true;
            request_update();
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

Device::Code Device::do_write_attributes(const CoapMessage& req, const Path& path) {
  if (path.is_root()) return kMethodNotAllowed;
  if (path.is_resource_instance()) return kBadRequest;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (path.depth() >= 2 && !instance_present(oid, path.instance_id())) return kNotFound;
  const lwm2m::ResourceModel* model = nullptr;
  if (path.is_resource()) {
    if (!resource_present(oid, path.resource_id())) return kNotFound;
    model = models().find_resource(oid, path.resource_id());
  }

  Attributes a;
  if (const Attributes* old = attributes_ptr(path)) a = *old;
  for (std::string_view q : req.uri_queries()) {
    const size_t eq = q.find('=');
    const std::string_view name = q.substr(0, eq);
    const bool clear = eq == std::string_view::npos;
    const std::string_view text = clear ? std::string_view() : q.substr(eq + 1);
    uint8_t flag = 0;
    uint32_t* period = nullptr;
    double* number = nullptr;
    if (name == "pmin")
      flag = Attributes::kPmin, period = &a.pmin;
    else if (name == "pmax")
      flag = Attributes::kPmax, period = &a.pmax;
    else if (name == "epmin")
      flag = Attributes::kEpmin, period = &a.epmin;
    else if (name == "epmax")
      flag = Attributes::kEpmax, period = &a.epmax;
    else if (name == "gt")
      flag = Attributes::kGt, number = &a.gt;
    else if (name == "lt")
      flag = Attributes::kLt, number = &a.lt;
    else if (name == "st")
      flag = Attributes::kSt, number = &a.st;
    else
      return kBadRequest;
    // gt, lt and st apply to numeric resources only.
    if (number && (!model || !is_numeric(model->type) || model->multiple)) return kBadRequest;
    if (clear) {
      a.set &= static_cast<uint8_t>(~flag);
      continue;
    }
    if (period && !parse_uint32(text, period)) return kBadRequest;
    if (number && !parse_number(text, number)) return kBadRequest;
    if (flag == Attributes::kSt && a.st < 0) return kBadRequest;
    a.set |= flag;
  }
  // TS-Core 5.1.2: lt < gt, and lt + 2*st < gt when st is given too.
  if (a.has(Attributes::kGt) && a.has(Attributes::kLt)) {
    if (!(a.lt < a.gt)) return kBadRequest;
    if (a.has(Attributes::kSt) && !(a.lt + 2 * a.st < a.gt)) return kBadRequest;
  }

  auto it = std::find_if(attributes_.begin(), attributes_.end(),
                         [&](const AttributeEntry& e) { return e.path == path; });
  if (a.set == 0) {
    if (it != attributes_.end()) attributes_.erase(it);
  } else if (it != attributes_.end()) {
    it->attributes = a;
  } else {
    if (attributes_.size() >= kMaxAttributeEntries) return kInternalError;
    attributes_.push_back(AttributeEntry{path, a});
  }
  // New periods may release or hold back notifications: re-evaluate.
  for (Observation& o : observations_) o.checked_version = data_version_ - 1;
  return kChanged;
}

Device::Code Device::do_execute(const Path& path, TimePoint now) {
  (void)now;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (!instance_present(oid, path.instance_id()) || !resource_present(oid, path.resource_id()))
    return kNotFound;
  const lwm2m::ResourceModel* model = models().find_resource(oid, path.resource_id());
  if (!model || !model->executable()) return kMethodNotAllowed;
  if (oid == kServer && path.resource_id() == 8) {
    request_update();  // Registration Update Trigger
  } else if (oid == kDevice && path.resource_id() == 4) {
    reset_values();  // Reboot
  } else if (oid == kTemperature && path.resource_id() == 5605) {
    for (TempInstance& t : temp_)
      if (t.id == path.instance_id()) t.min_measured = t.max_measured = t.value;
    data_changed();
  }
  return kChanged;
}

Device::Code Device::do_create(const CoapMessage& req, const Path& path, CoapMessage& resp) {
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !object_present(oid)) return kNotFound;
  if (oid != kAccelerometer && oid != kTemperature) return kMethodNotAllowed;
  if ((oid == kAccelerometer ? accel_.size() : temp_.size()) >= kMaxInstances)
    return kInternalError;
  auto free_id = [&] {
    uint16_t id = 0;
    while (instance_present(oid, id)) ++id;
    return id;
  };

  ObjectInstance given;
  given.id = free_id();
  if (!req.payload.empty()) {
    if (!req.has_option(coap_option::kContentFormat)) return kBadRequest;
    const auto number = req.content_format();
    auto format = number ? supported_format(*number, config_->version) : std::nullopt;
    if (!format || !lwm2m::can_encode(*format, path)) return kUnsupportedFormat;
    auto node = lwm2m::decode(*format, path, bytes_of(req.payload), models());
    if (!node) return kBadRequest;
    const auto* object = std::get_if<Object>(&*node);
    if (!object || object->instances.size() != 1) return kBadRequest;
    // TLV resources without an object-instance wrapper: the client picks the id.
    const bool tlv = *format == ContentFormat::kTlv || *format == ContentFormat::kOldTlv;
    const bool unwrapped = tlv && (static_cast<uint8_t>(req.payload[0]) & 0xC0) != 0;
    given = object->instances[0];
    if (unwrapped)
      given.id = free_id();
    else if (instance_present(oid, given.id))
      return kBadRequest;
  }
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
  send_objects_ = true;
  request_update();
  resp.set_location_path("/" + std::to_string(oid) + "/" + std::to_string(given.id));
  return kCreated;
}

Device::Code Device::do_delete(const Path& path) {
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
  remove_attributes_under(path);
  data_changed();
  send_objects_ = true;
  request_update();
  return kDeleted;
}

// ---- Attributes -------------------------------------------------------------

const Attributes* Device::attributes_ptr(const Path& path) const {
  for (const AttributeEntry& e : attributes_)
    if (e.path == path) return &e.attributes;
  return nullptr;
}

std::optional<Attributes> Device::attributes_at(const Path& path) const {
  if (const Attributes* a = attributes_ptr(path)) return *a;
  return std::nullopt;
}

Attributes Device::effective_attributes(const Path& path, bool with_defaults) const {
  Attributes out;
  if (with_defaults) {
    if (default_pmin_ > 0) out.pmin = default_pmin_, out.set |= Attributes::kPmin;
    if (default_pmax_ > 0) out.pmax = default_pmax_, out.set |= Attributes::kPmax;
  }
  const int depth = std::min(path.depth(), 3);
  for (int d = 1; d <= depth; ++d) {
    const Attributes* a = attributes_ptr(path_prefix(path, d));
    if (!a) continue;
    overlay_periods(out, *a);
    if (d == 3 && path.is_resource()) {
      out.set |= a->set & (Attributes::kGt | Attributes::kLt | Attributes::kSt);
      out.gt = a->gt;
      out.lt = a->lt;
      out.st = a->st;
    }
  }
  return out;
}

void Device::remove_attributes_under(const Path& path) {
  std::erase_if(attributes_, [&](const AttributeEntry& e) { return e.path.starts_with(path); });
}

// ---- Observations and notifications -------------------------------------------

Device::Observation* Device::find_observation(std::string_view token) {
  for (Observation& o : observations_)
    if (o.token_view() == token) return &o;
  return nullptr;
}

bool Device::has_observation(std::string_view token) const {
  return std::any_of(observations_.begin(), observations_.end(),
                     [&](const Observation& o) { return o.token_view() == token; });
}

bool Device::cancel_observation(std::string_view token) {
  return std::erase_if(observations_,
                       [&](const Observation& o) { return o.token_view() == token; }) > 0;
}

bool Device::covers_current_time(const Path& path) const {
  return !path.is_root() && Path(kDevice, 0, 13).starts_with(path);
}

TimePoint Device::next_second(TimePoint now) const {
  const int64_t ms =
      config_->unix_minus_steady_ms +
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const int64_t into = ms - floor_div(ms, 1000) * 1000;
  return now + std::chrono::milliseconds(1000 - into);
}

std::vector<CoapMessage> Device::collect_notifications(TimePoint now) {
  std::vector<CoapMessage> out;
  collect_notifications(now, out);
  return out;
}

void Device::collect_notifications(TimePoint now, std::vector<CoapMessage>& out) {
  using std::chrono::seconds;
  for (size_t i = 0; i < observations_.size();) {
    Observation& o = observations_[i];
    const Attributes a = effective_attributes(o.path, /*with_defaults=*/true);
    const Duration since = now - o.last_notify;
    const uint32_t pmin = a.has(Attributes::kPmin) ? a.pmin : 0;
    const bool has_pmax = a.has(Attributes::kPmax) && a.pmax > 0 && a.pmax >= pmin;
    const bool pmax_due = has_pmax && since >= seconds(a.pmax);
    const bool clock_due = covers_current_time(o.path) && now >= o.next_check;
    if (!pmax_due &&
        (since < seconds(pmin) || (o.checked_version == data_version_ && !clock_due))) {
      ++i;
      continue;
    }

    Code code;
    auto node = read_for_server(o.path, now, &code);
    if (!node) {
      // The target is gone: one last (error) notification ends the observation.
      CoapMessage n;
      n.type = CoapType::kCon;
      n.code = code;
      n.token.assign(o.token_view());
      out.push_back(std::move(n));
      ++counters_.notifications_sent;
      observations_.erase(observations_.begin() + static_cast<ptrdiff_t>(i));
      continue;
    }
    o.checked_version = data_version_;
    if (covers_current_time(o.path)) o.next_check = next_second(now);
    const uint64_t fp = fingerprint(*node);
    const auto number = numeric_value(*node);
    bool notify = pmax_due;
    if (!notify && fp != o.fingerprint)
      notify = !number || conditions_met(a, o.last_number, *number);
    if (!notify) {
      ++i;
      continue;
    }
    auto bytes = lwm2m::encode(o.format, o.path, *node);
    if (!bytes) {  // cannot happen: the same format carried it when observed
      ++i;
      continue;
    }
    const uint32_t every = std::min<uint32_t>(config_->notify_con_every, 0xFFFF);
    bool con = false;
    if (every != 0 && ++o.since_con >= every) {
      con = true;
      o.since_con = 0;
    }
    CoapMessage n;
    n.type = con ? CoapType::kCon : CoapType::kNon;
    n.code = kContent;
    n.token.assign(o.token_view());
    n.add_uint_option(coap_option::kObserve, observe_seq_++ & kObserveMask);
    n.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(o.format));
    n.payload.assign(bytes->begin(), bytes->end());
    out.push_back(std::move(n));
    o.fingerprint = fp;
    o.last_number = number.value_or(0.0);
    o.last_notify = now;
    ++counters_.notifications_sent;
    ++i;
  }
}

// ---- Time -------------------------------------------------------------------------

TimePoint Device::next_deadline() const {
  using std::chrono::seconds;
  TimePoint d = TimePoint::max();
  if (sampling_ && config_->sample_period.count() > 0) d = next_sample_;
  if (reg_state_ == RegistrationState::kRegisterDue) d = std::min(d, reg_deadline_);
  if (reg_state_ == RegistrationState::kRegistered)
    d = std::min(d, update_now_ ? TimePoint{} : reg_deadline_);
  if (pending_) d = std::min(d, pending_deadline_);
  for (const Observation& o : observations_) {
    const Attributes a = effective_attributes(o.path, /*with_defaults=*/true);
    const uint32_t pmin = a.has(Attributes::kPmin) ? a.pmin : 0;
    const TimePoint pmin_at = o.last_notify + seconds(pmin);
    if (a.has(Attributes::kPmax) && a.pmax > 0 && a.pmax >= pmin)
      d = std::min(d, o.last_notify + seconds(a.pmax));
    if (o.checked_version != data_version_) d = std::min(d, pmin_at);
    if (covers_current_time(o.path)) d = std::min(d, std::max(pmin_at, o.next_check));
  }
  return d;
}

void Device::tick(TimePoint now, std::vector<CoapMessage>& out) {
  const auto period = config_->sample_period;
  if (sampling_ && period.count() > 0) {
    int n = 0;
    while (next_sample_ <= now && n < kMaxCatchUpSamples) {
      sample();
      next_sample_ += period;
      ++n;
    }
    if (next_sample_ <= now) next_sample_ = now + period;  // far behind: skip ahead
  }
  if (pending_ && now >= pending_deadline_) {
    pending_ = false;
    registration_failed(now, false);
  }

  if (reg_state_ == RegistrationState::kRegisterDue && now >= reg_deadline_) {
    out.push_back(make_register());
    reg_state_ = RegistrationState::kRegistering;
    pending_deadline_ = now + config_->request_timeout;
  } else if (reg_state_ == RegistrationState::kRegistered &&
             (update_now_ || now >= reg_deadline_)) {
    out.push_back(make_update());
    reg_state_ = RegistrationState::kUpdating;
    pending_deadline_ = now + config_->request_timeout;
  }
  collect_notifications(now, out);
}

// ---- Registration -------------------------------------------------------------------

void Device::start(TimePoint now, bool register_with_server) {
  sampling_ = true;
  next_sample_ = now + config_->sample_period;
  if (register_with_server) {
    reg_state_ = RegistrationState::kRegisterDue;
    reg_deadline_ = now;
    failures_ = 0;
    pending_ = false;
  }
}

std::optional<CoapMessage> Device::deregister(TimePoint now) {
  if (!registered()) {
    reg_state_ = RegistrationState::kStopped;
    pending_ = false;
    return std::nullopt;
  }
  CoapMessage m = make_request(code_of(CoapCode::kDelete));
  m.set_uri_path(reg_location_);
  reg_state_ = RegistrationState::kDeregistering;
  pending_deadline_ = now + config_->request_timeout;
  observations_.clear();
  return m;
}

bool Device::is_pending_token(std::string_view token) const {
  return pending_ && token.size() == sizeof pending_token_ &&
         std::memcmp(token.data(), &pending_token_, sizeof pending_token_) == 0;
}

// A CON request with a fresh 4-byte token, now the outstanding one.
CoapMessage Device::make_request(uint8_t code) {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = code;
  pending_token_ = static_cast<uint32_t>(next_random(misc_rng_));
  pending_ = true;
  m.token.assign(reinterpret_cast<const char*>(&pending_token_), sizeof pending_token_);
  return m;
}

void Device::set_binding(std::string_view b) {
  binding_size_ = static_cast<uint8_t>(std::min(b.size(), binding_.size()));
  std::memcpy(binding_.data(), b.data(), binding_size_);
}

const std::string& Device::utc_offset() const {
  return written_ ? written_->utc_offset : config_->utc_offset;
}

const std::string& Device::timezone() const {
  return written_ ? written_->timezone : config_->timezone;
}

std::string Device::registration_links() const {
  const bool v11 = config_->version == Lwm2mVersion::k1_1;
  // Besides TEXT, OPAQUE and CoRE links, which every client supports.
  std::string s =
      v11 ? "</>;rt=\"oma.lwm2m\";ct=\"110 11542 11543\"" : "</>;rt=\"oma.lwm2m\";ct=11543";
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

CoapMessage Device::make_register() {
  CoapMessage m = make_request(code_of(CoapCode::kPost));
  m.set_uri_path("/rd");
  m.add_uri_query("ep=" + endpoint_);
  m.add_uri_query("lt=" + std::to_string(lifetime_s_));
  m.add_uri_query(config_->version == Lwm2mVersion::k1_1 ? "lwm2m=1.1" : "lwm2m=1.0");
  m.add_uri_query("b=" + std::string(binding()));
  m.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(ContentFormat::kLinkFormat));
  m.payload = registration_links();
  send_lifetime_ = send_binding_ = send_objects_ = update_now_ = false;
  return m;
}

CoapMessage Device::make_update() {
  CoapMessage m = make_request(code_of(CoapCode::kPost));
  m.set_uri_path(reg_location_);
  if (send_lifetime_) m.add_uri_query("lt=" + std::to_string(lifetime_s_));
  if (send_binding_) m.add_uri_query("b=" + std::string(binding()));
  if (send_objects_) {
    m.add_uint_option(coap_option::kContentFormat,
                      static_cast<uint32_t>(ContentFormat::kLinkFormat));
    m.payload = registration_links();
  }
  send_lifetime_ = send_binding_ = send_objects_ = update_now_ = false;
  return m;
}

void Device::request_update() {
  if (registered()) update_now_ = true;
}

Duration Device::update_interval() const {
  return std::chrono::milliseconds(std::max<int64_t>(1000, int64_t{lifetime_s_} * 900));
}

Duration Device::backoff() {
  const double base = static_cast<double>(config_->retry_base.count());
  const double cap = static_cast<double>(config_->retry_max.count());
  const double ms = std::min(base * std::ldexp(1.0, std::min<int>(failures_, 30)), cap) *
                    (0.75 + 0.5 * uniform01(misc_rng_));
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(ms));
}

void Device::registration_failed(TimePoint now, bool update_not_found) {
  ++counters_.errors;
  switch (reg_state_) {
    case RegistrationState::kDeregistering:
      ++counters_.deregistrations;
      reg_state_ = RegistrationState::kStopped;
      reg_location_.clear();
      return;
    case RegistrationState::kRegistering:
    case RegistrationState::kUpdating:
      reg_state_ = RegistrationState::kRegisterDue;
      if (update_not_found) {
        reg_deadline_ = now;  // the server forgot us: register again at once
      } else {
        reg_deadline_ = now + backoff();
        if (failures_ < 30) ++failures_;
      }
      return;
    default:
      return;
  }
}

bool Device::handle_response(const CoapMessage& response, TimePoint now) {
  if (!is_pending_token(response.token) || !response.is_response()) return false;
  pending_ = false;
  switch (reg_state_) {
    case RegistrationState::kRegistering: {
      std::string location = response.location_path();
      if (response.code == kCreated && !location.empty()) {
        reg_location_ = std::move(location);
        reg_state_ = RegistrationState::kRegistered;
        reg_deadline_ = now + update_interval();
        failures_ = 0;
        observations_.clear();  // a new registration starts without observations
        ++counters_.registrations;
      } else {
        registration_failed(now, false);
      }
      break;
    }
    case RegistrationState::kUpdating:
      if (response.code == kChanged) {
        reg_state_ = RegistrationState::kRegistered;
        reg_deadline_ = now + update_interval();
        failures_ = 0;
        ++counters_.updates;
      } else {
        registration_failed(now, response.code == kNotFound);
      }
      break;
    case RegistrationState::kDeregistering:
      ++counters_.deregistrations;
      reg_state_ = RegistrationState::kStopped;
      reg_location_.clear();
      break;
    default:
      break;
  }
  return true;
}

void Device::on_timeout(std::string_view token, TimePoint now) {
  if (is_pending_token(token)) {
    pending_ = false;
    registration_failed(now, false);
    return;
  }
  if (cancel_observation(token)) ++counters_.errors;
}

void Device::on_reset(std::string_view token, TimePoint now) {
  on_timeout(token, now);
}

}  // namespace fogm2m::emulated
