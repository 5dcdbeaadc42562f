#include "gateway/leshan_json.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "bus/node_json.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/hex.h"

namespace fogm2m::gateway {

namespace json = boost::json;
using lwm2m::Node;
using lwm2m::Path;
using lwm2m::ResourceType;
using lwm2m::Value;

json::array links_json(const std::vector<lwm2m::Link>& links) {
  json::array out;
  out.reserve(links.size());
  for (const auto& link : links) {
    json::object attributes;
    for (const auto& a : link.attributes)
      attributes[a.name] = a.value ? json::value(*a.value) : json::value(nullptr);
    out.push_back(json::object{{"url", link.uri}, {"attributes", std::move(attributes)}});
  }
  return out;
}

namespace {

// {"3":[0],"3313":[0,1]}: the instances the object links announce.
json::object available_instances(const std::vector<lwm2m::Link>& links) {
  std::map<uint16_t, std::set<uint16_t>> found;
  for (const auto& link : links) {
    auto path = Path::parse(link.uri);
    if (path && path->depth() >= 2) found[path->object_id()].insert(path->instance_id());
  }
  json::object out;
  for (const auto& [object, instances] : found) {
    json::array ids;
    for (uint16_t i : instances) ids.push_back(i);
    out[std::to_string(object)] = std::move(ids);
  }
  return out;
}

std::string number_text(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("0");
}

json::value value_json(const Value& value) {
  struct Visitor {
    json::value operator()(std::monostate) const { return nullptr; }
    json::value operator()(const std::string& s) const { return json::string(s); }
    json::value operator()(int64_t v) const { return json::string(std::to_string(v)); }
    json::value operator()(uint64_t v) const { return json::string(std::to_string(v)); }
    json::value operator()(double v) const {
      return std::isfinite(v) ? json::value(number_text(v)) : json::value(nullptr);
    }
    json::value operator()(bool v) const { return v; }
    json::value operator()(const lwm2m::Opaque& o) const {
      return json::string(
          to_hex(std::string_view(reinterpret_cast<const char*>(o.data()), o.size())));
    }
    json::value operator()(lwm2m::Time t) const { return t.seconds * 1000; }
    json::value operator()(lwm2m::ObjectLink l) const {
      return json::object{{"objectId", l.object_id}, {"objectInstanceId", l.instance_id}};
    }
    json::value operator()(const lwm2m::CoreLink& l) const { return json::string(l.text); }
  };
  return std::visit(Visitor{}, value.storage());
}

json::object resource_json(const lwm2m::Resource& r) {
  if (!r.multiple)
    return {{"kind", "singleResource"},
            {"id", r.id},
            {"type", bus::leshan_type_name(r.value.type())},
            {"value", value_json(r.value)}};
  json::object values;
  ResourceType type = ResourceType::kNone;
  for (const auto& ri : r.instances) {
    values[std::to_string(ri.id)] = value_json(ri.value);
    type = ri.value.type();
  }
  return {{"kind", "multiResource"},
          {"id", r.id},
          {"type", bus::leshan_type_name(type)},
          {"values", std::move(values)}};
}

json::object instance_json(const lwm2m::ObjectInstance& oi) {
  json::array resources;
  for (const auto& r : oi.resources) resources.push_back(resource_json(r));
  return {{"kind", "instance"}, {"id", oi.id}, {"resources", std::move(resources)}};
}

// ---- Reading Leshan's node into the bus' node JSON ------------------------

Error bad(const Path& path, const std::string& why) {
  return make_error(ErrorKind::kMalformed, "node JSON: " + path.to_string() + ": " + why);
}

// The type a resource's values have: its "type", else the model's.
std::optional<ResourceType> declared_type(const json::object& o, const Path& path,
                                          const lwm2m::ModelRegistry& models) {
  if (const json::value* t = o.if_contains("type"); t && t->is_string()) {
    ResourceType type;
    if (bus::parse_leshan_type_name(t->get_string(), &type)) return type;
  }
  if (const lwm2m::ResourceModel* m = models.find_resource(path)) return m->type;
  return std::nullopt;
}

// Leshan's spelling of one value -> the bus' (numbers from strings, time
// from milliseconds).
Result<json::value> bus_value(const json::value& v, std::optional<ResourceType> type,
                              const Path& path) {
  if (!type) return v;
  switch (*type) {
    case ResourceType::kInteger:
    case ResourceType::kUnsignedInteger:
    case ResourceType::kFloat: {
      if (!v.is_string()) return v;
      const std::string_view s = v.get_string();
      boost::system::error_code ec;
      json::value n = json::parse(s, ec);
      if (ec || !n.is_number()) return bad(path, "\"" + std::string(s) + "\" is not a number");
      return n;
    }
    case ResourceType::kTime:
      if (v.is_int64()) return json::value(v.get_int64() / 1000);
      if (v.is_uint64()) return json::value(static_cast<int64_t>(v.get_uint64() / 1000));
      return v;
    case ResourceType::kObjlnk:
      if (const json::object* o = v.if_object()) {
        const json::value* a = o->if_contains("objectId");
        const json::value* b = o->if_contains("objectInstanceId");
        if (a && b && a->is_number() && b->is_number())
          return json::value(json::serialize(*a) + ":" + json::serialize(*b));
      }
      return v;
    default:
      return v;
  }
}

Status rewrite_resource(json::object& o, const Path& instance_path,
                        const lwm2m::ModelRegistry& models);

Status rewrite_values(json::object& o, const Path& path, const lwm2m::ModelRegistry& models) {
  const auto type = declared_type(o, path, models);
  if (json::value* value = o.if_contains("value")) {
    auto v = bus_value(*value, type, path);
    if (!v) return v.error();
    *value = std::move(*v);
  }
  if (json::value* values = o.if_contains("values"); values && values->is_object()) {
    for (auto& kv : values->get_object()) {
      auto v = bus_value(kv.value(), type, path);
      if (!v) return v.error();
      kv.value() = std::move(*v);
    }
  }
  return {};
}

std::optional<uint16_t> id_of(const json::object& o) {
  const json::value* id = o.if_contains("id");
  if (!id || !id->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const int64_t n = id->to_number<int64_t>(ec);
  if (ec || n < 0 || n > Path::kMaxId) return std::nullopt;
  return static_cast<uint16_t>(n);
}

Status rewrite_resource(json::object& o, const Path& instance_path,
                        const lwm2m::ModelRegistry& models) {
  auto id = id_of(o);
  if (!id) return {};  // bus::node_from_json names the fault
  return rewrite_values(o, instance_path.child(*id), models);
}

Status rewrite_instance(json::object& o, const Path& object_path,
                        const lwm2m::ModelRegistry& models) {
  auto id = id_of(o);
  json::value* resources = o.if_contains("resources");
  if (!id || !resources || !resources->is_array()) return {};
  for (auto& r : resources->get_array())
    if (json::object* ro = r.if_object())
      if (auto s = rewrite_resource(*ro, object_path.child(*id), models); !s) return s;
  return {};
}

}  // namespace

json::object registration_json(const store::Registration& reg) {
  json::object o;
  o["endpoint"] = reg.endpoint;
  o["registrationId"] = reg.reg_id;
  o["registrationDate"] = reg.registration_date_ms;
  o["lastUpdate"] = reg.last_update_ms;
  o["address"] = reg.peer.to_string();
  if (!reg.sms.empty()) o["smsNumber"] = reg.sms;
  o["lwM2mVersion"] = reg.lwm2m_version;
  o["lifetime"] = reg.lifetime_s;
  o["bindingMode"] = reg.binding;
  o["rootPath"] = reg.root_path;
  o["objectLinks"] = links_json(reg.object_links);
  o["secure"] = reg.secure;
  json::object additional;
  for (const auto& [k, v] : reg.additional_attributes) additional[k] = v;
  o["additionalRegistrationAttributes"] = std::move(additional);
  o["queuemode"] = reg.queue_mode;
  o["availableInstances"] = available_instances(reg.object_links);
  return o;
}

json::value node_json(const Node& node) {
  struct Visitor {
    json::value operator()(const lwm2m::Object& obj) const {
      json::array instances;
      for (const auto& oi : obj.instances) instances.push_back(instance_json(oi));
      return json::object{{"kind", "obj"}, {"id", obj.id}, {"instances", std::move(instances)}};
    }
    json::value operator()(const lwm2m::ObjectInstance& oi) const { return instance_json(oi); }
    json::value operator()(const lwm2m::Resource& r) const { return resource_json(r); }
    json::value operator()(const lwm2m::ResourceInstance& ri) const {
      return json::object{{"kind", "resourceInstance"},
                          {"id", ri.id},
                          {"type", bus::leshan_type_name(ri.value.type())},
                          {"value", value_json(ri.value)}};
    }
  };
  return std::visit(Visitor{}, node);
}

Result<Node> node_from_json(const json::value& body, const Path& path,
                            const lwm2m::ModelRegistry& models) {
  json::value copy = body;
  json::object* o = copy.if_object();
  if (!o) return bad(path, "the body is not a JSON object");
  Status rewritten;
  switch (path.depth()) {
    case 1:
      if (json::value* instances = o->if_contains("instances"); instances && instances->is_array())
        for (auto& i : instances->get_array())
          if (json::object* io = i.if_object(); io && rewritten)
            rewritten = rewrite_instance(*io, path, models);
      break;
    case 2:
      rewritten = rewrite_instance(*o, path.parent(), models);
      break;
    case 3:
      rewritten = rewrite_resource(*o, path.parent(), models);
      break;
    case 4:
      rewritten = rewrite_values(*o, path, models);
      break;
    default:
      return bad(path, "the root holds no node");
  }
  if (!rewritten) return rewritten.error();
  return bus::node_from_json(copy, path, models);
}

std::string status_text(uint8_t coap_code) {
  return lwm2m::coap_code_name(coap_code) + "(" + std::to_string(coap_code) + ")";
}

namespace {

// What every Leshan response starts with: status, valid, success, failure.
json::object response_head(uint8_t coap_code) {
  const bool success = lwm2m::is_success(coap_code);
  return {{"status", status_text(coap_code)},
          {"valid", true},
          {"success", success},
          {"failure", !success}};
}

}  // namespace

json::object response_json(const bus::DeviceResponse& response) {
  const bool success = lwm2m::is_success(response.code);
  json::object o = response_head(response.code);
  if (response.content) o["content"] = node_json(*response.content);
  if (response.links) o["objectLinks"] = links_json(*response.links);
  if (!response.location.empty()) o["location"] = response.location;
  if (!success && !response.error_message.empty()) o["errormessage"] = response.error_message;
  return o;
}

json::object composite_content_json(const std::vector<bus::PathContent>& content) {
  json::object o;
  for (const bus::PathContent& c : content)
    o[c.path.to_string()] = c.node ? node_json(*c.node) : json::value(nullptr);
  return o;
}

json::object composite_response_json(const bus::CompositeResponse& response) {
  const bool success = lwm2m::is_success(response.code);
  json::object o = response_head(response.code);
  if (response.content) o["content"] = composite_content_json(*response.content);
  if (!success && !response.error_message.empty()) o["errormessage"] = response.error_message;
  return o;
}

}  // namespace fogm2m::gateway
