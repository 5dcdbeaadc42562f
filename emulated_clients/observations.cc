#include "emulated_clients/observations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "emulated_clients/response_codes.h"
#include "lwm2m/codec/codec.h"

namespace fogm2m::emulated {

using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::Node;
using lwm2m::Object;
using lwm2m::ObjectInstance;
using lwm2m::Path;
using lwm2m::Resource;
using lwm2m::ResourceInstance;
using lwm2m::Value;

namespace {

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

void add_node(Fnv& f, const Node& node) {
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
}

uint64_t fingerprint(const Node& node) {
  Fnv f;
  add_node(f, node);
  return f.h;
}

// The nodes of a composite observation, each with its path.
uint64_t fingerprint(std::span<const lwm2m::PathNode> nodes) {
  Fnv f;
  for (const lwm2m::PathNode& pn : nodes) {
    add_node(f, pn.node);
    const uint8_t depth = static_cast<uint8_t>(pn.path.depth());
    f.add_pod(depth);
    for (int i = 0; i < depth; ++i) f.add_pod(pn.path.id(i));
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

// gt/lt crossings and st steps between the last notified and the current value.
bool conditions_met(const Attributes& a, double last, double now) {
  if (!a.has(Attributes::kGt) && !a.has(Attributes::kLt) && !a.has(Attributes::kSt)) return true;
  if (a.has(Attributes::kGt) && ((last > a.gt) != (now > a.gt))) return true;
  if (a.has(Attributes::kLt) && ((last < a.lt) != (now < a.lt))) return true;
  if (a.has(Attributes::kSt) && std::fabs(now - last) >= a.st) return true;
  return false;
}

// The observation's value follows the clock (Current Time, /3/0/13).
bool covers_current_time(const Path& path) {
  return !path.is_root() && Path(3, 0, 13).starts_with(path);
}

// The periods of a composite observation (observations.h): the shortest
// pmin (0 when a path has none) and the shortest pmax in force at its paths.
Attributes composite_attributes(const std::vector<Path>& paths, const AttributeTable& table,
                                const Attributes& defaults) {
  Attributes out;
  bool first = true;
  for (const Path& p : paths) {
    const Attributes a = table.effective(p, defaults);
    const uint32_t pmin = a.has(Attributes::kPmin) ? a.pmin : 0;
    if (first || pmin < out.pmin) out.pmin = pmin;
    first = false;
    if (a.has(Attributes::kPmax) && a.pmax > 0 &&
        (!out.has(Attributes::kPmax) || a.pmax < out.pmax)) {
      out.pmax = a.pmax;
      out.set |= Attributes::kPmax;
    }
  }
  if (out.pmin > 0) out.set |= Attributes::kPmin;
  return out;
}

}  // namespace

Observations::Observation* Observations::find(std::string_view token) {
  for (Observation& o : observations_)
    if (o.token_view() == token) return &o;
  return nullptr;
}

bool Observations::has(std::string_view token) const {
  return std::any_of(observations_.begin(), observations_.end(),
                     [&](const Observation& o) { return o.token_view() == token; });
}

bool Observations::cancel(std::string_view token) {
  return std::erase_if(observations_,
                       [&](const Observation& o) { return o.token_view() == token; }) > 0;
}

Observations::Observation* Observations::start(std::string_view token, const DeviceObjects& objects,
                                               TimePoint now, size_t limit) {
  Observation* obs = find(token);
  if (!obs) {
    if (observations_.size() >= limit || token.size() > 8) return nullptr;
    obs = &observations_.emplace_back();
  }
  obs->token_size = static_cast<uint8_t>(token.size());
  std::memcpy(obs->token.data(), token.data(), token.size());
  obs->since_con = 0;
  obs->last_notify = now;
  obs->next_check = now;
  obs->checked_version = objects.data_version();
  obs->paths.reset();
  return obs;
}

bool Observations::observe(std::string_view token, const Path& path, lwm2m::ContentFormat format,
                           const Node& sent, const DeviceObjects& objects, TimePoint now,
                           size_t limit) {
  Observation* obs = start(token, objects, now, limit);
  if (!obs) return false;
  obs->path = path;
  obs->format = format;
  // The value just sent is the reference for the next notification.
  obs->fingerprint = fingerprint(sent);
  obs->last_number = numeric_value(sent).value_or(0.0);
  return true;
}

bool Observations::observe_composite(std::string_view token, std::span<const Path> paths,
                                     lwm2m::ContentFormat format,
                                     std::span<const lwm2m::PathNode> sent,
                                     const DeviceObjects& objects, TimePoint now, size_t limit) {
  if (paths.empty()) return false;
  Observation* obs = start(token, objects, now, limit);
  if (!obs) return false;
  obs->path = Path();
  obs->paths = std::make_unique<std::vector<Path>>(paths.begin(), paths.end());
  obs->format = format;
  obs->fingerprint = fingerprint(sent);
  obs->last_number = 0;
  return true;
}

bool Observations::follows_clock(const Observation& o) {
  if (!o.paths) return covers_current_time(o.path);
  return std::any_of(o.paths->begin(), o.paths->end(), covers_current_time);
}

Attributes Observations::attributes_of(const Observation& o, const AttributeTable& attributes,
                                       const Attributes& defaults) const {
  if (o.paths) return composite_attributes(*o.paths, attributes, defaults);
  return attributes.effective(o.path, defaults);
}

void Observations::collect(TimePoint now, const DeviceObjects& objects,
                           const AttributeTable& attributes, std::vector<CoapMessage>& out,
                           DeviceCounters& counters) {
  using std::chrono::seconds;
  const Attributes defaults = objects.default_periods();
  for (size_t i = 0; i < observations_.size();) {
    Observation& o = observations_[i];
    const Attributes a = attributes_of(o, attributes, defaults);
    const Duration since = now - o.last_notify;
    const uint32_t pmin = a.has(Attributes::kPmin) ? a.pmin : 0;
    const bool has_pmax = a.has(Attributes::kPmax) && a.pmax > 0 && a.pmax >= pmin;
    const bool pmax_due = has_pmax && since >= seconds(a.pmax);
    const bool clock_due = follows_clock(o) && now >= o.next_check;
    if (!pmax_due &&
        (since < seconds(pmin) || (o.checked_version == objects.data_version() && !clock_due))) {
      ++i;
      continue;
    }

    DeviceObjects::Code code = response_code::kNotFound;
    std::optional<Node> node;
    std::vector<lwm2m::PathNode> nodes;  // a composite's
    if (o.paths) {
      for (const Path& p : *o.paths) {
        DeviceObjects::Code ignored;
        if (auto one = objects.read_for_server(p, now, &ignored))
          nodes.push_back(lwm2m::PathNode{p, std::move(*one)});
      }
    } else {
      node = objects.read_for_server(o.path, now, &code);
    }
    if (o.paths ? nodes.empty() : !node) {
      // The target is gone: one last (error) notification ends the observation.
      CoapMessage n;
      n.type = CoapType::kCon;
      n.code = code;
      n.token.assign(o.token_view());
      out.push_back(std::move(n));
      ++counters.notifications_sent;
      observations_.erase(observations_.begin() + static_cast<ptrdiff_t>(i));
      continue;
    }
    o.checked_version = objects.data_version();
    if (follows_clock(o)) o.next_check = objects.next_second(now);
    const uint64_t fp = o.paths ? fingerprint(nodes) : fingerprint(*node);
    const auto number = o.paths ? std::nullopt : numeric_value(*node);
    bool notify = pmax_due;
    if (!notify && fp != o.fingerprint)
      notify = !number || conditions_met(a, o.last_number, *number);
    if (!notify) {
      ++i;
      continue;
    }
    auto bytes =
        o.paths ? lwm2m::encode_composite(o.format, nodes) : lwm2m::encode(o.format, o.path, *node);
    if (!bytes) {  // cannot happen: the same format carried it when observed
      ++i;
      continue;
    }
    const uint32_t every = std::min<uint32_t>(objects.config().notify_con_every, 0xFFFF);
    bool con = false;
    if (every != 0 && ++o.since_con >= every) {
      con = true;
      o.since_con = 0;
    }
    CoapMessage n;
    n.type = con ? CoapType::kCon : CoapType::kNon;
    n.code = response_code::kContent;
    n.token.assign(o.token_view());
    n.add_uint_option(lwm2m::coap_option::kObserve, next_observe_number());
    n.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(o.format));
    n.payload.assign(bytes->begin(), bytes->end());
    out.push_back(std::move(n));
    o.fingerprint = fp;
    o.last_number = number.value_or(0.0);
    o.last_notify = now;
    ++counters.notifications_sent;
    ++i;
  }
}

TimePoint Observations::next_deadline(const DeviceObjects& objects,
                                      const AttributeTable& attributes) const {
  using std::chrono::seconds;
  TimePoint d = TimePoint::max();
  const Attributes defaults = objects.default_periods();
  for (const Observation& o : observations_) {
    const Attributes a = attributes_of(o, attributes, defaults);
    const uint32_t pmin = a.has(Attributes::kPmin) ? a.pmin : 0;
    const TimePoint pmin_at = o.last_notify + seconds(pmin);
    if (a.has(Attributes::kPmax) && a.pmax > 0 && a.pmax >= pmin)
      d = std::min(d, o.last_notify + seconds(a.pmax));
    if (o.checked_version != objects.data_version()) d = std::min(d, pmin_at);
    if (follows_clock(o)) d = std::min(d, std::max(pmin_at, o.next_check));
  }
  return d;
}

}  // namespace fogm2m::emulated
