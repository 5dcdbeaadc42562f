#include "lwm2m/codec/lwm2m_cbor.h"

#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "lwm2m/codec/cbor.h"
#include "lwm2m/codec/common.h"
#include "lwm2m/codec/json_common.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::lwm2m::lwm2m_cbor {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "LwM2M CBOR";
constexpr uint8_t kEpochTimeTag = 1;  // RFC 8949 3.4.2
constexpr uint8_t kDecimalFractionTag = 4;

// ---- Encoding -------------------------------------------------------------------

Status append_value(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type()) {
    case ResourceType::kInteger:
      cbor::append_int(out, v.as<int64_t>());
      return {};
    case ResourceType::kUnsignedInteger:
      cbor::append_unsigned(out, v.as<uint64_t>());
      return {};
    case ResourceType::kTime:
      out.push_back(0xc0 | kEpochTimeTag);  // the head of tag 1, then its integer
      cbor::append_int(out, v.as<Time>().seconds);
      return {};
    case ResourceType::kFloat: {
      const double d = v.as<double>();
      if (!std::isfinite(d))
        return make_error(ErrorKind::kInvalidArgument,
                          "float value " + text::format_double(d) + " is not finite");
      cbor::append_float(out, d);
      return {};
    }
    case ResourceType::kBoolean:
      cbor::append_bool(out, v.as<bool>());
      return {};
    case ResourceType::kString:
      cbor::append_text(out, v.as<std::string>());
      return {};
    case ResourceType::kCorelnk:
      cbor::append_text(out, v.as<CoreLink>().text);
      return {};
    case ResourceType::kOpaque:
      cbor::append_bytes(out, v.as<Opaque>());
      return {};
    case ResourceType::kObjlnk:
      cbor::append_text(out, text::format_object_link(v.as<ObjectLink>()));
      return {};
    case ResourceType::kNone:
      break;
  }
  return make_error(ErrorKind::kInvalidArgument, "no value (type none)");
}

// Appends the map of the leaves [begin, end), which share their first
// `level` ids and are in path order: one key per distinct id at `level`,
// its value the leaf itself when the leaf ends there, else the map of the
// next level.
Status append_level(std::vector<uint8_t>& out, const std::vector<PathValue>& leaves, size_t begin,
                    size_t end, int level) {
  size_t keys = 0;
  for (size_t k = begin; k < end; ++k)
    if (k == begin || leaves[k].path.id(level) != leaves[k - 1].path.id(level)) ++keys;
  cbor::append_map_head(out, keys);
  for (size_t group = begin; group < end;) {
    const uint16_t id = leaves[group].path.id(level);
    size_t next = group + 1;
    while (next < end && leaves[next].path.id(level) == id) ++next;
    cbor::append_unsigned(out, id);
    const PathValue& first = leaves[group];
    if (next == group + 1 && first.path.depth() == level + 1) {
      if (Status s = json_detail::check_leaf(kFormat, first.path, first.value); !s) return s;
      if (Status s = append_value(out, first.value); !s)
        return format_error(s.error().kind, kFormat,
                            first.path.to_string() + ": " + s.error().message);
    } else if (Status s = append_level(out, leaves, group, next, level + 1); !s) {
      return s;
    }
    group = next;
  }
  return {};
}

// ---- Decoding -------------------------------------------------------------------

