#include "gateway/rest_api.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "bus/node_json.h"
#include "gateway/leshan_json.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/hex.h"

namespace fogm2m::gateway {

namespace json = boost::json;
using bus::RequestKind;

namespace {

ApiAnswer text(unsigned status, std::string message) {
  return ApiAnswer{status, std::move(message), "text/plain; charset=utf-8", std::nullopt};
}

ApiAnswer json_answer(const json::value& v) {
  return ApiAnswer{200, json::serialize(v), "application/json", std::nullopt};
}

Error invalid(std::string message) {
  return make_error(ErrorKind::kInvalidArgument, std::move(message));
}

// The errorMessage of a bus err, or `fallback` when it has none.
std::string err_message(const BusReply& reply, std::string_view fallback) {
  const json::value* m = reply.body.if_contains("errorMessage");
  return m && m->is_string() ? std::string(m->get_string()) : std::string(fallback);
}

// The answer when the bus gave no reply at all: 504 when none came in time,
// 503 when the bus could not take the request.
ApiAnswer no_reply(const Error& e, std::string_view timeout_prefix = {}) {
  if (e.kind == ErrorKind::kTimeout) return text(504, std::string(timeout_prefix) + e.message);
  return text(503, e.message);
}

bool is_json(std::string_view content_type) {
  return content_type.find("json") != std::string_view::npos;
}

Result<double> parse_number(const std::string& name, const std::string& value) {
  double v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || !std::isfinite(v))
    return invalid("query parameter " + name + "=\"" + value + "\" is not a number");
  return v;
}

Result<int64_t> parse_integer(const std::string& name, const std::string& value) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc() || end != value.data() + value.size() || v < 0)
    return invalid("query parameter " + name + "=\"" + value + "\" is not a non-negative integer");
  return v;
}

// The JSON value a text/plain body stands for, typed by the resource's model.
Result<json::value> text_value(const std::string& body, const lwm2m::ResourceModel* model) {
  using lwm2m::ResourceType;
  const ResourceType type = model ? model->type : ResourceType::kString;
  switch (type) {
    case ResourceType::kInteger:
    case ResourceType::kUnsignedInteger:
    case ResourceType::kFloat:
    case ResourceType::kTime: {
      boost::system::error_code ec;
      json::value v = json::parse(body, ec);
      if (ec || !v.is_number()) return invalid("body \"" + body + "\" is not a number");
      return v;
    }
    case ResourceType::kBoolean:
      if (body == "true" || body == "1") return json::value(true);
      if (body == "false" || body == "0") return json::value(false);
      return invalid("body \"" + body + "\" is not a boolean");
    default:
      return json::value(body);
  }
}

}  // namespace

bool is_device_timeout(std::string_view message) {
  for (std::string_view needle :
       {"no response within", "did not answer", "did not acknowledge", "timed out", "timeout"})
    if (message.find(needle) != std::string_view::npos) return true;
  return false;
}

void RestApi::handle(const ApiRoute& route, std::string body, std::string_view content_type,
                     Done done) {
  switch (route.op) {
    case ApiOperation::kListClients: {
      json::array all;
      all.reserve(directory_.size());
      for (const auto& [ep, reg] : directory_.all()) all.push_back(registration_json(reg));
      return done(json_answer(all));
    }
    case ApiOperation::kGetClient:
      return directory_.lookup(
          route.endpoint, lifetime_.guard([done, ep = route.endpoint](
                                              Result<std::optional<store::Registration>> r) {
            if (!r) return done(text(503, "registration store unavailable: " + r.error().message));
            if (!*r) return done(text(400, "No registered client with id '" + ep + "'"));
            done(json_answer(registration_json(**r)));
          }));
    case ApiOperation::kListSecurity:
      return list_security(std::move(done));
    case ApiOperation::kPutSecurity:
      return put_security(body, std::move(done));
    case ApiOperation::kDeleteSecurity:
      return delete_security(route.endpoint, std::move(done));
    case ApiOperation::kObjectSpecs:
      return done(ApiAnswer{200, object_specs(), "application/json", std::nullopt});
    case ApiOperation::kEvents:
    case ApiOperation::kMetrics:
    case ApiOperation::kStomp:
    case ApiOperation::kAsset:
      return done(text(500, std::string("route ") + to_string(route.op) + " is the server's"));
    default:
      return device_request(route, std::move(body), content_type, std::move(done));
  }
}

