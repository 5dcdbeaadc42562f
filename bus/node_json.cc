#include "bus/node_json.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "bus/json_text.h"
#include "lwm2m/hex.h"

namespace fogm2m::bus {

namespace json = boost::json;
using namespace fogm2m::lwm2m;

namespace {

struct TypeName {
  ResourceType type;
  const char* name;
};
constexpr TypeName kTypes[] = {
    {ResourceType::kNone, "NONE"},       {ResourceType::kString, "STRING"},
    {ResourceType::kInteger, "INTEGER"}, {ResourceType::kUnsignedInteger, "UNSIGNED_INTEGER"},
    {ResourceType::kFloat, "FLOAT"},     {ResourceType::kBoolean, "BOOLEAN"},
    {ResourceType::kOpaque, "OPAQUE"},   {ResourceType::kTime, "TIME"},
    {ResourceType::kObjlnk, "OBJLNK"},   {ResourceType::kCorelnk, "CORELINK"},
};

Error bad(const std::string& where, const std::string& why) {
  return make_error(ErrorKind::kMalformed, "node JSON: " + where + ": " + why);
}

// The type a JSON value suggests when nothing else says.
ResourceType guess_type(const json::value& v) {
  if (v.is_bool()) return ResourceType::kBoolean;
  if (v.is_int64()) return ResourceType::kInteger;
  if (v.is_uint64()) return ResourceType::kUnsignedInteger;
  if (v.is_double()) return ResourceType::kFloat;
  return ResourceType::kString;
}

Result<uint16_t> read_id(const json::object& o, const std::string& where) {
  const json::value* id = o.if_contains("id");
  if (!id) return bad(where, "missing \"id\"");
  boost::system::error_code ec;
  const int64_t n = id->is_number() ? id->to_number<int64_t>(ec) : -1;
  if (ec || n < 0 || n > Path::kMaxId) return bad(where, "\"id\" is not an id in 0..65534");
  return static_cast<uint16_t>(n);
}

Result<ResourceType> resource_type(const json::object& o, const Path& path,
                                   const ModelRegistry& models, const json::value& sample,
                                   const std::string& where) {
  if (const json::value* t = o.if_contains("type")) {
    ResourceType type;
    if (!t->is_string() || !parse_leshan_type_name(t->get_string(), &type))
      return bad(where, "unknown \"type\"");
    return type;
  }
  if (const ResourceModel* m = models.find_resource(path); m && m->type != ResourceType::kNone)
    return m->type;
  return guess_type(sample);
}

Result<Resource> resource_from_json(const json::value& v, const Path& instance_path,
                                    const ModelRegistry& models) {
  const json::object* o = v.if_object();
  if (!o) return bad(instance_path.to_string(), "resource is not an object");
  auto id = read_id(*o, instance_path.to_string());
  if (!id) return id.error();
  const Path path = instance_path.child(*id);
  const std::string where = path.to_string();
  if (const json::value* values = o->if_contains("values")) {
    const json::object* vo = values->if_object();
    if (!vo) return bad(where, "\"values\" is not an object");
    Resource r = Resource::multi(*id, {});
    for (const auto& kv : *vo) {
      uint16_t ri = 0;
      const std::string_view key = kv.key();
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), ri);
      if (ec != std::errc() || end != key.data() + key.size() || ri > Path::kMaxId)
        return bad(where, "resource instance id \"" + std::string(key) + "\" is not a number");
      auto type = resource_type(*o, path, models, kv.value(), where);
      if (!type) return type.error();
      auto value = value_from_json(kv.value(), *type);
      if (!value) return bad(where + "/" + std::string(key), value.error().message);
      r.instances.push_back({ri, std::move(*value)});
    }
    std::sort(r.instances.begin(), r.instances.end(), [](auto& a, auto& b) { return a.id < b.id; });
    return r;
  }
  const json::value* value = o->if_contains("value");
  if (!value) return bad(where, "needs \"value\" or \"values\"");
  auto type = resource_type(*o, path, models, *value, where);
  if (!type) return type.error();
  auto parsed = value_from_json(*value, *type);
  if (!parsed) return bad(where, parsed.error().message);
  return Resource::single(*id, std::move(*parsed));
}

