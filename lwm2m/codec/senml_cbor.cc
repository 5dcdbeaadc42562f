#include "lwm2m/codec/senml_cbor.h"

#include <boost/json/value.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "lwm2m/codec/cbor.h"
#include "lwm2m/codec/common.h"
#include "lwm2m/codec/json_common.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::lwm2m::senml_cbor {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "SenML CBOR";

// RFC 8428 Table 6, and "vlo", which has no integer label (LwM2M TS-Core
// 7.4.5): it travels as a text key and gets a number outside the table here.
enum Label : int {
  kBaseVersion = -1,
  kBaseName = -2,
  kBaseTime = -3,
  kBaseUnit = -4,
  kBaseValue = -5,
  kBaseSum = -6,
  kName = 0,
  kUnit = 1,
  kValue = 2,
  kStringValue = 3,
  kBooleanValue = 4,
  kSum = 5,
  kTime = 6,
  kUpdateTime = 7,
  kDataValue = 8,
  kObjectLinkValue = 9,
};
constexpr int kMinLabel = kBaseSum;

// "bn (-2)", "vlo" for messages.
std::string label_name(int label) {
  static constexpr const char* kNames[] = {"bs", "bv", "bu", "bt", "bn", "bver", "n", "u",
                                           "v",  "vs", "vb", "s",  "t",  "ut",   "vd"};
  if (label == kObjectLinkValue) return "\"vlo\"";
  return std::string(kNames[label - kMinLabel]) + " (" + std::to_string(label) + ")";
}

Error record_error(ErrorKind kind, size_t record, const std::string& why) {
  return format_error(kind, kFormat, "record " + std::to_string(record) + ": " + why);
}

Error wrong_cbor_type(int label, const cbor::Item& item, const char* expected) {
  return make_error(ErrorKind::kMalformed, label_name(label) + " is " +
                                               cbor::with_article(item.type) + ", not " + expected);
}

Error wrong_label(int label, ResourceType type) {
  return make_error(ErrorKind::kTypeMismatch,
                    label_name(label) + " given for a " + to_string(type) + " resource");
}

bool is_value_label(int label) {
  return label == kValue || label == kStringValue || label == kBooleanValue ||
         label == kDataValue || label == kObjectLinkValue;
}

// The label a map key stands for. Errors for keys that are neither integers
// nor text, labels SenML defines but LwM2M cannot carry (kUnsupported) and
// unknown ones.
Result<int> label_of(const cbor::Item& key) {
  if (key.type == cbor::Type::kText) {
    if (key.text == "vlo") return int{kObjectLinkValue};
    // RFC 8428 section 4.4: a label ending in '_' must be understood.
    const bool must_understand = !key.text.empty() && key.text.back() == '_';
    return make_error(
        must_understand ? ErrorKind::kUnsupported : ErrorKind::kMalformed,
        (must_understand ? "unsupported label \"" : "unknown label \"") + key.text + "\"");
  }
  int label = 0;
  if (key.type == cbor::Type::kUnsigned && key.number <= uint64_t{kDataValue}) {
    label = static_cast<int>(key.number);
  } else if (key.type == cbor::Type::kNegative && key.number < uint64_t{-kMinLabel}) {
    label = -1 - static_cast<int>(key.number);
  } else if (key.type == cbor::Type::kUnsigned) {
    return make_error(ErrorKind::kMalformed, "unknown label " + std::to_string(key.number));
  } else if (key.type == cbor::Type::kNegative) {
    return make_error(ErrorKind::kMalformed,
                      key.number == std::numeric_limits<uint64_t>::max()
                          ? std::string("unknown label -18446744073709551616")
                          : "unknown label -" + std::to_string(key.number + 1));
  } else {
    return make_error(ErrorKind::kMalformed, "a label is " + cbor::with_article(key.type) +
                                                 ", not an integer or a text string");
  }
  if (label == kBaseValue || label == kBaseSum || label == kSum)
    return make_error(ErrorKind::kUnsupported, "unsupported label " + label_name(label));
  return label;
}