void RestApi::device_request(const ApiRoute& route, std::string body, std::string_view content_type,
                             Done done) {
  auto request = make_request(route, body, content_type);
  if (!request) return done(text(400, request.error().message));
  std::chrono::milliseconds timeout = options_.default_timeout;
  if (const std::string* t = route.param("timeout")) {
    auto seconds = parse_number("timeout", *t);
    if (!seconds || *seconds <= 0)
      return done(text(400, "timeout must be a positive number of seconds"));
    timeout = std::min(options_.max_timeout,
                       std::chrono::milliseconds(static_cast<int64_t>(*seconds * 1000)));
  }
  directory_.lookup(
      route.endpoint, lifetime_.guard([this, done, timeout, request = std::move(*request)](
                                          Result<std::optional<store::Registration>> r) mutable {
        if (!r) return done(text(503, "registration store unavailable: " + r.error().message));
        if (!*r) return done(text(400, "No registered client with id '" + request.endpoint + "'"));
        send(std::move(request), timeout, std::move(done));
      }));
}

Result<bus::Request> RestApi::make_request(const ApiRoute& route, const std::string& body,
                                           std::string_view content_type) const {
  bus::Request r;
  r.endpoint = route.endpoint;
  r.path = route.path;
  if (const std::string* f = route.param("format")) {
    auto format = lwm2m::parse_content_format(*f);
    if (!format) return invalid("unknown content format \"" + *f + "\"");
    r.content_format = *format;
  }
  switch (route.op) {
    case ApiOperation::kRead:
      r.kind = RequestKind::kRead;
      return r;
    case ApiOperation::kDiscover:
      r.kind = RequestKind::kDiscover;
      return r;
    case ApiOperation::kObserve:
      r.kind = RequestKind::kObserve;
      return r;
    case ApiOperation::kCancelObserve:
      r.kind = RequestKind::kCancelObserve;
      return r;
    case ApiOperation::kDelete:
      r.kind = RequestKind::kDelete;
      return r;
    case ApiOperation::kExecute:
      r.kind = RequestKind::kExecute;
      r.parameters = body;
      return r;
    case ApiOperation::kWriteAttributes: {
      r.kind = RequestKind::kWriteAttributes;
      for (const auto& [name, value] : route.query) {
        if (name == "pmin" || name == "pmax") {
          auto v = parse_integer(name, value);
          if (!v) return v.error();
          (name == "pmin" ? r.attributes.pmin : r.attributes.pmax) = *v;
        } else if (name == "gt" || name == "lt" || name == "st") {
          auto v = parse_number(name, value);
          if (!v) return v.error();
          (name == "gt" ? r.attributes.gt : name == "lt" ? r.attributes.lt : r.attributes.st) = *v;
        } else if (name != "timeout" && name != "format") {
          return invalid("unknown attribute \"" + name + "\" (pmin, pmax, gt, lt, st)");
        }
      }
      if (r.attributes.empty()) return invalid("no attribute given (pmin, pmax, gt, lt, st)");
      return r;
    }
    case ApiOperation::kReadComposite:
    case ApiOperation::kObserveComposite:
    case ApiOperation::kCancelObserveComposite:
    case ApiOperation::kWriteComposite:
      return make_composite_request(route, body, std::move(r));
    case ApiOperation::kWrite:
    case ApiOperation::kCreate:
      break;
    default:
      return invalid(std::string("not a device request: ") + to_string(route.op));
  }
  // Write and create carry a node.
  r.kind = route.op == ApiOperation::kWrite ? RequestKind::kWrite : RequestKind::kCreate;
  if (const std::string* replace = route.param("replace")) r.replace = *replace != "false";
  lwm2m::Path node_path = route.path;
  if (!is_json(content_type)) {
    if (r.kind != RequestKind::kWrite || !route.path.is_resource())
      return invalid("a text/plain body writes a single resource: use JSON for " +
                     route.path.to_string());
    auto value = text_value(body, models_.find_resource(route.path));
    if (!value) return value.error();
    json::value node = bus::single_value_node(route.path, std::move(*value));
    auto checked = bus::node_from_json(node, route.path, models_);
    if (!checked) return invalid(checked.error().message);
    r.node = bus::node_to_json(*checked);
    return r;
  }
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return invalid("body is not JSON: " + ec.message());
  if (r.kind == RequestKind::kCreate) {
    // Created instances are described under their object: /o/i.
    json::object* o = parsed.if_object();
    if (!o) return invalid("create needs an object instance as a JSON object");
    if (route.path.is_object_instance()) {
      if (const json::value* id = o->if_contains("id");
          id && !(id->is_number() && id->to_number<int64_t>() == route.path.instance_id()))
        return invalid("the body's \"id\" does not match the path");
      (*o)["id"] = route.path.instance_id();
      r.path = route.path.parent();
    }
    const json::value* id = o->if_contains("id");
    if (!id || !id->is_number())
      return invalid("create needs an instance id, in the path or the body's \"id\"");
    boost::system::error_code ec2;
    const int64_t instance = id->to_number<int64_t>(ec2);
    if (ec2 || instance < 0 || instance > lwm2m::Path::kMaxId)
      return invalid("instance \"id\" is not an id in 0..65534");
    node_path = r.path.child(static_cast<uint16_t>(instance));
  }
  auto node = node_from_json(parsed, node_path, models_);
  if (!node) return invalid(node.error().message);
  r.node = bus::node_to_json(*node);
  return r;
}