Result<ObjectInstance> instance_from_json(const json::value& v, const Path& object_path,
                                          const ModelRegistry& models) {
  const json::object* o = v.if_object();
  if (!o) return bad(object_path.to_string(), "object instance is not an object");
  auto id = read_id(*o, object_path.to_string());
  if (!id) return id.error();
  const Path path = object_path.child(*id);
  ObjectInstance oi{*id, {}};
  const json::value* resources = o->if_contains("resources");
  if (!resources || !resources->is_array())
    return bad(path.to_string(), "\"resources\" must be an array");
  for (const auto& rv : resources->get_array()) {
    auto r = resource_from_json(rv, path, models);
    if (!r) return r.error();
    oi.resources.push_back(std::move(*r));
  }
  std::sort(oi.resources.begin(), oi.resources.end(), [](auto& a, auto& b) { return a.id < b.id; });
  return oi;
}

}  // namespace

const char* leshan_type_name(ResourceType type) {
  for (const auto& t : kTypes)
    if (t.type == type) return t.name;
  return "NONE";
}

bool parse_leshan_type_name(std::string_view name, ResourceType* out) {
  for (const auto& t : kTypes)
    if (name == t.name) {
      *out = t.type;
      return true;
    }
  return parse_resource_type(name, out);  // also "Integer", "Unsigned Integer", ...
}

json::value value_to_json(const Value& value) {
  struct Visitor {
    json::value operator()(std::monostate) const { return nullptr; }
    json::value operator()(const std::string& s) const { return json::string(s); }
    json::value operator()(int64_t v) const { return v; }
    json::value operator()(uint64_t v) const { return v; }
    json::value operator()(double v) const {
      return std::isfinite(v) ? json::value(v) : json::value(nullptr);
    }
    json::value operator()(bool v) const { return v; }
    json::value operator()(const Opaque& o) const {
      return json::string(
          to_hex(std::string_view(reinterpret_cast<const char*>(o.data()), o.size())));
    }
    json::value operator()(Time t) const { return t.seconds; }
    json::value operator()(ObjectLink l) const {
      return json::string(std::to_string(l.object_id) + ":" + std::to_string(l.instance_id));
    }
    json::value operator()(const CoreLink& l) const { return json::string(l.text); }
  };
  return std::visit(Visitor{}, value.storage());
}

json::value node_to_json(const Node& node) {
  struct Visitor {
    json::value resource(const Resource& r) const {
      json::object o{{"id", r.id}};
      if (!r.multiple) {
        o["type"] = leshan_type_name(r.value.type());
        o["value"] = value_to_json(r.value);
        return o;
      }
      json::object values;
      ResourceType type = ResourceType::kNone;
      for (const auto& ri : r.instances) {
        values[std::to_string(ri.id)] = value_to_json(ri.value);
        type = ri.value.type();
      }
      o["type"] = leshan_type_name(type);
      o["values"] = std::move(values);
      return o;
    }
    json::value instance(const ObjectInstance& oi) const {
      json::array resources;
      for (const auto& r : oi.resources) resources.push_back(resource(r));
      return json::object{{"id", oi.id}, {"resources", std::move(resources)}};
    }
    json::value operator()(const Object& o) const {
      json::array instances;
      for (const auto& oi : o.instances) instances.push_back(instance(oi));
      return json::object{{"id", o.id}, {"instances", std::move(instances)}};
    }
    json::value operator()(const ObjectInstance& oi) const { return instance(oi); }
    json::value operator()(const Resource& r) const { return resource(r); }
    json::value operator()(const ResourceInstance& ri) const {
      return json::object{{"id", ri.id},
                          {"type", leshan_type_name(ri.value.type())},
                          {"value", value_to_json(ri.value)}};
    }
  };
  return std::visit(Visitor{}, node);
}