bool is_int64(const cbor::Item& i) {
  return (i.type == cbor::Type::kUnsigned || i.type == cbor::Type::kNegative) &&
         i.number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

int64_t as_int64(const cbor::Item& i) {
  const auto n = static_cast<int64_t>(i.number);
  return i.type == cbor::Type::kUnsigned ? n : -1 - n;
}

// A CBOR number (integer, float, or decimal fraction) as the JSON number
// json_detail::number_value() types, so that this format types numbers as
// the SenML formats do.
Result<boost::json::value> json_number(const cbor::Item& item) {
  if (item.type == cbor::Type::kUnsigned) {
    if (item.number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return boost::json::value(item.number);
    return boost::json::value(static_cast<int64_t>(item.number));
  }
  if (item.type == cbor::Type::kNegative) {
    if (!is_int64(item)) return boost::json::value(-1.0 - static_cast<double>(item.number));
    return boost::json::value(as_int64(item));
  }
  if (item.type == cbor::Type::kFloat) return boost::json::value(item.real);
  // A decimal fraction: tag 4 on [exponent, mantissa].
  const cbor::Item& pair = item.items[0];
  if (pair.type != cbor::Type::kArray || pair.items.size() != 2 || !is_int64(pair.items[0]) ||
      !is_int64(pair.items[1]))
    return make_error(ErrorKind::kMalformed,
                      "a decimal fraction that is not [exponent, mantissa] of 64-bit integers");
  const std::string decimal =
      std::to_string(as_int64(pair.items[1])) + "e" + std::to_string(as_int64(pair.items[0]));
  double d = 0;
  const char* last = decimal.data() + decimal.size();
  auto [ptr, err] = std::from_chars(decimal.data(), last, d);
  if (err != std::errc() || ptr != last)
    return make_error(ErrorKind::kInvalidArgument,
                      "decimal fraction " + decimal + " is out of the double range");
  return boost::json::value(d);
}

Error type_mismatch(const cbor::Item& item, ResourceType type) {
  return make_error(ErrorKind::kTypeMismatch, cbor::with_article(item.type) + " given for a " +
                                                  to_string(type) + " resource");
}

// The value `item` gives a resource of `model` (null: unmodelled).
Result<Value> leaf_value(const cbor::Item& item, const ResourceModel* model) {
  const ResourceType type = model ? model->type : ResourceType::kNone;
  switch (item.type) {
    case cbor::Type::kUnsigned:
    case cbor::Type::kNegative:
    case cbor::Type::kFloat: {
      if (item.type == cbor::Type::kNegative && !is_int64(item) &&
          (type == ResourceType::kInteger || type == ResourceType::kTime ||
           type == ResourceType::kUnsignedInteger))
        return make_error(ErrorKind::kInvalidArgument,
                          "a negative integer below INT64_MIN given for a " +
                              std::string(to_string(type)) + " resource");
      auto number = json_number(item);
      if (!number) return number.error();
      return json_detail::number_value(*number, model);
    }
    case cbor::Type::kTag: {
      if (item.number == kDecimalFractionTag) {
        auto number = json_number(item);
        if (!number) return number.error();
        return json_detail::number_value(*number, model);
      }
      if (item.number != kEpochTimeTag)
        return make_error(ErrorKind::kUnsupported,
                          "tag " + std::to_string(item.number) +
                              " (only 1, a time, and 4, a decimal fraction, are values)");
      if (model != nullptr && type != ResourceType::kTime)
        return make_error(ErrorKind::kTypeMismatch, std::string("a time (tag 1) given for a ") +
                                                        to_string(type) + " resource");
      if (!is_int64(item.items[0]))
        return make_error(ErrorKind::kMalformed, "a time (tag 1) on " +
                                                     cbor::with_article(item.items[0].type) +
                                                     ", not a 64-bit integer");
      return Value(Time{as_int64(item.items[0])});
    }
    case cbor::Type::kTrue:
    case cbor::Type::kFalse:
      if (model != nullptr && type != ResourceType::kBoolean) return type_mismatch(item, type);
      return Value(item.type == cbor::Type::kTrue);
    case cbor::Type::kText:
      if (model == nullptr || type == ResourceType::kString) return Value(item.text);
      if (type == ResourceType::kCorelnk) return Value(CoreLink{item.text});
      if (type == ResourceType::kObjlnk) {
        auto link = text::parse_object_link(item.text);
        if (!link) return link.error();
        return Value(*link);
      }
      return type_mismatch(item, type);
    case cbor::Type::kBytes:
      if (model != nullptr && type != ResourceType::kOpaque) return type_mismatch(item, type);
      return Value(item.bytes);
    case cbor::Type::kNull:
      return make_error(ErrorKind::kUnsupported,
                        "null (a Write-Composite deletion) is not a value this codec carries");
    default:
      return make_error(ErrorKind::kMalformed, cbor::with_article(item.type) + " is not a value");
  }
}

struct Walk {
  const Path& request;
  const ModelRegistry& models;
  std::vector<json_detail::Record>& records;
};

// The path `key` leads to from `at`: one id, or an array of them.
Result<Path> extend(const Path& at, const cbor::Item& key) {
  const std::string where = at.is_root() ? std::string("at the top") : "under " + at.to_string();
  auto one = [&](Path& path, const cbor::Item& id) -> Status {
    if (id.type != cbor::Type::kUnsigned)
      return make_error(ErrorKind::kMalformed, "a key " + where + " is " +
                                                   cbor::with_article(id.type) +
                                                   ", not an id or an array of ids");
    if (id.number > Path::kMaxId)
      return make_error(ErrorKind::kMalformed, "id " + std::to_string(id.number) + " " + where +
                                                   " is above " + std::to_string(Path::kMaxId));
    if (path.depth() == 4)
      return make_error(ErrorKind::kMalformed, "the path " + path.to_string() + "/" +
                                                   std::to_string(id.number) +
                                                   " is deeper than a resource instance");
    path = path.child(static_cast<uint16_t>(id.number));
    return {};
  };
  Path path = at;
  if (key.type == cbor::Type::kArray) {
    if (key.items.empty())
      return make_error(ErrorKind::kMalformed, "an empty array as a key " + where);
    for (const cbor::Item& id : key.items)
      if (Status s = one(path, id); !s) return s.error();
    return path;
  }
  if (Status s = one(path, key); !s) return s.error();
  return path;
}

Status walk_map(const Walk& w, const cbor::Item& map, const Path& at) {
  for (size_t i = 0; i + 1 < map.items.size(); i += 2) {
    auto path = extend(at, map.items[i]);
    if (!path) return format_error(path.error().kind, kFormat, path.error().message);
    if (!path->starts_with(w.request) && !w.request.starts_with(*path))
      return format_error(
          ErrorKind::kInvalidArgument, kFormat,
          path->to_string() + " lies outside the request path " + w.request.to_string());
    const cbor::Item& value = map.items[i + 1];
    if (value.type == cbor::Type::kMap) {
      if (Status s = walk_map(w, value, *path); !s) return s;
      continue;
    }
    if (path->depth() < 3 || !path->starts_with(w.request))
      return format_error(ErrorKind::kInvalidArgument, kFormat,
                          path->to_string() + ": a value above the request path " +
                              w.request.to_string() + " or above resource level");
    auto v = leaf_value(value, codec_detail::value_model(w.models, *path));
    if (!v)
      return format_error(v.error().kind, kFormat, path->to_string() + ": " + v.error().message);
    w.records.push_back(json_detail::Record{*path, std::move(*v), 0, w.records.size()});
  }
  return {};
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  const std::vector<PathValue> leaves = flatten(path, node);
  std::vector<uint8_t> out;
  if (Status s = append_level(out, leaves, 0, leaves.size(), 0); !s) return s.error();
  return out;
}

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "cannot decode a payload for the root path");
  auto doc = cbor::parse(payload);
  if (!doc) return format_error(doc.error().kind, kFormat, "invalid CBOR: " + doc.error().message);
  if (doc->type != cbor::Type::kMap)
    return format_error(ErrorKind::kMalformed, kFormat,
                        "the document is " + cbor::with_article(doc->type) + ", not a map");
  std::vector<json_detail::Record> records;
  const Walk w{path, models, records};
  if (Status s = walk_map(w, *doc, Path()); !s) return s.error();
  return json_detail::assemble(kFormat, path, std::move(records), models);
}

}  // namespace fogm2m::lwm2m::lwm2m_cbor
