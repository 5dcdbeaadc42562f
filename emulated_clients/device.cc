#include "emulated_clients/device.h"

#include <algorithm>
#include <cstring>

#include "emulated_clients/response_codes.h"
#include "emulated_clients/splitmix.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/object_ids.h"

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
using lwm2m::ResourceType;
namespace coap_option = lwm2m::coap_option;

using namespace response_code;

namespace {

using lwm2m::object_id::kSecurity;
constexpr int kMaxCatchUpSamples = 200;

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
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
    case ContentFormat::kSenmlCbor:
    case ContentFormat::kLwm2mCbor:  // LwM2M 1.2's, spoken by the 1.1 device too
      if (version == Lwm2mVersion::k1_1) return f;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace

int64_t unix_minus_steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count() -
         duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// ---- Life cycle, time, registration --------------------------------------------

Device::Device(std::shared_ptr<const DeviceConfig> config, DeviceIdentity identity)
    : seed_(identity.seed),
      objects_(std::move(config), identity),
      registration_(identity.seed ^ 0x5DEECE66Dull) {}

void Device::start(TimePoint now, bool register_with_server) {
  sampling_ = true;
  next_sample_ = now + config().sample_period;
  if (register_with_server) registration_.start(now);
}

std::optional<CoapMessage> Device::deregister(TimePoint now) {
  auto request = registration_.deregister(now, config());
  if (request) observations_.clear();
  return request;
}

TimePoint Device::next_deadline() const {
  TimePoint d = TimePoint::max();
  // Unobserved, nothing needs a sample on time: they are caught up when a
  // request or a tick comes (catch_up_samples).
  if (sampling_ && config().sample_period.count() > 0 && !observations_.empty()) d = next_sample_;
  d = std::min(d, registration_.next_deadline());
  if (config().send_period.count() > 0 && registered() && !send_pending_)
    d = std::min(d, next_send_);
  return std::min(d, observations_.next_deadline(objects_, attributes_));
}

void Device::catch_up_samples(TimePoint now) {
  const auto period = config().sample_period;
  if (!sampling_ || period.count() <= 0) return;
  int n = 0;
  while (next_sample_ <= now && n < kMaxCatchUpSamples) {
    objects_.sample();
    next_sample_ += period;
    ++n;
  }
  if (next_sample_ <= now) next_sample_ = now + period;  // far behind: skip ahead
}

void Device::tick(TimePoint now, std::vector<CoapMessage>& out) {
  catch_up_samples(now);
  const size_t before = out.size();
  registration_.tick(now, objects_, objects_.endpoint(), out, counters_);
  maybe_send(now, out);
  collect_notifications(now, out);
  // Queue mode: sending turns the radio on for the awake time.
  if (config().queue_mode && out.size() > before) awake_until_ = now + config().awake_time;
}

void Device::maybe_send(TimePoint now, std::vector<CoapMessage>& out) {
  const DeviceConfig& c = config();
  if (c.send_period.count() <= 0 || c.version != Lwm2mVersion::k1_1 || !registered() ||
      send_pending_ || now < next_send_)
    return;
  next_send_ = now + c.send_period;
  std::vector<lwm2m::PathNode> nodes;
  for (uint16_t instance : objects_.instance_ids(3313))
    for (uint16_t axis : {uint16_t{5702}, uint16_t{5703}, uint16_t{5704}})
      if (auto r = objects_.read_resource(3313, instance, axis, now))
        nodes.push_back(lwm2m::PathNode{Path(3313, instance, axis), Node(std::move(*r))});
  const ContentFormat format = c.send_cbor ? ContentFormat::kSenmlCbor : ContentFormat::kSenmlJson;
  auto payload = lwm2m::encode_composite(format, nodes);
  if (!payload || nodes.empty()) return;
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = static_cast<uint8_t>(CoapCode::kPost);
  m.set_uri_path("/dp");
  m.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(format));
  m.payload.assign(payload->begin(), payload->end());
  uint64_t state = seed_ ^ static_cast<uint64_t>(now.time_since_epoch().count());
  send_token_ = static_cast<uint32_t>(splitmix64(state));
  m.token.assign(reinterpret_cast<const char*>(&send_token_), sizeof send_token_);
  send_pending_ = true;
  out.push_back(std::move(m));
}

std::vector<CoapMessage> Device::collect_notifications(TimePoint now) {
  std::vector<CoapMessage> out;
  collect_notifications(now, out);
  return out;
}

