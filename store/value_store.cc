#include "store/value_store.h"

#include <boost/json.hpp>

namespace fogm2m::store {

namespace json = boost::json;

std::string last_value_json(const LastValue& value) {
  std::string out = "{\"ts\":";
  out += std::to_string(value.time_ms);
  out += ",\"node\":";
  out += value.node_json;
  out += '}';
  return out;
}

std::optional<LastValue> last_value_from_json(const std::string& path, std::string_view text) {
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  const json::object* o = ec ? nullptr : v.if_object();
  if (o == nullptr) return std::nullopt;
  const json::value* ts = o->if_contains("ts");
  const json::value* node = o->if_contains("node");
  if (ts == nullptr || !ts->is_int64() || node == nullptr) return std::nullopt;
  return LastValue{path, json::serialize(*node), ts->get_int64()};
}

}  // namespace fogm2m::store
