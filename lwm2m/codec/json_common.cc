#include "lwm2m/codec/json_common.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "lwm2m/codec/base64.h"
#include "lwm2m/codec/common.h"
#include "lwm2m/codec/text.h"

namespace fogm2m::lwm2m::json_detail {

using codec_detail::format_error;

std::string record_label(size_t record) {
  return "record " + std::to_string(record);
}

namespace {

// 2^63 and 2^64 as doubles, exact.
constexpr double kTwo63 = 9223372036854775808.0;
constexpr double kTwo64 = 18446744073709551616.0;

Result<int64_t> to_int64(const boost::json::value& j) {
  if (const auto* i = j.if_int64()) return *i;
  if (const auto* u = j.if_uint64()) {
    if (*u > static_cast<uint64_t>(INT64_MAX))
      return make_error(ErrorKind::kInvalidArgument,
                        std::to_string(*u) + " is out of the Integer range");
    return static_cast<int64_t>(*u);
  }
  const double d = j.get_double();
  if (!std::isfinite(d) || std::trunc(d) != d)
    return make_error(ErrorKind::kTypeMismatch, text::format_double(d) + " is not an integer");
  if (d < -kTwo63 || d >= kTwo63)
    return make_error(ErrorKind::kInvalidArgument,
                      text::format_double(d) + " is out of the Integer range");
  return static_cast<int64_t>(d);
}

Result<uint64_t> to_uint64(const boost::json::value& j) {
  if (const auto* i = j.if_int64()) {
    if (*i < 0)
      return make_error(ErrorKind::kInvalidArgument,
                        std::to_string(*i) + " is negative, not an Unsigned Integer");
    return static_cast<uint64_t>(*i);
  }
  if (const auto* u = j.if_uint64()) return *u;
  const double d = j.get_double();
  if (!std::isfinite(d) || std::trunc(d) != d)
    return make_error(ErrorKind::kTypeMismatch, text::format_double(d) + " is not an integer");
  if (d < 0 || d >= kTwo64)
    return make_error(ErrorKind::kInvalidArgument,
                      text::format_double(d) + " is out of the Unsigned Integer range");
  return static_cast<uint64_t>(d);
}

// A Boost.JSON parse handler that builds a value like boost::json::parser
// does, with two differences: doubles are converted from their text with
// std::from_chars (correctly rounded; Boost 1.81's own conversion is not for
// all inputs, which breaks float round trips), and an object that repeats a
// key is an error (boost::json::parser silently keeps one of them).
struct PreciseHandler {
  static constexpr size_t max_object_size = boost::json::object::max_size();
  static constexpr size_t max_array_size = boost::json::array::max_size();
  static constexpr size_t max_key_size = boost::json::string::max_size();
  static constexpr size_t max_string_size = boost::json::string::max_size();
  // Neither JSON format has objects with more than a dozen keys; the cap keeps
  // the duplicate check linear.
  static constexpr size_t kMaxKeys = 64;

  using ec_t = boost::json::error_code;
  using sv_t = boost::json::string_view;

  boost::json::value_stack stack;
  std::string number;                          // parts of the number being read
  std::string key;                             // parts of the key being read
  std::vector<std::vector<std::string>> keys;  // keys of each open object
  std::string problem;                         // set when we stop the parser

