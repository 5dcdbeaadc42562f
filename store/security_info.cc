#include "store/security_info.h"

#include <boost/json.hpp>

#include "lwm2m/hex.h"

namespace fogm2m::store {

namespace json = boost::json;

std::string to_record_json(const SecurityInfo& info) {
  return json::serialize(
      json::object{{"ep", info.endpoint}, {"identity", info.identity}, {"key", to_hex(info.key)}});
}

Result<SecurityInfo> security_info_from_record_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (!o) return make_error(ErrorKind::kMalformed, "security record: not a JSON object");
  const json::value* ep = o->if_contains("ep");
  const json::value* id = o->if_contains("identity");
  const json::value* key = o->if_contains("key");
  if (!ep || !ep->is_string() || !id || !id->is_string() || !key || !key->is_string())
    return make_error(ErrorKind::kMalformed,
                      "security record: ep, identity and key must be strings");
  auto raw = from_hex(key->get_string());
  if (!raw)
    return make_error(ErrorKind::kMalformed, "security record: key: " + raw.error().message);
  return SecurityInfo{std::string(ep->get_string()), std::string(id->get_string()),
                      std::move(*raw)};
}

std::optional<Error> validate_security_info(const SecurityInfo& info) {
  if (info.endpoint.empty())
    return make_error(ErrorKind::kInvalidArgument, "security info: empty endpoint");
  if (info.identity.empty())
    return make_error(ErrorKind::kInvalidArgument, "security info: empty PSK identity");
  if (info.key.empty())
    return make_error(ErrorKind::kInvalidArgument, "security info: empty PSK key");
  return std::nullopt;
}

json::value to_public_json(const SecurityInfo& info) {
  return json::object{{"ep", info.endpoint}, {"identity", info.identity}};
}

}  // namespace fogm2m::store
