#include "lwm2m/codec/senml_json.h"

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lwm2m/codec/base64.h"
#include "lwm2m/codec/common.h"
#include "lwm2m/codec/json_common.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::lwm2m::senml_json {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "SenML JSON";

Error record_error(ErrorKind kind, size_t record, const std::string& why) {
  return format_error(kind, kFormat, "record " + std::to_string(record) + ": " + why);
}

// This format's value keys.
constexpr json_detail::ValueKeys kKeys{"v", "vb", "vs", "vd", "vlo", true};

Status append_value(std::string& out, const Value& v) {
  return json_detail::append_value(out, v, kKeys);
}

Error wrong_key(std::string_view key, ResourceType type) {
  return make_error(ErrorKind::kTypeMismatch,
                    "\"" + std::string(key) + "\" given for a " + to_string(type) + " resource");
}

// The value of one record: `key` is its value key, `j` the JSON value.
Result<Value> record_value(std::string_view key, const boost::json::value& j,
                           const ResourceModel* model) {
  const ResourceType type = model ? model->type : ResourceType::kNone;
  if (key == "v") {
    if (!j.is_number()) return make_error(ErrorKind::kMalformed, "\"v\" is not a number");
    return json_detail::number_value(j, model);
  }
  if (key == "vb") {
    const auto* b = j.if_bool();
    if (b == nullptr) return make_error(ErrorKind::kMalformed, "\"vb\" is not a boolean");
    if (model != nullptr && type != ResourceType::kBoolean) return wrong_key(key, type);
    return Value(*b);
  }
  // "vs", "vd" and "vlo" hold strings.
  const auto* s = j.if_string();
  if (s == nullptr)
    return make_error(ErrorKind::kMalformed, "\"" + std::string(key) + "\" is not a string");
  const std::string_view text(s->data(), s->size());
  if (key == "vs") {
    if (model == nullptr || type == ResourceType::kString) return Value(std::string(text));
    if (type == ResourceType::kCorelnk) return Value(CoreLink{std::string(text)});
    return wrong_key(key, type);
  }
  if (key == "vd") {
    if (model != nullptr && type != ResourceType::kOpaque) return wrong_key(key, type);
    auto bytes = base64::decode(text, base64::Alphabet::kUrl, base64::Padding::kOptional);
    if (!bytes) return bytes.error();
    return Value(std::move(*bytes));
  }
  // "vlo"
  if (model != nullptr && type != ResourceType::kObjlnk) return wrong_key(key, type);
  auto link = text::parse_object_link(text);
  if (!link) return link.error();
  return Value(*link);
}