void Device::collect_notifications(TimePoint now, std::vector<CoapMessage>& out) {
  observations_.collect(now, objects_, attributes_, out, counters_);
}

bool Device::handle_response(const CoapMessage& response, TimePoint now) {
  if (send_pending_ && response.token.size() == sizeof send_token_ &&
      std::memcmp(response.token.data(), &send_token_, sizeof send_token_) == 0) {
    send_pending_ = false;
    if (response.code == static_cast<uint8_t>(CoapCode::kChanged))
      ++counters_.sends;
    else
      ++counters_.send_errors;
    return true;
  }
  const auto answer =
      registration_.handle_response(response, now, objects_.lifetime_s(), config(), counters_);
  if (answer == RegistrationClient::Answer::kRegistered) {
    observations_.clear();  // a new registration starts bare
    next_send_ = now + config().send_period;
  }
  return answer != RegistrationClient::Answer::kNotMine;
}

void Device::on_timeout(std::string_view token, TimePoint now) {
  if (registration_.on_failure(token, now, config(), counters_)) return;
  if (send_pending_ && token.size() == sizeof send_token_ &&
      std::memcmp(token.data(), &send_token_, sizeof send_token_) == 0) {
    send_pending_ = false;
    ++counters_.send_errors;
    return;
  }
  if (observations_.cancel(token)) ++counters_.errors;
}

void Device::on_reset(std::string_view token, TimePoint now) {
  on_timeout(token, now);
}

bool Device::has_observation(std::string_view token) const {
  return observations_.has(token);
}

Result<Node> Device::read_local(const Path& path, TimePoint now) const {
  return objects_.read_local(path, now);
}

std::optional<Attributes> Device::attributes_at(const Path& path) const {
  if (const Attributes* a = attributes_.at(path)) return *a;
  return std::nullopt;
}

// ---- Device Management and Information Reporting ------------------------------------

CoapMessage Device::handle_request(const CoapMessage& req, TimePoint now) {
  catch_up_samples(now);
  if (config().queue_mode) awake_until_ = now + config().awake_time;  // answering keeps it awake
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
          code = do_execute(*path);
        else if (path->is_resource_instance() && path->object_id() != 0)
          code = kMethodNotAllowed;
        else
          code = path->is_root() ? kMethodNotAllowed : kNotFound;
        break;
      case CoapCode::kDelete:
        code = do_delete(*path);
        break;
      case CoapCode::kFetch:
        if (!path->is_root() || config().version != Lwm2mVersion::k1_1) {
          code = kMethodNotAllowed;
        } else if (req.observe() == 0u || req.observe() == 1u) {
          code = do_observe_composite(req, now, resp);
        } else {
          std::vector<Path> paths;
          std::vector<lwm2m::PathNode> nodes;
          code = do_read_composite(req, now, resp, paths, nodes);
        }
        break;
      case CoapCode::kIpatch:
        if (!path->is_root() || config().version != Lwm2mVersion::k1_1)
          code = kMethodNotAllowed;
        else
          code = do_write_composite(req, now);
        break;
      default:
        code = kMethodNotAllowed;  // PATCH
        break;
    }
  }

  note_changes();
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
  auto node = objects_.read_for_server(path, now, &code);
  if (!node) return code;
  ContentFormat format = ContentFormat::kTlv;
  if (req.has_option(coap_option::kAccept)) {
    const auto accept = req.uint_option(coap_option::kAccept);
    auto f = accept ? supported_format(*accept, config().version) : std::nullopt;
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
    observations_.cancel(req.token);
    return do_read(req, path, now, resp);
  }
  const Code code = do_read(req, path, now, resp);
  if (code != kContent) return code;
  Code ignored;
  const auto sent = objects_.read_for_server(path, now, &ignored);
  const auto format = static_cast<ContentFormat>(
      resp.content_format().value_or(static_cast<uint32_t>(ContentFormat::kTlv)));
  if (!sent || !observations_.observe(req.token, path, format, *sent, objects_, now,
                                      config().max_observations))
    return code;  // answered as a plain read: not observed
  resp.add_uint_option(coap_option::kObserve, observations_.next_observe_number());
  return code;
}