// True for a negative integer below INT64_MIN.
bool below_int64(const cbor::Item& item) {
  return item.type == cbor::Type::kNegative &&
         item.number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

// A CBOR number as the JSON number json_detail::number_value() types, so that
// SenML CBOR and SenML JSON type numbers alike: an integer as int64 (uint64
// above INT64_MAX, a double below INT64_MIN), a float or a decimal fraction
// (tag 4: [exponent, mantissa], both 64-bit integers) as a double.
Result<boost::json::value> json_number(int label, const cbor::Item& item) {
  switch (item.type) {
    case cbor::Type::kUnsigned:
      if (item.number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return boost::json::value(item.number);
      return boost::json::value(static_cast<int64_t>(item.number));
    case cbor::Type::kNegative:
      if (below_int64(item)) return boost::json::value(-1.0 - static_cast<double>(item.number));
      return boost::json::value(-1 - static_cast<int64_t>(item.number));
    case cbor::Type::kFloat:
      return boost::json::value(item.real);
    case cbor::Type::kTag:
      break;
    default:
      return wrong_cbor_type(label, item, "a number");
  }
  if (item.number != 4)
    return make_error(ErrorKind::kUnsupported,
                      label_name(label) + " is tag " + std::to_string(item.number) +
                          ", not a number (only decimal fractions, tag 4, are)");
  const cbor::Item& pair = item.items[0];
  auto is_int64 = [](const cbor::Item& i) {
    return (i.type == cbor::Type::kUnsigned || i.type == cbor::Type::kNegative) &&
           i.number <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  };
  if (pair.type != cbor::Type::kArray || pair.items.size() != 2 || !is_int64(pair.items[0]) ||
      !is_int64(pair.items[1]))
    return make_error(ErrorKind::kMalformed,
                      label_name(label) +
                          " is a decimal fraction that is not [exponent, mantissa] of "
                          "64-bit integers");
  auto as_int64 = [](const cbor::Item& i) {
    const auto n = static_cast<int64_t>(i.number);
    return i.type == cbor::Type::kUnsigned ? n : -1 - n;
  };
  // mantissa * 10^exponent, correctly rounded.
  const std::string decimal =
      std::to_string(as_int64(pair.items[1])) + "e" + std::to_string(as_int64(pair.items[0]));
  double d = 0;
  const char* end = decimal.data() + decimal.size();
  auto [ptr, err] = std::from_chars(decimal.data(), end, d);
  if (err != std::errc() || ptr != end)
    return make_error(ErrorKind::kInvalidArgument,
                      "decimal fraction " + decimal + " is out of the double range");
  return boost::json::value(d);
}

// The value of one record: `label` is its value label, `item` the CBOR value.
Result<Value> record_value(int label, const cbor::Item& item, const ResourceModel* model) {
  const ResourceType type = model ? model->type : ResourceType::kNone;
  if (label == kValue) {
    if (below_int64(item) && (type == ResourceType::kInteger || type == ResourceType::kTime ||
                              type == ResourceType::kUnsignedInteger))
      return make_error(ErrorKind::kInvalidArgument,
                        "a negative integer below INT64_MIN given for a " +
                            std::string(to_string(type)) + " resource");
    auto number = json_number(label, item);
    if (!number) return number.error();
    return json_detail::number_value(*number, model);
  }
  // The CBOR type and the resource type (when modelled) each label needs.
  cbor::Type wanted = cbor::Type::kText;
  const char* wanted_name = "a text string";
  ResourceType fits = label == kStringValue ? ResourceType::kString : ResourceType::kObjlnk;
  if (label == kBooleanValue) {
    wanted = cbor::Type::kTrue;
    wanted_name = "a boolean";
    fits = ResourceType::kBoolean;
  } else if (label == kDataValue) {
    wanted = cbor::Type::kBytes;
    wanted_name = "a byte string";
    fits = ResourceType::kOpaque;
  }
  const bool right_cbor_type =
      item.type == wanted || (wanted == cbor::Type::kTrue && item.type == cbor::Type::kFalse);
  if (!right_cbor_type) return wrong_cbor_type(label, item, wanted_name);
  const bool corelnk = label == kStringValue && type == ResourceType::kCorelnk;
  if (model != nullptr && type != fits && !corelnk) return wrong_label(label, type);

  Value value;
  if (label == kBooleanValue) {
    value = Value(item.type == cbor::Type::kTrue);
  } else if (label == kDataValue) {
    value = Value(item.bytes);
  } else if (label == kStringValue) {
    value = corelnk ? Value(CoreLink{item.text}) : Value(item.text);
  } else {
    auto link = text::parse_object_link(item.text);
    if (!link) return link.error();
    value = Value(*link);
  }
  return value;
}

// Appends label and value of one leaf value.
Status append_value(std::vector<uint8_t>& out, const Value& v) {
  switch (v.type()) {
    case ResourceType::kInteger:
      cbor::append_int(out, kValue);
      cbor::append_int(out, v.as<int64_t>());
      return {};
    case ResourceType::kTime:
      cbor::append_int(out, kValue);
      cbor::append_int(out, v.as<Time>().seconds);
      return {};
    case ResourceType::kUnsignedInteger:
      cbor::append_int(out, kValue);
      cbor::append_unsigned(out, v.as<uint64_t>());
      return {};
    case ResourceType::kFloat: {
      const double d = v.as<double>();
      if (!std::isfinite(d))
        return make_error(ErrorKind::kInvalidArgument,
                          "float value " + text::format_double(d) + " is not finite");
      cbor::append_int(out, kValue);
      cbor::append_float(out, d);
      return {};
    }
    case ResourceType::kBoolean:
      cbor::append_int(out, kBooleanValue);
      cbor::append_bool(out, v.as<bool>());
      return {};
    case ResourceType::kString:
      cbor::append_int(out, kStringValue);
      cbor::append_text(out, v.as<std::string>());
      return {};
    case ResourceType::kCorelnk:
      cbor::append_int(out, kStringValue);
      cbor::append_text(out, v.as<CoreLink>().text);
      return {};
    case ResourceType::kOpaque:
      cbor::append_int(out, kDataValue);
      cbor::append_bytes(out, v.as<Opaque>());
      return {};
    case ResourceType::kObjlnk:
      cbor::append_text(out, "vlo");
      cbor::append_text(out, text::format_object_link(v.as<ObjectLink>()));
      return {};
    case ResourceType::kNone:
      break;
  }
  return make_error(ErrorKind::kInvalidArgument, "no value (type none)");
}

}  // namespace

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  const bool single =
      node.index() == 3 || (node.index() == 2 && !std::get<Resource>(node).multiple);
  const std::vector<PathValue> leaves = flatten(path, node);
  std::vector<uint8_t> out;
  cbor::append_array_head(out, leaves.size());
  bool first = true;
  for (const PathValue& leaf : leaves) {
    if (Status s = json_detail::check_leaf(kFormat, leaf.path, leaf.value); !s) return s.error();
    cbor::append_map_head(out, 1 + (first ? 1 : 0) + (single ? 0 : 1));
    if (first) {
      cbor::append_int(out, kBaseName);
      cbor::append_text(out, json_detail::base_name(path, single));
    }
    first = false;
    if (!single) {
      cbor::append_int(out, kName);
      cbor::append_text(out, json_detail::relative_name(path, leaf.path));
    }
    if (Status s = append_value(out, leaf.value); !s)
      return format_error(s.error().kind, kFormat,
                          leaf.path.to_string() + ": " + s.error().message);
  }
  return out;
}