  bool fail(ec_t& ec, std::string why) {
    problem = std::move(why);
    ec = boost::json::error::syntax;
    return false;
  }

  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_object_begin(ec_t&) {
    keys.emplace_back();
    return true;
  }
  bool on_object_end(size_t n, ec_t&) {
    keys.pop_back();
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(size_t n, ec_t&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(sv_t s, size_t, ec_t&) {
    key.append(s.data(), s.size());
    stack.push_chars(s);
    return true;
  }
  bool on_key(sv_t s, size_t, ec_t& ec) {
    key.append(s.data(), s.size());
    auto& seen = keys.back();
    if (seen.size() >= kMaxKeys)
      return fail(ec, "an object has more than " + std::to_string(kMaxKeys) + " keys");
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return fail(ec, "key \"" + key + "\" appears twice in one object");
    seen.push_back(std::move(key));
    key.clear();
    stack.push_key(s);
    return true;
  }
  bool on_string_part(sv_t s, size_t, ec_t&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(sv_t s, size_t, ec_t&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(sv_t s, ec_t&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, sv_t, ec_t&) {
    number.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(uint64_t u, sv_t, ec_t&) {
    number.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, sv_t s, ec_t& ec) {
    number.append(s.data(), s.size());
    double exact = 0;
    const char* end = number.data() + number.size();
    auto [ptr, err] = std::from_chars(number.data(), end, exact);
    // Out of range: an overflow is an error (JSON has no infinity), an
    // underflow keeps Boost's value (zero or a denormal).
    if (err == std::errc() && ptr == end) d = exact;
    if (!std::isfinite(d)) return fail(ec, "number " + number + " is out of the double range");
    number.clear();
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, ec_t&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(ec_t&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(sv_t, ec_t&) { return true; }
  bool on_comment(sv_t, ec_t&) { return true; }
};

}  // namespace

Result<boost::json::value> parse(std::string_view format, std::span<const uint8_t> payload) {
  boost::json::basic_parser<PreciseHandler> parser(boost::json::parse_options{});
  PreciseHandler& h = parser.handler();
  h.stack.reset();
  boost::json::error_code ec;
  const char* data = reinterpret_cast<const char*>(payload.data());
  const size_t used = parser.write_some(false, data, payload.size(), ec);
  if (!h.problem.empty())
    return format_error(ErrorKind::kMalformed, format, "invalid JSON: " + h.problem);
  if (!ec && used < payload.size()) ec = boost::json::error::extra_data;
  if (ec) return format_error(ErrorKind::kMalformed, format, "invalid JSON: " + ec.message());
  return h.stack.release();
}

Result<Path> parse_record_name(std::string_view format, size_t record, std::string_view base,
                               std::string_view name) {
  std::string full;
  full.reserve(base.size() + name.size() + 1);
  full.append(base);
  full.append(name);
  if (full.empty())
    return format_error(ErrorKind::kMalformed, format, record_label(record) + " has no name");
  if (full[0] != '/') full.insert(full.begin(), '/');
  auto path = Path::parse(full);
  if (!path)
    return format_error(
        ErrorKind::kMalformed, format,
        record_label(record) + ": name is not an LwM2M path: " + path.error().message);
  return path;
}

Result<Path> resolve_name(std::string_view format, size_t record, std::string_view base,
                          std::string_view name, const Path& request) {
  auto path = parse_record_name(format, record, base, name);
  if (!path) return path;
  if (path->depth() < 3)
    return format_error(ErrorKind::kMalformed, format,
                        record_label(record) + ": " + path->to_string() +
                            " names no resource or resource instance");
  if (!path->starts_with(request))
    return format_error(ErrorKind::kInvalidArgument, format,
                        record_label(record) + ": " + path->to_string() +
                            " is outside the request path " + request.to_string());
  return *path;
}

Result<Value> number_value(const boost::json::value& number, const ResourceModel* model) {
  if (model == nullptr) {
    if (const auto* i = number.if_int64()) return Value(*i);
    if (const auto* u = number.if_uint64()) return Value(*u);
    const double d = number.get_double();
    if (!std::isfinite(d)) return make_error(ErrorKind::kInvalidArgument, "number is not finite");
    return Value(d);
  }
  switch (model->type) {
    case ResourceType::kInteger: {
      auto i = to_int64(number);
      if (!i) return i.error();
      return Value(*i);
    }
    case ResourceType::kTime: {
      auto i = to_int64(number);
      if (!i) return i.error();
      return Value(Time{*i});
    }
    case ResourceType::kUnsignedInteger: {
      auto u = to_uint64(number);
      if (!u) return u.error();
      return Value(*u);
    }
    case ResourceType::kFloat: {
      const double d = number_as_double(number);
      if (!std::isfinite(d)) return make_error(ErrorKind::kInvalidArgument, "number is not finite");
      return Value(d);
    }
    default:
      return make_error(ErrorKind::kTypeMismatch, std::string("a number given for a ") +
                                                      to_string(model->type) + " resource");
  }
}

double number_as_double(const boost::json::value& number) {
  if (const auto* i = number.if_int64()) return static_cast<double>(*i);
  if (const auto* u = number.if_uint64()) return static_cast<double>(*u);
  return number.get_double();
}

Result<Node> assemble(std::string_view format, const Path& request, std::vector<Record> records,
                      const ModelRegistry& models) {
  // Group equal paths (stable: payload order within a group), then keep the newest.
  std::stable_sort(records.begin(), records.end(),
                   [](const Record& a, const Record& b) { return a.path < b.path; });
  std::vector<PathValue> leaves;
  leaves.reserve(records.size());
  for (size_t k = 0; k < records.size();) {
    size_t end = k + 1;
    size_t best = k;
    size_t tie = k;  // != best when another record has the same, greatest time
    for (; end < records.size() && records[end].path == records[k].path; ++end) {
      if (records[end].time > records[best].time) {
        best = end;
        tie = end;
      } else if (records[end].time == records[best].time) {
        tie = end;
      }
    }
    if (tie != best)
      return format_error(ErrorKind::kMalformed, format,
                          "records " + std::to_string(records[best].index) + " and " +
                              std::to_string(records[tie].index) + " both give " +
                              records[k].path.to_string() + " at the same time");
    leaves.push_back(PathValue{records[best].path, std::move(records[best].value)});
    k = end;
  }

  // Insert the sorted, unique leaves into one object; children come out sorted.
  Object object{request.object_id(), {}};
  for (auto& leaf : leaves) {
    const ResourceModel* model = codec_detail::value_model(models, leaf.path);
    if (Status s = codec_detail::check_multiplicity(format, model, leaf.path); !s) return s.error();
    const Path& p = leaf.path;
    if (object.instances.empty() || object.instances.back().id != p.instance_id())
      object.instances.push_back(ObjectInstance{p.instance_id(), {}});
    auto& resources = object.instances.back().resources;
    const bool fresh = resources.empty() || resources.back().id != p.resource_id();
    if (p.depth() == 3) {
      if (!fresh)  // only possible as a duplicate, which the grouping above removed
        return format_error(ErrorKind::kMalformed, format, "duplicate " + p.to_string());
      resources.push_back(Resource::single(p.resource_id(), std::move(leaf.value)));
      continue;
    }
    if (fresh) {
      resources.push_back(Resource::multi(p.resource_id(), {}));
    } else if (!resources.back().multiple) {
      return format_error(
          ErrorKind::kMalformed, format,
          p.parent().to_string() + " is given both as a single value and as resource instances");
    }
    resources.back().instances.push_back(
        ResourceInstance{p.resource_instance_id(), std::move(leaf.value)});
  }

  switch (request.depth()) {
    case 1:
      return Node{std::move(object)};
    case 2:
      if (object.instances.empty()) return Node{ObjectInstance{request.instance_id(), {}}};
      return Node{std::move(object.instances.front())};
    case 3: {
      if (!object.instances.empty())
        return Node{std::move(object.instances.front().resources.front())};
      const ResourceModel* model = codec_detail::value_model(models, request);
      if (model != nullptr && model->multiple)
        return Node{Resource::multi(request.resource_id(), {})};
      return format_error(ErrorKind::kMalformed, format, "no value for " + request.to_string());
    }
    case 4: {
      if (!object.instances.empty()) {
        auto& r = object.instances.front().resources.front();
        return Node{std::move(r.instances.front())};
      }
      return format_error(ErrorKind::kMalformed, format, "no value for " + request.to_string());
    }
    default:
      return format_error(ErrorKind::kUnsupported, format,
                          "cannot decode a payload for the root path");
  }
}

void append_string(std::string& out, std::string_view text) {
  out += boost::json::serialize(boost::json::string_view(text.data(), text.size()));
}

Status append_value(std::string& out, const Value& v, const ValueKeys& keys) {
  auto key = [&out](std::string_view k) {
    out += '"';
    out += k;
    out += "\":";
  };
  switch (v.type()) {
    case ResourceType::kInteger:
    case ResourceType::kUnsignedInteger:
    case ResourceType::kFloat:
    case ResourceType::kTime:
      key(keys.number);
      return append_number(out, v);
    case ResourceType::kBoolean:
      key(keys.boolean);
      out += v.as<bool>() ? "true" : "false";
      return {};
    case ResourceType::kString:
      key(keys.string);
      append_string(out, v.as<std::string>());
      return {};
    case ResourceType::kCorelnk:
      key(keys.string);
      append_string(out, v.as<CoreLink>().text);
      return {};
    case ResourceType::kOpaque:
      key(keys.opaque);
      append_string(out, keys.opaque_url_alphabet
                             ? base64::encode(v.as<Opaque>(), base64::Alphabet::kUrl, false)
                             : base64::encode(v.as<Opaque>(), base64::Alphabet::kStandard, true));
      return {};
    case ResourceType::kObjlnk:
      key(keys.object_link);
      append_string(out, text::format_object_link(v.as<ObjectLink>()));
      return {};
    case ResourceType::kNone:
      break;
  }
  return make_error(ErrorKind::kInvalidArgument, "no value (type none)");
}

Status append_number(std::string& out, const Value& value) {
  char buf[32];
  switch (value.type()) {
    case ResourceType::kInteger: {
      auto r = std::to_chars(buf, buf + sizeof buf, value.as<int64_t>());
      out.append(buf, r.ptr);
      return {};
    }
    case ResourceType::kTime: {
      auto r = std::to_chars(buf, buf + sizeof buf, value.as<Time>().seconds);
      out.append(buf, r.ptr);
      return {};
    }
    case ResourceType::kUnsignedInteger: {
      auto r = std::to_chars(buf, buf + sizeof buf, value.as<uint64_t>());
      out.append(buf, r.ptr);
      return {};
    }
    case ResourceType::kFloat: {
      const double d = value.as<double>();
      if (!std::isfinite(d))
        return make_error(ErrorKind::kInvalidArgument,
                          "float value " + text::format_double(d) + " is not finite");
      const std::string t = text::format_double(d);
      out += t;
      if (t.find_first_of(".eE") == std::string::npos) out += ".0";
      return {};
    }
    default:
      return make_error(ErrorKind::kInvalidArgument,
                        std::string(to_string(value.type())) + " is not a number");
  }
}

std::string base_name(const Path& request, bool single_value) {
  std::string bn = request.to_string();
  if (!single_value && !request.is_root()) bn.push_back('/');
  return bn;
}

std::string relative_name(const Path& request, const Path& leaf) {
  std::string n;
  for (int level = request.depth(); level < leaf.depth(); ++level) {
    if (!n.empty()) n.push_back('/');
    n += std::to_string(leaf.id(level));
  }
  return n;
}

Status check_leaf(std::string_view format, const Path& leaf, const Value& value) {
  if (value.is_none())
    return format_error(ErrorKind::kInvalidArgument, format,
                        leaf.to_string() + " has no value (type none)");
  const std::string* s = value.get_if<std::string>();
  if (s == nullptr && value.is<CoreLink>()) s = &value.as<CoreLink>().text;
  if (s != nullptr && !codec_detail::is_valid_utf8(*s))
    return format_error(ErrorKind::kInvalidArgument, format,
                        leaf.to_string() + ": string value is not valid UTF-8");
  return {};
}

}  // namespace fogm2m::lwm2m::json_detail
