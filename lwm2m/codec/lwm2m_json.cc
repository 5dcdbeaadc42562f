#include "lwm2m/codec/lwm2m_json.h"

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

#include "lwm2m/codec/base64.h"
#include "lwm2m/codec/common.h"
#include "lwm2m/codec/json_common.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::lwm2m::lwm2m_json {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "LwM2M JSON";

Error record_error(ErrorKind kind, size_t record, const std::string& why) {
  return format_error(kind, kFormat, "record " + std::to_string(record) + ": " + why);
}

// This format's value keys.
constexpr json_detail::ValueKeys kKeys{"v", "bv", "sv", "sv", "ov", false};

Status append_value(std::string& out, const Value& v) {
  return json_detail::append_value(out, v, kKeys);
}

// The value of a record's "sv" for a resource of `model` (null: untyped).
Result<Value> string_value(const boost::json::string& s, const ResourceModel* model) {
  const std::string_view text(s.data(), s.size());
  const ResourceType type = model ? model->type : ResourceType::kString;
  switch (type) {
    case ResourceType::kString:
      return Value(std::string(text));
    case ResourceType::kCorelnk:
      return Value(CoreLink{std::string(text)});
    case ResourceType::kOpaque: {
      auto bytes = base64::decode(text, base64::Alphabet::kStandard, base64::Padding::kOptional);
      if (!bytes) return bytes.error();
      return Value(std::move(*bytes));
    }
    default:
      return make_error(ErrorKind::kTypeMismatch,
                        std::string("\"sv\" given for a ") + to_string(type) + " resource");
  }
}