namespace {

// The pack `payload` holds: a CBOR array.
Result<cbor::Item> parse_pack(std::span<const uint8_t> payload) {
  auto doc = cbor::parse(payload);
  if (!doc) return format_error(doc.error().kind, kFormat, "invalid CBOR: " + doc.error().message);
  if (doc->type != cbor::Type::kArray)
    return format_error(ErrorKind::kMalformed, kFormat,
                        "the document is " + cbor::with_article(doc->type) + ", not an array");
  return doc;
}

// Checks the labels of each record of `pack` and calls
// on_record(k, base, name, value_label, value, time) for it: `base` the
// base name in force, `value` null when the record has none, `time` base
// time + time. Stops at the first error, of the labels or of on_record.
template <class OnRecord>
Status for_each_record(const cbor::Item& pack, OnRecord&& on_record) {
  // Base name and base time carry forward from record to record.
  std::string base;
  double base_time = 0;
  for (size_t k = 0; k < pack.items.size(); ++k) {
    const cbor::Item& rec = pack.items[k];
    if (rec.type != cbor::Type::kMap)
      return record_error(ErrorKind::kMalformed, k, cbor::with_article(rec.type) + ", not a map");
    std::string_view name;
    double time = 0;
    int value_label = 0;
    const cbor::Item* value = nullptr;
    unsigned seen = 0;  // bit (label - kMinLabel) for each label met
    for (size_t i = 0; i + 1 < rec.items.size(); i += 2) {
      auto label = label_of(rec.items[i]);
      if (!label) return record_error(label.error().kind, k, label.error().message);
      const cbor::Item& item = rec.items[i + 1];
      if (is_value_label(*label)) {
        if (value != nullptr)
          return record_error(ErrorKind::kMalformed, k,
                              "more than one value (" + label_name(value_label) + " and " +
                                  label_name(*label) + ")");
        value_label = *label;
        value = &item;
        continue;
      }
      const unsigned bit = 1u << (*label - kMinLabel);
      if (seen & bit)
        return record_error(ErrorKind::kMalformed, k, "repeated label " + label_name(*label));
      seen |= bit;
      switch (*label) {
        case kBaseName:
        case kName:
        case kBaseUnit:
        case kUnit:
          if (item.type != cbor::Type::kText)
            return record_error(ErrorKind::kMalformed, k,
                                wrong_cbor_type(*label, item, "a text string").message);
          if (*label == kBaseName) base = item.text;
          if (*label == kName) name = item.text;
          break;
        case kBaseVersion:
          if (item.type != cbor::Type::kUnsigned)
            return record_error(ErrorKind::kMalformed, k,
                                wrong_cbor_type(*label, item, "an unsigned integer").message);
          break;
        default: {  // bt, t, ut
          auto number = json_number(*label, item);
          if (!number) return record_error(number.error().kind, k, number.error().message);
          const double seconds = json_detail::number_as_double(*number);
          if (!std::isfinite(seconds))
            return record_error(ErrorKind::kInvalidArgument, k,
                                label_name(*label) + " is not finite");
          if (*label == kBaseTime) base_time = seconds;
          if (*label == kTime) time = seconds;
          break;
        }
      }
    }
    if (std::optional<Error> e =
            on_record(k, std::string_view(base), name, value_label, value, base_time + time))
      return std::move(*e);
  }
  return {};
}

// Appends the records of `pack` to `records`, each a value at a leaf
// inside `request`.
Status leaf_records(const cbor::Item& pack, const Path& request, const ModelRegistry& models,
                    std::vector<json_detail::Record>& records) {
  return for_each_record(
      pack,
      [&](size_t k, std::string_view base, std::string_view name, int value_label,
          const cbor::Item* value, double time) -> std::optional<Error> {
        if (value == nullptr) return record_error(ErrorKind::kMalformed, k, "no value");
        auto leaf = json_detail::resolve_name(kFormat, k, base, name, request);
        if (!leaf) return leaf.error();
        const ResourceModel* model = codec_detail::value_model(models, *leaf);
        auto v = record_value(value_label, *value, model);
        if (!v)
          return record_error(v.error().kind, k, leaf->to_string() + ": " + v.error().message);
        records.push_back(json_detail::Record{*leaf, std::move(*v), time, k});
        return {};
      });
}

// The records of a composite pack (leaves anywhere under the root).
Result<std::vector<json_detail::Record>> composite_records(std::span<const uint8_t> payload,
                                                           const ModelRegistry& models) {
  auto doc = parse_pack(payload);
  if (!doc) return doc.error();
  std::vector<json_detail::Record> records;
  records.reserve(doc->items.size());
  if (Status s = leaf_records(*doc, Path(), models, records); !s) return s.error();
  return records;
}

}  // namespace

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.is_root())
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "cannot decode a payload for the root path");
  auto doc = parse_pack(payload);
  if (!doc) return doc.error();
  std::vector<json_detail::Record> records;
  records.reserve(doc->items.size());
  if (Status s = leaf_records(*doc, path, models, records); !s) return s.error();
  return json_detail::assemble(kFormat, path, std::move(records), models);
}