bool is_value_key(std::string_view key) {
  return key == "v" || key == "vs" || key == "vb" || key == "vd" || key == "vlo";
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  const bool single =
      node.index() == 3 || (node.index() == 2 && !std::get<Resource>(node).multiple);
  std::string out = "[";
  bool first = true;
  for (const PathValue& leaf : flatten(path, node)) {
    if (Status s = json_detail::check_leaf(kFormat, leaf.path, leaf.value); !s) return s.error();
    if (first) {
      out += "{\"bn\":";
      json_detail::append_string(out, json_detail::base_name(path, single));
      out.push_back(',');
    } else {
      out += ",{";
    }
    first = false;
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
  out.push_back(']');
  return std::vector<uint8_t>(out.begin(), out.end());
}

namespace {

// The pack a parsed document holds: a JSON array.
Result<const boost::json::array*> pack_of(const boost::json::value& doc) {
  const auto* pack = doc.if_array();
  if (pack == nullptr)
    return format_error(ErrorKind::kMalformed, kFormat, "the document is not a JSON array");
  return pack;
}

// Checks the keys of each record of `pack` and calls
// on_record(k, base, name, value_key, value, time) for it: `base` the base
// name in force, `value` null when the record has none, `time` base time +
// time. Stops at the first error, of the keys or of on_record.
template <class OnRecord>
Status for_each_record(const boost::json::array& pack, OnRecord&& on_record) {
  // Base name and base time carry forward from record to record.
  std::string base;
  double base_time = 0;
  for (size_t k = 0; k < pack.size(); ++k) {
    const auto* rec = pack[k].if_object();
    if (rec == nullptr) return record_error(ErrorKind::kMalformed, k, "not a JSON object");
    std::string_view name;
    double time = 0;
    std::string_view value_key;
    const boost::json::value* value = nullptr;
    // Each key at most once: bit i of `seen` stands for kRecordKeys[i].
    static constexpr std::string_view kRecordKeys[] = {"bn",   "bt", "n",  "t",
                                                       "bver", "u",  "bu", "ut"};
    unsigned seen = 0;
    for (const auto& kv : *rec) {
      const std::string_view key(kv.key().data(), kv.key().size());
      const boost::json::value& j = kv.value();
      if (is_value_key(key)) {
        if (value != nullptr)
          return record_error(ErrorKind::kMalformed, k,
                              "more than one value (\"" + std::string(value_key) + "\" and \"" +
                                  std::string(key) + "\")");
        value_key = key;
        value = &j;
        continue;
      }
      size_t which = std::size(kRecordKeys);
      for (size_t i = 0; i < std::size(kRecordKeys); ++i)
        if (kRecordKeys[i] == key) which = i;
      if (which == std::size(kRecordKeys)) {
        const bool known_unsupported =
            key == "bv" || key == "bs" || key == "s" || (!key.empty() && key.back() == '_');
        return record_error(known_unsupported ? ErrorKind::kUnsupported : ErrorKind::kMalformed, k,
                            (known_unsupported ? "unsupported key \"" : "unknown key \"") +
                                std::string(key) + "\"");
      }
      if (seen & (1u << which))
        return record_error(ErrorKind::kMalformed, k, "repeated key \"" + std::string(key) + "\"");
      seen |= 1u << which;
      if (key == "bn" || key == "n" || key == "u" || key == "bu") {
        const auto* s = j.if_string();
        if (s == nullptr)
          return record_error(ErrorKind::kMalformed, k,
                              "\"" + std::string(key) + "\" is not a string");
        if (key == "bn") base.assign(s->data(), s->size());
        if (key == "n") name = std::string_view(s->data(), s->size());
      } else {  // bt, t, bver, ut
        if (!j.is_number())
          return record_error(ErrorKind::kMalformed, k,
                              "\"" + std::string(key) + "\" is not a number");
        if (key == "bt") base_time = json_detail::number_as_double(j);
        if (key == "t") time = json_detail::number_as_double(j);
      }
    }
    if (std::optional<Error> e =
            on_record(k, std::string_view(base), name, value_key, value, base_time + time))
      return std::move(*e);
  }
  return {};
}

// Appends the records of `pack` to `records`, each a value at a leaf
// inside `request`.
Status leaf_records(const boost::json::array& pack, const Path& request,
                    const ModelRegistry& models, std::vector<json_detail::Record>& records) {
  return for_each_record(
      pack,
      [&](size_t k, std::string_view base, std::string_view name, std::string_view value_key,
          const boost::json::value* value, double time) -> std::optional<Error> {
        if (value == nullptr) return record_error(ErrorKind::kMalformed, k, "no value");
        auto leaf = json_detail::resolve_name(kFormat, k, base, name, request);
        if (!leaf) return leaf.error();
        const ResourceModel* model = codec_detail::value_model(models, *leaf);
        auto v = record_value(value_key, *value, model);
        if (!v)
          return record_error(v.error().kind, k, leaf->to_string() + ": " + v.error().message);
        records.push_back(json_detail::Record{*leaf, std::move(*v), time, k});
        return std::nullopt;
      });
}

// The records of a composite pack (leaves anywhere under the root).
Result<std::vector<json_detail::Record>> composite_records(std::span<const uint8_t> payload,
                                                           const ModelRegistry& models) {
  auto doc = json_detail::parse(kFormat, payload);
  if (!doc) return doc.error();
  auto pack = pack_of(*doc);
  if (!pack) return pack.error();
  std::vector<json_detail::Record> records;
  records.reserve((*pack)->size());
  if (Status s = leaf_records(**pack, Path(), models, records); !s) return s.error();
  return records;
}

// The text of one composite record: {"n":"<leaf>",<value>}.
Status append_named_record(std::string& out, const PathValue& leaf) {
  out += "{\"n\":";
  json_detail::append_string(out, leaf.path.to_string());
  out.push_back(',');
  if (Status s = json_detail::append_value(out, leaf.value, kKeys); !s)
    return format_error(s.error().kind, kFormat, leaf.path.to_string() + ": " + s.error().message);
  out.push_back('}');
  return {};
}

}  // namespace

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "cannot decode a payload for the root path");
  auto doc = json_detail::parse(kFormat, payload);
  if (!doc) return doc.error();
  auto pack = pack_of(*doc);
  if (!pack) return pack.error();
  std::vector<json_detail::Record> records;
  records.reserve((*pack)->size());
  if (Status s = leaf_records(**pack, path, models, records); !s) return s.error();
  return json_detail::assemble(kFormat, path, std::move(records), models);
}