Device::Code Device::do_discover(const Path& path, CoapMessage& resp) const {
  if (path.is_root()) return kMethodNotAllowed;
  if (path.is_resource_instance()) return kBadRequest;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !objects_.object_present(oid)) return kNotFound;
  if (path.depth() >= 2 && !objects_.instance_present(oid, path.instance_id())) return kNotFound;
  if (path.is_resource() && !objects_.resource_present(oid, path.resource_id())) return kNotFound;

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
    if (auto r = objects_.read_resource(oid, iid, rid, no_time); r && r->multiple)
      out += ";dim=" + std::to_string(r->instances.size());
    if (inherited) {
      append_link_attributes(out, attributes_.effective(rp, Attributes{}));
    } else if (const Attributes* a = attributes_.at(rp)) {
      append_link_attributes(out, *a);
    }
  };
  auto instance_links = [&](uint16_t iid) {
    link(Path(oid, iid));
    if (const Attributes* a = attributes_.at(Path(oid, iid))) append_link_attributes(out, *a);
    for (uint16_t rid : objects_.resource_ids(oid)) resource_link(iid, rid, false);
  };

  if (path.is_object()) {
    link(path);
    const lwm2m::ObjectModel* model = models().find(oid);
    if (config().version == Lwm2mVersion::k1_1 && model && model->version != "1.0")
      out += ";ver=" + model->version;
    if (const Attributes* a = attributes_.at(path)) append_link_attributes(out, *a);
    for (uint16_t iid : objects_.instance_ids(oid)) instance_links(iid);
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
  if (oid == kSecurity || !objects_.object_present(oid)) return kNotFound;
  if (path.is_object()) return kMethodNotAllowed;
  const uint16_t iid = path.instance_id();
  if (!objects_.instance_present(oid, iid)) return kNotFound;
  if (path.depth() >= 3 && !objects_.resource_present(oid, path.resource_id())) return kNotFound;

  if (!req.has_option(coap_option::kContentFormat)) return kBadRequest;
  const auto number = req.content_format();
  auto format = number ? supported_format(*number, config().version) : std::nullopt;
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
    if (Code c = objects_.write_resource(oid, iid, *r, now, /*apply=*/false); c != kChanged)
      return c;
  for (const Resource* r : resources)
    (void)objects_.write_resource(oid, iid, *r, now, /*apply=*/true);
  return kChanged;
}

Device::Code Device::do_write_attributes(const CoapMessage& req, const Path& path) {
  if (path.is_root()) return kMethodNotAllowed;
  if (path.is_resource_instance()) return kBadRequest;
  const uint16_t oid = path.object_id();
  if (oid == kSecurity || !objects_.object_present(oid)) return kNotFound;
  if (path.depth() >= 2 && !objects_.instance_present(oid, path.instance_id())) return kNotFound;
  bool numeric = false;
  if (path.is_resource()) {
    if (!objects_.resource_present(oid, path.resource_id())) return kNotFound;
    const lwm2m::ResourceModel* model = models().find_resource(oid, path.resource_id());
    numeric = model && is_numeric(model->type) && !model->multiple;
  }
  const Code code = attributes_.write(path, req.uri_queries(), numeric);
  // New periods may release or hold back notifications: re-evaluate.
  if (code == kChanged) observations_.reevaluate(objects_);
  return code;
}

Device::Code Device::do_execute(const Path& path) {
  return objects_.execute(path);
}

Device::Code Device::do_create(const CoapMessage& req, const Path& path, CoapMessage& resp) {
  const uint16_t oid = path.object_id();
  if (const Code refused = objects_.creatable(oid)) return refused;
  ObjectInstance given;
  given.id = objects_.free_instance_id(oid);
  if (!req.payload.empty()) {
    if (!req.has_option(coap_option::kContentFormat)) return kBadRequest;
    const auto number = req.content_format();
    auto format = number ? supported_format(*number, config().version) : std::nullopt;
    if (!format || !lwm2m::can_encode(*format, path)) return kUnsupportedFormat;
    auto node = lwm2m::decode(*format, path, bytes_of(req.payload), models());
    if (!node) return kBadRequest;
    const auto* object = std::get_if<Object>(&*node);
    if (!object || object->instances.size() != 1) return kBadRequest;
    // TLV resources without an object-instance wrapper: the client picks the id.
    const bool tlv = *format == ContentFormat::kTlv || *format == ContentFormat::kOldTlv;
    const bool unwrapped = tlv && (static_cast<uint8_t>(req.payload[0]) & 0xC0) != 0;
    const uint16_t free_id = given.id;
    given = object->instances[0];
    if (unwrapped) given.id = free_id;
  }
  const Code code = objects_.create(oid, given);
  if (code == kCreated)
    resp.set_location_path("/" + std::to_string(oid) + "/" + std::to_string(given.id));
  return code;
}

