#include "store/registration.h"

#include <boost/json.hpp>
#include <random>

namespace fogm2m::store {

namespace json = boost::json;

void apply_update(Registration& reg, const RegistrationUpdate& u) {
  if (u.lifetime_s) reg.lifetime_s = *u.lifetime_s;
  if (u.binding) reg.binding = *u.binding;
  if (u.sms) reg.sms = *u.sms;
  if (u.peer) reg.peer = *u.peer;
  if (u.object_links) reg.object_links = *u.object_links;
  reg.last_update_ms = u.now_ms;
}

json::array links_to_json(const std::vector<lwm2m::Link>& links) {
  json::array out;
  for (const auto& l : links) {
    json::object at;
    for (const auto& a : l.attributes)
      at[a.name] = a.value ? json::value(*a.value) : json::value(nullptr);
    out.push_back(json::object{{"url", l.uri}, {"at", std::move(at)}});
  }
  return out;
}

Result<std::vector<lwm2m::Link>> links_from_json(const json::value& value) {
  auto bad = [](std::string_view why) {
    return make_error(ErrorKind::kMalformed, std::string(why));
  };
  const json::array* arr = value.if_array();
  if (!arr) return bad("is not an array");
  std::vector<lwm2m::Link> links;
  for (const json::value& lv : *arr) {
    const json::object* lo = lv.if_object();
    if (!lo) return bad("holds a non-object");
    lwm2m::Link link;
    if (const json::value* url = lo->if_contains("url")) {
      if (!url->is_string()) return bad("has a \"url\" that is not a string");
      link.uri = std::string(url->get_string());
    }
    if (const json::value* at = lo->if_contains("at")) {
      const json::object* ao = at->if_object();
      if (!ao) return bad("has an \"at\" that is not an object");
      for (const auto& kv : *ao) {
        lwm2m::LinkAttribute a{std::string(kv.key()), std::nullopt};
        if (kv.value().is_string())
          a.value = std::string(kv.value().get_string());
        else if (kv.value().is_number())
          a.value = json::serialize(kv.value());
        else if (!kv.value().is_null())
          return bad("holds an attribute value that is not a string");
        link.attributes.push_back(std::move(a));
      }
    }
    links.push_back(std::move(link));
  }
  return links;
}

json::value to_json(const Registration& reg) {
  json::array links = links_to_json(reg.object_links);
  json::object add;
  for (const auto& [k, v] : reg.additional_attributes) add[k] = v;
  json::object o{
      {"regDate", reg.registration_date_ms},
      {"identity", json::object{{"address", reg.peer.address}, {"port", reg.peer.port}}},
      {"regAddr", reg.peer.address},
      {"regPort", reg.peer.port},
      {"lt", reg.lifetime_s},
      {"ver", reg.lwm2m_version},
      {"bnd", reg.binding},
      {"ep", reg.endpoint},
      {"regId", reg.reg_id},
      {"objLink", std::move(links)},
      {"addAttr", std::move(add)},
      {"root", reg.root_path},
      {"lastUp", reg.last_update_ms},
  };
  if (!reg.sms.empty()) o["sms"] = reg.sms;
  if (reg.queue_mode) o["queue"] = true;
  if (reg.secure) o["secure"] = true;
  if (!reg.psk_identity.empty()) o["pskId"] = reg.psk_identity;
  if (!reg.owner.empty()) o["owner"] = reg.owner;
  return o;
}

std::string to_json_string(const Registration& reg) {
  return json::serialize(to_json(reg));
}

namespace {

Error field_error(std::string_view field, std::string_view why) {
  return make_error(ErrorKind::kMalformed, "registration record: field \"" + std::string(field) +
                                               "\" " + std::string(why));
}

// Reads an optional string field; false when present with another type.
bool read_string(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) return false;
  out = std::string(v->get_string());
  return true;
}

bool read_int(const json::object& o, std::string_view key, int64_t& out) {
  const json::value* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_int64())
    out = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= INT64_MAX)
    out = static_cast<int64_t>(v->get_uint64());
  else
    return false;
  return true;
}

}  // namespace

Result<Registration> registration_from_json(const json::value& value) {
  const json::object* o = value.if_object();
  if (!o) return make_error(ErrorKind::kMalformed, "registration record: not a JSON object");
  Registration reg;
  for (const char* key : {"ep", "regId", "ver", "bnd", "root", "sms", "pskId", "owner"}) {
    std::string* out = nullptr;
    const std::string_view k(key);
    if (k == "ep")
      out = &reg.endpoint;
    else if (k == "regId")
      out = &reg.reg_id;
    else if (k == "ver")
      out = &reg.lwm2m_version;
    else if (k == "bnd")
      out = &reg.binding;
    else if (k == "root")
      out = &reg.root_path;
    else if (k == "sms")
      out = &reg.sms;
    else if (k == "pskId")
      out = &reg.psk_identity;
    else
      out = &reg.owner;
    if (!read_string(*o, k, *out)) return field_error(k, "is not a string");
  }
  if (reg.endpoint.empty()) return field_error("ep", "is missing");
  if (reg.reg_id.empty()) return field_error("regId", "is missing");
  if (!read_int(*o, "lt", reg.lifetime_s)) return field_error("lt", "is not an integer");
  if (!read_int(*o, "regDate", reg.registration_date_ms))
    return field_error("regDate", "is not an integer");
  if (!read_int(*o, "lastUp", reg.last_update_ms))
    return field_error("lastUp", "is not an integer");
  if (const auto* q = o->if_contains("queue"); q && q->is_bool()) reg.queue_mode = q->get_bool();
  if (const auto* s = o->if_contains("secure"); s && s->is_bool()) reg.secure = s->get_bool();

  if (const json::value* id = o->if_contains("identity")) {
    const json::object* io = id->if_object();
    if (!io) return field_error("identity", "is not an object");
    int64_t port = 0;
    if (!read_string(*io, "address", reg.peer.address))
      return field_error("identity.address", "is not a string");
    if (!read_int(*io, "port", port) || port < 0 || port > 65535)
      return field_error("identity.port", "is not a port number");
    reg.peer.port = static_cast<uint16_t>(port);
  } else {
    int64_t port = 0;
    if (!read_string(*o, "regAddr", reg.peer.address))
      return field_error("regAddr", "is not a string");
    if (!read_int(*o, "regPort", port) || port < 0 || port > 65535)
      return field_error("regPort", "is not a port number");
    reg.peer.port = static_cast<uint16_t>(port);
  }

  if (const json::value* links = o->if_contains("objLink")) {
    auto parsed = links_from_json(*links);
    if (!parsed) return field_error("objLink", parsed.error().message);
    reg.object_links = std::move(*parsed);
  }
  if (const json::value* add = o->if_contains("addAttr")) {
    const json::object* ao = add->if_object();
    if (!ao) return field_error("addAttr", "is not an object");
    for (const auto& kv : *ao)
      if (kv.value().is_string())
        reg.additional_attributes[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return reg;
}

Result<Registration> registration_from_json_string(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec)
    return make_error(ErrorKind::kMalformed, "registration record: invalid JSON: " + ec.message());
  return registration_from_json(v);
}

std::string new_registration_id() {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(10, ' ');
  for (char& c : id) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

}  // namespace fogm2m::store
