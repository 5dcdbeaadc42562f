#include "store/observation.h"

#include <boost/json.hpp>

#include "lwm2m/hex.h"

namespace fogm2m::store {

namespace json = boost::json;

std::string token_to_hex(std::string_view token) {
  return to_hex(token);
}

Result<std::string> token_from_hex(std::string_view hex) {
  if (hex.size() > 16)
    return make_error(ErrorKind::kMalformed,
                      "token \"" + std::string(hex) + "\": longer than 8 bytes");
  auto raw = from_hex(hex);
  if (!raw)
    return make_error(ErrorKind::kMalformed,
                      "token \"" + std::string(hex) + "\": " + raw.error().message);
  return raw;
}

json::value to_json(const Observation& obs) {
  json::object o{{"tkn", obs.token_hex},
                 {"ep", obs.endpoint},
                 {"regId", obs.reg_id},
                 {"path", obs.path.to_string()},
                 {"ct", static_cast<int>(obs.content_format)},
                 {"ticket", obs.ticket},
                 {"created", obs.created_ms}};
  if (obs.composite()) {
    json::array paths;
    for (const lwm2m::Path& p : obs.paths) paths.push_back(json::value(p.to_string()));
    o["paths"] = std::move(paths);
  }
  return o;
}

std::string to_json_string(const Observation& obs) {
  return json::serialize(to_json(obs));
}

Result<Observation> observation_from_json_string(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) return make_error(ErrorKind::kMalformed, "observation record: not a JSON object");
  auto str = [&](const char* key, std::string& out) {
    const json::value* f = o->if_contains(key);
    if (!f || !f->is_string()) return false;
    out = std::string(f->get_string());
    return true;
  };
  Observation obs;
  std::string path;
  if (!str("tkn", obs.token_hex) || !str("ep", obs.endpoint) || !str("path", path))
    return make_error(ErrorKind::kMalformed,
                      "observation record: tkn, ep and path must be strings");
  str("regId", obs.reg_id);
  str("ticket", obs.ticket);
  auto p = lwm2m::Path::parse(path);
  if (!p) return make_error(ErrorKind::kMalformed, "observation record: " + p.error().message);
  obs.path = *p;
  if (const json::value* ct = o->if_contains("ct"); ct && ct->is_int64()) {
    auto f = lwm2m::content_format_from_number(static_cast<uint32_t>(ct->get_int64()));
    if (f) obs.content_format = *f;
  }
  if (const json::value* c = o->if_contains("created"); c && c->is_int64())
    obs.created_ms = c->get_int64();
  if (const json::value* paths = o->if_contains("paths")) {
    const json::array* a = paths->if_array();
    if (a == nullptr)
      return make_error(ErrorKind::kMalformed, "observation record: paths must be an array");
    for (const json::value& item : *a) {
      auto one = item.is_string()
                     ? lwm2m::Path::parse(item.get_string())
                     : Result<lwm2m::Path>(make_error(ErrorKind::kMalformed, "not a string"));
      if (!one || one->is_root())
        return make_error(ErrorKind::kMalformed,
                          "observation record: paths must be LwM2M paths other than /");
      obs.paths.push_back(*one);
    }
  }
  return obs;
}

}  // namespace fogm2m::store