Device::Code Device::do_delete(const Path& path) {
  const Code code = objects_.remove(path);
  if (code == kDeleted) attributes_.remove_under(path);
  return code;
}

// ---- Composite operations (TS-Core 6.3.x, 6.4.x) ------------------------------------

namespace {

// The composite format a Content-Format or Accept number names, or nullopt.
std::optional<ContentFormat> composite_format(uint32_t number) {
  auto f = lwm2m::content_format_from_number(number);
  if (!f || !lwm2m::carries_composite(*f)) return std::nullopt;
  return f;
}

}  // namespace

Device::Code Device::do_read_composite(const CoapMessage& req, TimePoint now, CoapMessage& resp,
                                       std::vector<Path>& paths,
                                       std::vector<lwm2m::PathNode>& nodes) {
  const auto number = req.content_format();
  if (!number) return kBadRequest;
  const auto asked_in = composite_format(*number);
  if (!asked_in) return kUnsupportedFormat;
  ContentFormat format = *asked_in;
  if (const auto accept = req.uint_option(coap_option::kAccept)) {
    const auto f = composite_format(*accept);
    if (!f) return kNotAcceptable;
    format = *f;
  }
  auto listed = lwm2m::decode_paths(*asked_in, bytes_of(req.payload));
  if (!listed || listed->empty()) return kBadRequest;
  paths = std::move(*listed);
  nodes.clear();
  for (const Path& p : paths) {
    Code ignored;
    if (auto node = objects_.read_for_server(p, now, &ignored))
      nodes.push_back(lwm2m::PathNode{p, std::move(*node)});
  }
  if (nodes.empty()) return kNotFound;
  auto bytes = lwm2m::encode_composite(format, nodes);
  if (!bytes) return kInternalError;
  resp.add_uint_option(coap_option::kContentFormat, static_cast<uint32_t>(format));
  resp.payload.assign(bytes->begin(), bytes->end());
  return kContent;
}

Device::Code Device::do_observe_composite(const CoapMessage& req, TimePoint now,
                                          CoapMessage& resp) {
  std::vector<Path> paths;
  std::vector<lwm2m::PathNode> nodes;
  if (req.observe() == 1u) {
    observations_.cancel(req.token);
    return do_read_composite(req, now, resp, paths, nodes);
  }
  const Code code = do_read_composite(req, now, resp, paths, nodes);
  if (code != kContent) return code;
  const auto format = static_cast<ContentFormat>(
      resp.content_format().value_or(static_cast<uint32_t>(ContentFormat::kSenmlJson)));
  if (!observations_.observe_composite(req.token, paths, format, nodes, objects_, now,
                                       config().max_observations))
    return code;  // answered as a plain read: not observed
  resp.add_uint_option(coap_option::kObserve, observations_.next_observe_number());
  return code;
}

Device::Code Device::do_write_composite(const CoapMessage& req, TimePoint now) {
  const auto number = req.content_format();
  if (!number) return kBadRequest;
  const auto format = composite_format(*number);
  if (!format) return kUnsupportedFormat;
  auto resources = lwm2m::decode_composite_resources(*format, bytes_of(req.payload), models());
  if (!resources || resources->empty()) return kBadRequest;
  // Every target first: nothing is written unless all of them can be.
  for (const lwm2m::PathNode& pn : *resources) {
    const Path& path = pn.path;
    const uint16_t oid = path.object_id();
    if (oid == kSecurity || !objects_.object_present(oid) ||
        !objects_.instance_present(oid, path.instance_id()) ||
        !objects_.resource_present(oid, path.resource_id()))
      return kNotFound;
    const auto* model = models().find_resource(oid, path.resource_id());
    if (!model || !model->writable()) return kMethodNotAllowed;
    const auto* resource = std::get_if<Resource>(&pn.node);
    if (!resource) return kBadRequest;
    if (Code c = objects_.write_resource(oid, path.instance_id(), *resource, now,
                                         /*apply=*/false);
        c != kChanged)
      return c;
  }
  for (const lwm2m::PathNode& pn : *resources)
    (void)objects_.write_resource(pn.path.object_id(), pn.path.instance_id(),
                                  std::get<Resource>(pn.node), now, /*apply=*/true);
  return kChanged;
}

}  // namespace fogm2m::emulated