// ---- Composite operations ---------------------------------------------------------

Result<std::vector<uint8_t>> encode_paths(std::span<const Path> paths) {
  std::string out = "[";
  for (const Path& path : paths) {
    if (path.is_root())
      return format_error(ErrorKind::kInvalidArgument, kFormat,
                          "the root path cannot be listed in a composite request");
    if (out.size() > 1) out.push_back(',');
    out += "{\"n\":";
    json_detail::append_string(out, path.to_string());
    out.push_back('}');
  }
  out.push_back(']');
  return std::vector<uint8_t>(out.begin(), out.end());
}

Result<std::vector<Path>> decode_paths(std::span<const uint8_t> payload) {
  auto doc = json_detail::parse(kFormat, payload);
  if (!doc) return doc.error();
  auto pack = pack_of(*doc);
  if (!pack) return pack.error();
  std::vector<Path> paths;
  Status s = for_each_record(
      **pack,
      [&](size_t k, std::string_view base, std::string_view name, std::string_view,
          const boost::json::value* value, double) -> std::optional<Error> {
        if (value != nullptr)
          return record_error(ErrorKind::kMalformed, k, "a value in a list of paths");
        auto path = json_detail::resolve_target(kFormat, k, base, name);
        if (!path) return path.error();
        paths.push_back(*path);
        return std::nullopt;
      });
  if (!s) return s.error();
  return paths;
}

Result<std::vector<uint8_t>> encode_composite(std::span<const PathNode> nodes) {
  auto leaves = json_detail::composite_leaves(kFormat, nodes);
  if (!leaves) return leaves.error();
  std::string out = "[";
  for (const PathValue& leaf : *leaves) {
    if (out.size() > 1) out.push_back(',');
    if (Status s = append_named_record(out, leaf); !s) return s.error();
  }
  out.push_back(']');
  return std::vector<uint8_t>(out.begin(), out.end());
}

Result<std::vector<PathNode>> decode_composite(std::span<const Path> paths,
                                               std::span<const uint8_t> payload,
                                               const ModelRegistry& models) {
  auto records = composite_records(payload, models);
  if (!records) return records.error();
  return json_detail::group_composite(kFormat, paths, *records, models);
}

Result<std::vector<PathNode>> decode_composite_resources(std::span<const uint8_t> payload,
                                                         const ModelRegistry& models) {
  auto records = composite_records(payload, models);
  if (!records) return records.error();
  const std::vector<Path> resources = json_detail::resource_paths(*records);
  return json_detail::group_composite(kFormat, resources, *records, models);
}

}  // namespace fogm2m::lwm2m::senml_json