Result<bus::Request> RestApi::make_composite_request(const ApiRoute& route, const std::string& body,
                                                     bus::Request r) const {
  if (r.content_format && !lwm2m::carries_composite(*r.content_format))
    return invalid(std::string("composite operations travel in SENML_JSON or SENML_CBOR, not ") +
                   lwm2m::to_name(*r.content_format));
  r.path = lwm2m::Path();
  r.paths = route.paths;
  switch (route.op) {
    case ApiOperation::kReadComposite:
      r.kind = RequestKind::kReadComposite;
      return r;
    case ApiOperation::kObserveComposite:
      r.kind = RequestKind::kObserveComposite;
      return r;
    case ApiOperation::kCancelObserveComposite:
      r.kind = RequestKind::kCancelObserveComposite;
      return r;
    default:
      break;
  }
  // Write-Composite: {"/3/0/15":<node>,...}, a node of Leshan's shape or a
  // plain value for a resource.
  r.kind = RequestKind::kWriteComposite;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return invalid("body is not JSON: " + ec.message());
  const json::object* given = parsed.if_object();
  if (given == nullptr || given->empty())
    return invalid("a composite write needs a JSON object of path -> node");
  json::object nodes;
  for (const auto& kv : *given) {
    auto path = lwm2m::Path::parse(kv.key());
    if (!path || path->is_root())
      return invalid("\"" + std::string(kv.key()) + "\" is not an LwM2M path of a node");
    const std::string key = path->to_string();
    if (nodes.contains(key)) return invalid(key + " is given twice");
    Result<lwm2m::Node> node = make_error(ErrorKind::kInvalidArgument, "");
    if (kv.value().is_object()) {
      node = node_from_json(kv.value(), *path, models_);
    } else if (path->depth() >= 3) {
      node = bus::node_from_json(bus::single_value_node(*path, kv.value()), *path, models_);
    } else {
      return invalid(key + ": a plain value needs a resource path");
    }
    if (!node) return invalid(key + ": " + node.error().message);
    nodes[key] = bus::node_to_json(*node);
  }
  r.node = json::value(std::move(nodes));
  return r;
}

void RestApi::send(bus::Request request, std::chrono::milliseconds timeout, Done done) {
  const RequestKind kind = request.kind;
  const lwm2m::Path path = request.path;
  const auto sent = std::chrono::steady_clock::now();
  auto timed = [done = std::move(done), sent](ApiAnswer a) {
    a.bus_time = std::chrono::steady_clock::now() - sent;
    done(std::move(a));
  };
  bus_.send(std::move(request), timeout,
            lifetime_.guard(
                [this, done = std::move(timed), kind, path](Result<BusReply> reply, bool final) {
                  if (!final) return;  // the ack
                  if (!reply) return done(no_reply(reply.error(), "Request timeout: "));
                  const bool cancel = kind == RequestKind::kCancelObserve ||
                                      kind == RequestKind::kCancelObserveComposite;
                  if (reply->type == bus::ReplyType::kErr) {
                    const std::string message = err_message(*reply, "error");
                    if (cancel && message.find("no observation") != std::string::npos)
                      return done(text(404, message));
                    return done(text(is_device_timeout(message) ? 504 : 500, message));
                  }
                  if (cancel) {
                    json::object o = reply->body;
                    o["status"] = "CANCELLED";
                    o["success"] = true;
                    o["failure"] = false;
                    o["valid"] = true;
                    return done(json_answer(o));
                  }
                  if (bus::is_composite(kind)) {
                    auto composite = bus::composite_response_from_json(reply->body, models_);
                    if (!composite)
                      return done(text(500, "unreadable reply: " + composite.error().message));
                    return done(json_answer(composite_response_json(*composite)));
                  }
                  auto response = bus::device_response_from_json(reply->body, path, models_);
                  if (!response)
                    return done(text(500, "unreadable reply: " + response.error().message));
                  done(json_answer(response_json(*response)));
                }));
}