namespace {

void append_value_json(std::string& out, const Value& value) {
  struct Visitor {
    std::string& out;
    void operator()(std::monostate) const { out += "null"; }
    void operator()(const std::string& s) const { append_json_string(out, s); }
    void operator()(int64_t v) const { append_json_number(out, v); }
    void operator()(uint64_t v) const { append_json_number(out, v); }
    void operator()(double v) const { append_json_number(out, v); }
    void operator()(bool v) const { out += v ? "true" : "false"; }
    void operator()(const Opaque& o) const {
      append_json_string(
          out, to_hex(std::string_view(reinterpret_cast<const char*>(o.data()), o.size())));
    }
    void operator()(Time t) const { append_json_number(out, t.seconds); }
    void operator()(ObjectLink l) const {
      out += '"';
      append_json_number(out, int64_t{l.object_id});
      out += ':';
      append_json_number(out, int64_t{l.instance_id});
      out += '"';
    }
    void operator()(const CoreLink& l) const { append_json_string(out, l.text); }
  };
  std::visit(Visitor{out}, value.storage());
}

// {"id":..,"type":..,"value":..}: a single resource or a resource instance.
void append_single_json(std::string& out, uint16_t id, const Value& value) {
  out += "{\"id\":";
  append_json_number(out, int64_t{id});
  out += ",\"type\":\"";
  out += leshan_type_name(value.type());
  out += "\",\"value\":";
  append_value_json(out, value);
  out += '}';
}

void append_resource_json(std::string& out, const Resource& r) {
  if (!r.multiple) return append_single_json(out, r.id, r.value);
  out += "{\"id\":";
  append_json_number(out, int64_t{r.id});
  out += ",\"type\":\"";
  out +=
      leshan_type_name(r.instances.empty() ? ResourceType::kNone : r.instances.back().value.type());
  out += "\",\"values\":{";
  // As the DOM's object keys: one member per id, at its first position,
  // holding the value of its last occurrence. Instances are sorted and
  // unique in practice; a list that is not is handled the slow way.
  const bool unique = std::adjacent_find(r.instances.begin(), r.instances.end(),
                                         [](const ResourceInstance& a, const ResourceInstance& b) {
                                           return a.id >= b.id;
                                         }) == r.instances.end();
  bool first = true;
  for (size_t i = 0; i < r.instances.size(); ++i) {
    const uint16_t id = r.instances[i].id;
    const Value* value = &r.instances[i].value;
    if (!unique) {
      bool seen_before = false;
      for (size_t j = 0; j < i && !seen_before; ++j) seen_before = r.instances[j].id == id;
      if (seen_before) continue;
      for (size_t j = i + 1; j < r.instances.size(); ++j)
        if (r.instances[j].id == id) value = &r.instances[j].value;
    }
    if (!first) out += ',';
    first = false;
    out += '"';
    append_json_number(out, int64_t{id});
    out += "\":";
    append_value_json(out, *value);
  }
  out += "}}";
}

void append_instance_json(std::string& out, const ObjectInstance& oi) {
  out += "{\"id\":";
  append_json_number(out, int64_t{oi.id});
  out += ",\"resources\":[";
  for (size_t i = 0; i < oi.resources.size(); ++i) {
    if (i > 0) out += ',';
    append_resource_json(out, oi.resources[i]);
  }
  out += "]}";
}

}  // namespace

void append_node_json(std::string& out, const Node& node) {
  struct Visitor {
    std::string& out;
    void operator()(const Object& o) const {
      out += "{\"id\":";
      append_json_number(out, int64_t{o.id});
      out += ",\"instances\":[";
      for (size_t i = 0; i < o.instances.size(); ++i) {
        if (i > 0) out += ',';
        append_instance_json(out, o.instances[i]);
      }
      out += "]}";
    }
    void operator()(const ObjectInstance& oi) const { append_instance_json(out, oi); }
    void operator()(const Resource& r) const { append_resource_json(out, r); }
    void operator()(const ResourceInstance& ri) const { append_single_json(out, ri.id, ri.value); }
  };
  std::visit(Visitor{out}, node);
}

