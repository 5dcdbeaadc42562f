#include "bus/registration_event.h"

#include <boost/json.hpp>

namespace fogm2m::bus {

namespace json = boost::json;

std::string format_registration_event(RegistrationEventKind kind, const store::Registration& reg) {
  if (kind != RegistrationEventKind::kUpdate) return store::to_json_string(reg);
  const json::object event{
      {"regUpdate",
       json::object{{"regId", reg.reg_id}, {"lt", reg.lifetime_s}, {"bnd", reg.binding}}},
      {"registration", store::to_json(reg)}};
  return json::serialize(event);
}

Result<store::Registration> parse_registration_event(RegistrationEventKind kind,
                                                     std::string_view message) {
  boost::system::error_code ec;
  const json::value v = json::parse(message, ec);
  if (ec)
    return make_error(ErrorKind::kMalformed, "registration event: invalid JSON: " + ec.message());
  if (kind != RegistrationEventKind::kUpdate) return store::registration_from_json(v);
  const json::object* o = v.if_object();
  const json::value* record = o != nullptr ? o->if_contains("registration") : nullptr;
  if (record == nullptr)
    return make_error(ErrorKind::kMalformed, "registration update event: no \"registration\"");
  return store::registration_from_json(*record);
}

}  // namespace fogm2m::bus