void RestApi::list_security(Done done) {
  security_.list(lifetime_.guard([done](Result<std::vector<store::SecurityInfo>> r) {
    if (!r) return done(text(503, "security store unavailable: " + r.error().message));
    std::sort(r->begin(), r->end(), [](auto& a, auto& b) { return a.endpoint < b.endpoint; });
    json::array all;
    for (const auto& info : *r)
      all.push_back(json::object{
          {"endpoint", info.endpoint},
          {"tls", json::object{{"mode", "psk"},
                               {"details",
                                json::object{{"identity", info.identity}, {"key", kMaskedKey}}}}}});
    done(json_answer(all));
  }));
}

void RestApi::put_security(const std::string& body, Done done) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return done(text(400, "body is not JSON: " + ec.message()));
  // Leshan 2.x: {"endpoint","tls":{"mode":"psk","details":{"identity","key"}}};
  // 1.x: {"endpoint","psk":{"identity","key"}}.
  const json::object* o = parsed.if_object();
  const json::value* ep = o ? o->if_contains("endpoint") : nullptr;
  const json::object* psk = nullptr;
  if (o) {
    if (const json::value* tls = o->if_contains("tls"); tls && tls->is_object()) {
      const json::value* mode = tls->get_object().if_contains("mode");
      if (!mode || !mode->is_string() || mode->get_string() != "psk")
        return done(text(400, "only \"tls\":{\"mode\":\"psk\"} is supported"));
      if (const json::value* d = tls->get_object().if_contains("details")) psk = d->if_object();
    } else if (const json::value* p = o->if_contains("psk")) {
      psk = p->if_object();
    }
  }
  const json::value* identity = psk ? psk->if_contains("identity") : nullptr;
  const json::value* key = psk ? psk->if_contains("key") : nullptr;
  if (!ep || !ep->is_string() || ep->get_string().empty() || !identity || !identity->is_string() ||
      identity->get_string().empty() || !key || !key->is_string())
    return done(text(400,
                     "expected {\"endpoint\",\"tls\":{\"mode\":\"psk\",\"details\":"
                     "{\"identity\",\"key\":\"<hex>\"}}}"));
  auto raw = from_hex(key->get_string());
  if (!raw || raw->empty()) return done(text(400, "key must be non-empty hex"));
  bus::Request r;
  r.kind = RequestKind::kSecInfo;
  r.sec_action = bus::SecInfoAction::kAdd;
  r.endpoint = std::string(ep->get_string());
  r.identity = std::string(identity->get_string());
  r.key_hex = std::string(key->get_string());
  bus_.send(std::move(r), options_.default_timeout,
            lifetime_.guard([done](Result<BusReply> reply, bool final) {
              if (!final) return;
              if (!reply) return done(no_reply(reply.error()));
              if (reply->type == bus::ReplyType::kErr)
                return done(text(400, err_message(*reply, "rejected")));
              done(text(200, ""));
            }));
}

void RestApi::delete_security(const std::string& endpoint, Done done) {
  bus::Request r;
  r.kind = RequestKind::kSecInfo;
  r.sec_action = bus::SecInfoAction::kDelete;
  r.endpoint = endpoint;
  bus_.send(std::move(r), options_.default_timeout,
            lifetime_.guard([done](Result<BusReply> reply, bool final) {
              if (!final) return;
              if (!reply) return done(no_reply(reply.error()));
              if (reply->type == bus::ReplyType::kErr) {
                const std::string message = err_message(*reply, "");
                return done(text(message.find("no security info") != std::string::npos ? 404 : 500,
                                 message));
              }
              done(text(200, ""));
            }));
}

std::string RestApi::object_specs() const {
  // Leshan's ObjectModel JSON: what the web UI labels the resource tree with.
  json::array all;
  for (uint16_t id : models_.object_ids()) {
    const lwm2m::ObjectModel& m = *models_.find(id);
    json::array resources;
    for (const auto& r : m.resources) {
      std::string ops;
      if (r.readable()) ops += 'R';
      if (r.writable()) ops += 'W';
      if (r.executable()) ops += 'E';
      resources.push_back(json::object{{"id", r.id},
                                       {"name", r.name},
                                       {"operations", ops.empty() ? "NONE" : ops},
                                       {"instancetype", r.multiple ? "multiple" : "single"},
                                       {"mandatory", r.mandatory},
                                       {"type", bus::leshan_type_name(r.type)},
                                       {"range", r.range},
                                       {"units", r.units},
                                       {"description", r.description}});
    }
    all.push_back(json::object{{"name", m.name},
                               {"id", m.id},
                               {"instancetype", m.multiple ? "multiple" : "single"},
                               {"mandatory", m.mandatory},
                               {"description", m.description},
                               {"version", m.version},
                               {"lwm2mversion", m.lwm2m_version},
                               {"resourcedefs", std::move(resources)}});
  }
  return json::serialize(all);
}

}  // namespace fogm2m::gateway