// The value of one record: `key` is its value key, `j` the JSON value.
Result<Value> record_value(std::string_view key, const boost::json::value& j,
                           const ResourceModel* model) {
  const ResourceType type = model ? model->type : ResourceType::kNone;
  if (key == "v") {
    if (!j.is_number()) return make_error(ErrorKind::kMalformed, "\"v\" is not a number");
    return json_detail::number_value(j, model);
  }
  if (key == "sv") {
    const auto* s = j.if_string();
    if (s == nullptr) return make_error(ErrorKind::kMalformed, "\"sv\" is not a string");
    return string_value(*s, model);
  }
  if (key == "bv") {
    const auto* b = j.if_bool();
    if (b == nullptr) return make_error(ErrorKind::kMalformed, "\"bv\" is not a boolean");
    if (model != nullptr && type != ResourceType::kBoolean)
      return make_error(ErrorKind::kTypeMismatch,
                        std::string("\"bv\" given for a ") + to_string(type) + " resource");
    return Value(*b);
  }
  // "ov"
  const auto* s = j.if_string();
  if (s == nullptr) return make_error(ErrorKind::kMalformed, "\"ov\" is not a string");
  if (model != nullptr && type != ResourceType::kObjlnk)
    return make_error(ErrorKind::kTypeMismatch,
                      std::string("\"ov\" given for a ") + to_string(type) + " resource");
  auto link = text::parse_object_link(std::string_view(s->data(), s->size()));
  if (!link) return link.error();
  return Value(*link);
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  const bool single =
      node.index() == 3 || (node.index() == 2 && !std::get<Resource>(node).multiple);
  std::string out = "{\"bn\":";
  json_detail::append_string(out, json_detail::base_name(path, single));
  out += ",\"e\":[";
  bool first = true;
  for (const PathValue& leaf : flatten(path, node)) {
    if (Status s = json_detail::check_leaf(kFormat, leaf.path, leaf.value); !s) return s.error();
    if (!first) out.push_back(',');
    first = false;
    out.push_back('{');
    if (!single) {
      out += "\"n\":";
      json_detail::append_string(out, json_detail::relative_name(path, leaf.path));
      out.push_back(',');
    }
    if (Status s = append_value(out, leaf.value); !s)
      return format_error(s.error().kind, kFormat,
                          leaf.path.to_string() + ": " + s.error().message);
    out.push_back('}');
  }
  out += "]}";
  return std::vector<uint8_t>(out.begin(), out.end());
}

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "cannot decode a payload for the root path");
  auto doc = json_detail::parse(kFormat, payload);
  if (!doc) return doc.error();
  const auto* root = doc->if_object();
  if (root == nullptr)
    return format_error(ErrorKind::kMalformed, kFormat, "the document is not a JSON object");

  std::string_view base;
  double base_time = 0;
  const boost::json::array* entries = nullptr;
  bool seen_bn = false;
  bool seen_bt = false;
  for (const auto& kv : *root) {
    const std::string_view key(kv.key().data(), kv.key().size());
    if (key == "bn" && !seen_bn) {
      const auto* s = kv.value().if_string();
      if (s == nullptr)
        return format_error(ErrorKind::kMalformed, kFormat, "\"bn\" is not a string");
      base = std::string_view(s->data(), s->size());
      seen_bn = true;
    } else if (key == "bt" && !seen_bt) {
      if (!kv.value().is_number())
        return format_error(ErrorKind::kMalformed, kFormat, "\"bt\" is not a number");
      base_time = json_detail::number_as_double(kv.value());
      seen_bt = true;
    } else if (key == "e" && entries == nullptr) {
      entries = kv.value().if_array();
      if (entries == nullptr)
        return format_error(ErrorKind::kMalformed, kFormat, "\"e\" is not an array");
    } else {
      return format_error(
          ErrorKind::kMalformed, kFormat,
          "unexpected or repeated key \"" + std::string(key) + "\" in the document");
    }
  }
  if (entries == nullptr)
    return format_error(ErrorKind::kMalformed, kFormat, "the document has no \"e\" array");

  std::vector<json_detail::Record> records;
  records.reserve(entries->size());
  for (size_t k = 0; k < entries->size(); ++k) {
    const auto* e = (*entries)[k].if_object();
    if (e == nullptr) return record_error(ErrorKind::kMalformed, k, "not a JSON object");
    std::string_view name;
    bool seen_n = false;
    bool seen_t = false;
    double time = 0;
    std::string_view value_key;
    const boost::json::value* value = nullptr;
    for (const auto& kv : *e) {
      const std::string_view key(kv.key().data(), kv.key().size());
      if (key == "n" && !seen_n) {
        const auto* s = kv.value().if_string();
        if (s == nullptr) return record_error(ErrorKind::kMalformed, k, "\"n\" is not a string");
        name = std::string_view(s->data(), s->size());
        seen_n = true;
      } else if (key == "t" && !seen_t) {
        if (!kv.value().is_number())
          return record_error(ErrorKind::kMalformed, k, "\"t\" is not a number");
        time = json_detail::number_as_double(kv.value());
        seen_t = true;
      } else if (key == "v" || key == "sv" || key == "bv" || key == "ov") {
        if (value != nullptr)
          return record_error(ErrorKind::kMalformed, k,
                              "more than one value (\"" + std::string(value_key) + "\" and \"" +
                                  std::string(key) + "\")");
        value_key = key;
        value = &kv.value();
      } else {
        return record_error(ErrorKind::kMalformed, k,
                            "unexpected or repeated key \"" + std::string(key) + "\"");
      }
    }
    if (value == nullptr) return record_error(ErrorKind::kMalformed, k, "no value");
    auto leaf = json_detail::resolve_name(kFormat, k, base, name, path);
    if (!leaf) return leaf.error();
    const ResourceModel* model = codec_detail::value_model(models, *leaf);
    auto v = record_value(value_key, *value, model);
    if (!v) return record_error(v.error().kind, k, leaf->to_string() + ": " + v.error().message);
    records.push_back(json_detail::Record{*leaf, std::move(*v), base_time + time, k});
  }
  return json_detail::assemble(kFormat, path, std::move(records), models);
}

}  // namespace fogm2m::lwm2m::lwm2m_json