// ---- Composite operations ---------------------------------------------------------

Result<std::vector<uint8_t>> encode_paths(std::span<const Path> paths) {
  std::vector<uint8_t> out;
  cbor::append_array_head(out, paths.size());
  for (const Path& path : paths) {
    if (path.is_root())
      return format_error(ErrorKind::kInvalidArgument, kFormat,
                          "the root path cannot be listed in a composite request");
    cbor::append_map_head(out, 1);
    cbor::append_int(out, kName);
    cbor::append_text(out, path.to_string());
  }
  return out;
}

Result<std::vector<Path>> decode_paths(std::span<const uint8_t> payload) {
  auto doc = parse_pack(payload);
  if (!doc) return doc.error();
  std::vector<Path> paths;
  Status s = for_each_record(*doc,
                             [&](size_t k, std::string_view base, std::string_view name, int,
                                 const cbor::Item* value, double) -> std::optional<Error> {
                               if (value != nullptr)
                                 return record_error(ErrorKind::kMalformed, k,
                                                     "a value in a list of paths");
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
  std::vector<uint8_t> out;
  cbor::append_array_head(out, leaves->size());
  for (const PathValue& leaf : *leaves) {
    cbor::append_map_head(out, 2);
    cbor::append_int(out, kName);
    cbor::append_text(out, leaf.path.to_string());
    if (Status s = append_value(out, leaf.value); !s)
      return format_error(s.error().kind, kFormat,
                          leaf.path.to_string() + ": " + s.error().message);
  }
  return out;
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

}  // namespace fogm2m::lwm2m::senml_cbor
