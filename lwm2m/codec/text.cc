#include "lwm2m/codec/text.h"

#include <charconv>
#include <cmath>

#include "lwm2m/codec/base64.h"
#include "lwm2m/codec/common.h"

namespace fogm2m::lwm2m::text {

namespace {

using codec_detail::format_error;

constexpr std::string_view kFormat = "TEXT";

// Quotes `text` for an error message, cut to a readable length.
std::string quote(std::string_view text) {
  constexpr size_t kMax = 40;
  std::string q = "\"";
  q.append(text.substr(0, kMax));
  if (text.size() > kMax) q.append("...");
  q.push_back('"');
  return q;
}

Error not_a(std::string_view text, ResourceType type) {
  return make_error(
      ErrorKind::kMalformed,
      quote(text) + " is not " + (type == ResourceType::kInteger ? "an " : "a ") + to_string(type));
}

// Parses the whole of `text` as a T with from_chars; false on any leftover.
template <class T>
bool parse_whole(std::string_view text, T* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// Digits only (from_chars would accept a leading '-' for signed types, which
// is wanted there, but never '+' or spaces).
bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

bool parse_signed(std::string_view text, int64_t* out) {
  const std::string_view digits = !text.empty() && text[0] == '-' ? text.substr(1) : text;
  return all_digits(digits) && parse_whole(text, out);
}

// Decimal float text: digits, '.', exponent; no "inf", "nan", hex or '+' prefix.
bool parse_float(std::string_view text, double* out) {
  if (text.empty()) return false;
  for (char c : text) {
    const bool ok =
        (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
    if (!ok) return false;
  }
  if (text[0] == '+') return false;
  return parse_whole(text, out) && std::isfinite(*out);
}

}  // namespace

std::string format_double(double value) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "nan";  // cannot happen with 64 bytes
  return std::string(buf, ptr);
}

std::string format_object_link(ObjectLink link) {
  return std::to_string(link.object_id) + ":" + std::to_string(link.instance_id);
}

Result<ObjectLink> parse_object_link(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return not_a(text, ResourceType::kObjlnk);
  const std::string_view a = text.substr(0, colon);
  const std::string_view b = text.substr(colon + 1);
  uint16_t o = 0;
  uint16_t i = 0;
  if (!all_digits(a) || !all_digits(b) || !parse_whole(a, &o) || !parse_whole(b, &i))
    return not_a(text, ResourceType::kObjlnk);
  return ObjectLink{o, i};
}

Result<std::string> format_value(const Value& value) {
  struct Visitor {
    Result<std::string> operator()(std::monostate) const {
      return make_error(ErrorKind::kInvalidArgument, "no value to write (type none)");
    }
    Result<std::string> operator()(const std::string& s) const {
      if (!codec_detail::is_valid_utf8(s))
        return make_error(ErrorKind::kInvalidArgument, "string value is not valid UTF-8");
      return s;
    }
    Result<std::string> operator()(int64_t v) const { return std::to_string(v); }
    Result<std::string> operator()(uint64_t v) const { return std::to_string(v); }
    Result<std::string> operator()(double v) const {
      if (!std::isfinite(v))
        return make_error(ErrorKind::kInvalidArgument,
                          "float value " + format_double(v) + " is not finite");
      return format_double(v);
    }
    Result<std::string> operator()(bool v) const { return std::string(v ? "1" : "0"); }
    Result<std::string> operator()(const Opaque& o) const {
      return base64::encode(o, base64::Alphabet::kStandard, true);
    }
    Result<std::string> operator()(Time t) const { return std::to_string(t.seconds); }
    Result<std::string> operator()(ObjectLink l) const { return format_object_link(l); }
    Result<std::string> operator()(const CoreLink& l) const {
      if (!codec_detail::is_valid_utf8(l.text))
        return make_error(ErrorKind::kInvalidArgument, "core link value is not valid UTF-8");
      return l.text;
    }
  };
  return std::visit(Visitor{}, value.storage());
}

Result<Value> parse_value(std::string_view text, ResourceType type) {
  switch (type) {
    case ResourceType::kNone:
    case ResourceType::kString:
      if (!codec_detail::is_valid_utf8(text))
        return make_error(ErrorKind::kMalformed, "string is not valid UTF-8");
      return Value(std::string(text));
    case ResourceType::kCorelnk:
      if (!codec_detail::is_valid_utf8(text))
        return make_error(ErrorKind::kMalformed, "core link is not valid UTF-8");
      return Value(CoreLink{std::string(text)});
    case ResourceType::kInteger: {
      int64_t v = 0;
      if (!parse_signed(text, &v)) return not_a(text, type);
      return Value(v);
    }
    case ResourceType::kTime: {
      int64_t v = 0;
      if (!parse_signed(text, &v)) return not_a(text, type);
      return Value(Time{v});
    }
    case ResourceType::kUnsignedInteger: {
      uint64_t v = 0;
      if (!all_digits(text) || !parse_whole(text, &v)) return not_a(text, type);
      return Value(v);
    }
    case ResourceType::kFloat: {
      double v = 0;
      if (!parse_float(text, &v)) return not_a(text, type);
      return Value(v);
    }
    case ResourceType::kBoolean:
      if (text == "1") return Value(true);
      if (text == "0") return Value(false);
      return not_a(text, type);
    case ResourceType::kOpaque: {
      auto bytes = base64::decode(text, base64::Alphabet::kStandard, base64::Padding::kOptional);
      if (!bytes) return bytes.error();
      return Value(std::move(bytes).value());
    }
    case ResourceType::kObjlnk: {
      auto link = parse_object_link(text);
      if (!link) return link.error();
      return Value(*link);
    }
  }
  return make_error(ErrorKind::kUnsupported, "unknown resource type");
}

Result<std::vector<uint8_t>> encode(const Path& path, const Node& node) {
  if (Status s = codec_detail::validate_node(kFormat, path, node); !s) return s.error();
  auto value = codec_detail::single_value(kFormat, path, node);
  if (!value) return value.error();
  auto text = format_value(**value);
  if (!text)
    return format_error(text.error().kind, kFormat, path.to_string() + ": " + text.error().message);
  return std::vector<uint8_t>(text->begin(), text->end());
}

Result<Node> decode(const Path& path, std::span<const uint8_t> payload,
                    const ModelRegistry& models) {
  if (path.depth() < 3)
    return format_error(ErrorKind::kUnsupported, kFormat,
                        "carries single values only, not " + path.to_string());
  const ResourceModel* model = codec_detail::value_model(models, path);
  if (Status s = codec_detail::check_multiplicity(kFormat, model, path); !s) return s.error();
  const ResourceType type = model ? model->type : ResourceType::kString;
  const std::string_view body(reinterpret_cast<const char*>(payload.data()), payload.size());
  auto value = parse_value(body, type);
  if (!value)
    return format_error(value.error().kind, kFormat,
                        path.to_string() + ": " + value.error().message);
  if (path.is_resource()) return Node{Resource::single(path.resource_id(), std::move(*value))};
  return Node{ResourceInstance{path.resource_instance_id(), std::move(*value)}};
}

}  // namespace fogm2m::lwm2m::text