Result<Value> value_from_json(const json::value& v, ResourceType type) {
  auto mismatch = [&](const char* want) {
    return make_error(ErrorKind::kTypeMismatch,
                      std::string("expected ") + want + ", got " + json::serialize(v));
  };
  switch (type) {
    case ResourceType::kNone:
      return Value{};
    case ResourceType::kString:
      if (!v.is_string()) return mismatch("a string");
      return Value(std::string(v.get_string()));
    case ResourceType::kCorelnk:
      if (!v.is_string()) return mismatch("a link-format string");
      return Value(CoreLink{std::string(v.get_string())});
    case ResourceType::kInteger:
      if (v.is_int64()) return Value(v.get_int64());
      if (v.is_uint64() && v.get_uint64() <= INT64_MAX)
        return Value(static_cast<int64_t>(v.get_uint64()));
      return mismatch("an integer");
    case ResourceType::kUnsignedInteger:
      if (v.is_uint64()) return Value(v.get_uint64());
      if (v.is_int64() && v.get_int64() >= 0) return Value(static_cast<uint64_t>(v.get_int64()));
      return mismatch("an unsigned integer");
    case ResourceType::kFloat:
      // A number too large for a double reads as infinity, which no
      // content format can carry.
      if (v.is_number() && std::isfinite(v.to_number<double>()))
        return Value(v.to_number<double>());
      return mismatch("a finite number");
    case ResourceType::kBoolean:
      if (!v.is_bool()) return mismatch("true or false");
      return Value(v.get_bool());
    case ResourceType::kTime:
      if (v.is_int64()) return Value(Time{v.get_int64()});
      return mismatch("Unix seconds");
    case ResourceType::kOpaque: {
      if (!v.is_string()) return mismatch("hex");
      auto raw = from_hex(v.get_string());
      if (!raw) return mismatch("hex");
      return Value(Opaque(raw->begin(), raw->end()));
    }
    case ResourceType::kObjlnk: {
      if (!v.is_string()) return mismatch("\"object:instance\"");
      const std::string_view s = v.get_string();
      const size_t colon = s.find(':');
      uint16_t a = 0, b = 0;
      if (colon == std::string_view::npos) return mismatch("\"object:instance\"");
      auto r1 = std::from_chars(s.data(), s.data() + colon, a);
      auto r2 = std::from_chars(s.data() + colon + 1, s.data() + s.size(), b);
      if (r1.ec != std::errc() || r1.ptr != s.data() + colon || r2.ec != std::errc() ||
          r2.ptr != s.data() + s.size())
        return mismatch("\"object:instance\"");
      return Value(ObjectLink{a, b});
    }
  }
  return mismatch("a value");
}

Result<Node> node_from_json(const json::value& v, const Path& path, const ModelRegistry& models) {
  switch (path.depth()) {
    case 1: {
      const json::object* o = v.if_object();
      if (!o) return bad(path.to_string(), "object is not a JSON object");
      const json::value* instances = o->if_contains("instances");
      if (!instances || !instances->is_array())
        return bad(path.to_string(), "\"instances\" must be an array");
      Object obj{path.object_id(), {}};
      for (const auto& iv : instances->get_array()) {
        auto oi = instance_from_json(iv, path, models);
        if (!oi) return oi.error();
        obj.instances.push_back(std::move(*oi));
      }
      return Node(std::move(obj));
    }
    case 2: {
      auto oi = instance_from_json(v, path.parent(), models);
      if (!oi) return oi.error();
      if (oi->id != path.instance_id())
        return bad(path.to_string(), "\"id\" does not match the path");
      return Node(std::move(*oi));
    }
    case 3: {
      auto r = resource_from_json(v, path.parent(), models);
      if (!r) return r.error();
      if (r->id != path.resource_id())
        return bad(path.to_string(), "\"id\" does not match the path");
      return Node(std::move(*r));
    }
    case 4: {
      const json::object* o = v.if_object();
      const json::value* value = o ? o->if_contains("value") : nullptr;
      if (!value) return bad(path.to_string(), "needs {\"id\",\"value\"}");
      auto type = resource_type(*o, path, models, *value, path.to_string());
      if (!type) return type.error();
      auto parsed = value_from_json(*value, *type);
      if (!parsed) return bad(path.to_string(), parsed.error().message);
      return Node(ResourceInstance{path.resource_instance_id(), std::move(*parsed)});
    }
  }
  return bad("/", "the root holds no node");
}

}  // namespace fogm2m::bus
