// Scenario files: YAML -> schema::Scenario through protobuf reflection, then
// the checks of values no type can express (nodes >= 1, rate > 0, ...).
//
// Reading happens in two passes over one Loader: parse() maps keys to fields
// and remembers where each value stood (marks_, keyed by a field path such
// as "defaults.nodes", "sweep.devices[1]", "mix[0].weight"); validate() then
// checks the filled message and reports a bad value at the line it came from.
#include "scenario/loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "bus/request.h"
#include "lwm2m/content_format.h"
#include "lwm2m/path.h"
#include "scenario/faults.h"

namespace fogm2m::scenario {
namespace {

namespace pb = google::protobuf;

// Ranges longer than this are a typo (step 0.001 instead of 1), not a sweep.
constexpr size_t kMaxRangeValues = 100000;

// The bus kinds a scenario's mix may ask for: all but sec_info, which
// manages keys rather than talking to a device, and the composite kinds,
// which a mix entry (one path) cannot describe.
bool mixable(bus::RequestKind k) {
  return k != bus::RequestKind::kSecInfo && !bus::is_composite(k);
}

std::vector<std::string> request_kinds() {
  std::vector<std::string> kinds;
  for (bus::RequestKind k : bus::kAllRequestKinds)
    if (mixable(k)) kinds.emplace_back(bus::to_string(k));
  return kinds;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

// "Mode" -> "MODE_", "Arrival" -> "ARRIVAL_": the prefix proto enum values carry.
std::string enum_prefix(const pb::EnumDescriptor* e) {
  std::string out;
  for (char c : e->name()) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '_';
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out + "_";
}

// The YAML spelling of an enum value: "MODE_EMULATE" -> "emulate".
std::string enum_key(const pb::EnumValueDescriptor* v) {
  std::string name = v->name();
  const std::string prefix = enum_prefix(v->type());
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

const char* kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a scalar";
  }
}

// One scalar read for a field, before it is stored through reflection.
struct Scalar {
  uint64_t u = 0;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::string s;
  int enum_number = 0;
};

std::string stem_of(const std::string& file) {
  std::string base =
      file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
  const auto dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base;
}

std::string format_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  Result<schema::Scenario> load(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      return error_at_line(e.mark.line + 1, e.msg);
    } catch (const YAML::Exception& e) {
      return error_at_line(e.mark.line + 1, e.msg);
    }
    if (!root.IsDefined() || root.IsNull())
      return error_at_line(1, "empty scenario file: expected a map of scenario keys");
    if (!root.IsMap())
      return error_at(root.Mark(),
                      std::string("expected a map of scenario keys, got ") + kind_of(root));

    schema::Scenario s;
    *s.mutable_defaults() = default_point();
    s.set_warmup_s(5);
    s.set_window_s(60);
    s.set_observe_all(true);
    s.set_observe_path("/3313/0");
    s.set_arrival(schema::ARRIVAL_CONSTANT);
    s.set_repetitions(1);
    s.set_seed(1);
    s.set_request_timeout_s(5);
    scenario_ = &s;

    try {
      // `points` start from the resolved defaults, which may come later in
      // the file: parse them last.
      YAML::Node points;
      if (Status st = parse_map(root, &s, "", "points", &points); !st) return st.error();
      if (key_marks_.count("points")) {
        if (Status st =
                parse_field(points, &s, s.GetDescriptor()->FindFieldByName("points"), "points");
            !st)
          return st.error();
      }
    } catch (const YAML::Exception& e) {
      return error_at(e.mark, e.msg);
    }

    if (s.name().empty()) s.set_name(stem_of(file_));
    if (s.mix_size() == 0 && !key_marks_.count("mix")) {
      auto* read = s.add_mix();
      read->set_kind("read");
      read->set_path("/3313/0/{xyz}");
      read->set_weight(1);
    }
    if (s.output_dir().empty()) s.set_output_dir("out/" + s.name());
    if (Status st = validate(s); !st) return st.error();
    return s;
  }

 private:
  // --- errors ---------------------------------------------------------------

  Error error_at_line(int line, const std::string& message,
                      ErrorKind kind = ErrorKind::kMalformed) const {
    return make_error(kind, file_ + ":" + std::to_string(line < 1 ? 1 : line) + ": " + message);
  }
  Error error_at(const YAML::Mark& mark, const std::string& message,
                 ErrorKind kind = ErrorKind::kMalformed) const {
    return error_at_line(mark.line + 1, message, kind);
  }
  // An impossible value at the field path `path` (or, when that value came
  // from no line of the file, at its nearest parent that did).
  Error invalid(const std::string& path, const std::string& message) const {
    std::string p = path;
    while (!p.empty()) {
      if (auto it = marks_.find(p); it != marks_.end())
        return error_at(it->second, message, ErrorKind::kInvalidArgument);
      const auto cut = p.find_last_of(".[");
      p = cut == std::string::npos ? "" : p.substr(0, cut);
    }
    return error_at_line(1, message, ErrorKind::kInvalidArgument);
  }

  static YAML::Mark mark_or(const YAML::Node& n, const YAML::Mark& fallback) {
    const YAML::Mark m = n.Mark();
    return m.is_null() || m.line < 0 ? fallback : m;
  }

  // --- parsing ----------------------------------------------------------------

  static std::string child(const std::string& path, const std::string& name) {
    return path.empty() ? name : path + "." + name;
  }

  // Fills `msg` from the map `node`, field by field; absent keys keep the
  // message's current values. The key `deferred` (if any) is not parsed but
  // handed back in `*deferred_value`.
  Status parse_map(const YAML::Node& node, pb::Message* msg, const std::string& path,
                   const char* deferred = nullptr, YAML::Node* deferred_value = nullptr) {
    const pb::Descriptor* d = msg->GetDescriptor();
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: yaml-cpp's iterator hands out a temporary pair, references
      // into it would dangle.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar())
        return error_at(key.Mark(), std::string("a key must be a name, got ") + kind_of(key));
      const std::string name = key.Scalar();
      if (!seen.insert(name).second) return error_at(key.Mark(), "duplicate key " + quoted(name));
      const pb::FieldDescriptor* f = d->FindFieldByName(name);
      if (f == nullptr) {
        std::vector<std::string> known;
        for (int i = 0; i < d->field_count(); ++i) known.push_back(d->field(i)->name());
        return error_at(key.Mark(), "unknown key " + quoted(name) +
                                        (path.empty() ? "" : " in " + path) +
                                        " (known keys: " + join(known) + ")");
      }
      const std::string field_path = child(path, name);
      key_marks_[field_path] = key.Mark();
      // A null value's mark is where the next token starts: use the key's line.
      marks_[field_path] = value.IsNull() ? key.Mark() : mark_or(value, key.Mark());
      if (deferred != nullptr && name == deferred) {
        *deferred_value = value;
        continue;
      }
      if (Status st = parse_field(value, msg, f, field_path); !st) return st;
    }
    return {};
  }

  Status parse_field(const YAML::Node& value, pb::Message* msg, const pb::FieldDescriptor* f,
                     const std::string& path) {
    const YAML::Mark where = marks_.count(path) ? marks_[path] : value.Mark();
    const pb::Reflection* r = msg->GetReflection();
    if (f->is_repeated()) return parse_repeated(value, msg, f, path, where);
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!value.IsMap())
        return error_at(where, f->name() + ": expected a map of keys, got " + kind_of(value));
      return parse_map(value, r->MutableMessage(msg, f), path);
    }
    auto scalar = parse_scalar(value, f, where);
    if (!scalar) return scalar.error();
    set_scalar(msg, f, *scalar);
    return {};
  }

  Status parse_repeated(const YAML::Node& value, pb::Message* msg, const pb::FieldDescriptor* f,
                        const std::string& path, const YAML::Mark& where) {
    const pb::Reflection* r = msg->GetReflection();
    r->ClearField(msg, f);
    const bool numeric = f->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE &&
                         f->cpp_type() != pb::FieldDescriptor::CPPTYPE_BOOL &&
                         f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING &&
                         f->cpp_type() != pb::FieldDescriptor::CPPTYPE_ENUM;
    if (value.IsMap() && numeric) return parse_range(value, msg, f, path, where);
    if (!value.IsSequence()) {
      return error_at(where, f->name() + ": expected a list" +
                                 std::string(numeric ? " or a range {from, to, step}" : "") +
                                 ", got " + kind_of(value));
    }
    if (value.size() == 0)
      return error_at(where,
                      f->name() + ": empty list (give at least one value, or leave the key out)");
    for (size_t i = 0; i < value.size(); ++i) {
      const YAML::Node item = value[i];
      const std::string item_path = path + "[" + std::to_string(i) + "]";
      const YAML::Mark item_mark = mark_or(item, where);
      marks_[item_path] = item_mark;
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        pb::Message* element = r->AddMessage(msg, f);
        init_element(f, element);
        if (!item.IsMap())
          return error_at(item_mark,
                          f->name() + ": each entry must be a map of keys, got " + kind_of(item));
        if (Status st = parse_map(item, element, item_path); !st) return st;
      } else {
        auto scalar = parse_scalar(item, f, item_mark);
        if (!scalar) return scalar.error();
        add_scalar(msg, f, *scalar);
      }
    }
    return {};
  }

  // {from: A, to: B, step: S}: A, A+S, ... up to and including B, which the
  // steps must land on.
  Status parse_range(const YAML::Node& value, pb::Message* msg, const pb::FieldDescriptor* f,
                     const std::string& path, const YAML::Mark& where) {
    std::map<std::string, double> parts;
    std::map<std::string, YAML::Mark> part_marks;
    for (auto it = value.begin(); it != value.end(); ++it) {
      const YAML::Node key = it->first;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      if (name != "from" && name != "to" && name != "step")
        return error_at(key.Mark(), f->name() + ": unknown key " + quoted(name) +
                                        " in a range (known keys: from, to, step)");
      if (parts.count(name)) return error_at(key.Mark(), "duplicate key " + quoted(name));
      const YAML::Node part = it->second;
      const YAML::Mark m = mark_or(part, key.Mark());
      auto scalar = parse_scalar(part, f, m, name);
      if (!scalar) return scalar.error();
      parts[name] = as_double(f, *scalar);
      part_marks[name] = m;
    }
    for (const char* needed : {"from", "to", "step"})
      if (!parts.count(needed))
        return error_at(where,
                        f->name() + ": a range needs from, to and step; " + needed + " is missing");
    const double from = parts["from"], to = parts["to"], step = parts["step"];
    if (step <= 0)
      return error_at(part_marks["step"],
                      f->name() + ": range step must be > 0, got " + format_number(step),
                      ErrorKind::kInvalidArgument);
    if (to < from)
      return error_at(part_marks["to"],
                      f->name() + ": range never reaches to " + format_number(to) + " from " +
                          format_number(from),
                      ErrorKind::kInvalidArgument);
    const double steps = (to - from) / step;
    const double whole = std::round(steps);
    if (std::fabs(steps - whole) > 1e-9 * std::max(1.0, steps))
      return error_at(part_marks["step"],
                      f->name() + ": range from " + format_number(from) + " with step " +
                          format_number(step) + " does not end on " + format_number(to),
                      ErrorKind::kInvalidArgument);
    if (whole + 1 > static_cast<double>(kMaxRangeValues))
      return error_at(part_marks["step"],
                      f->name() + ": range has " + format_number(whole + 1) +
                          " values, more than " + std::to_string(kMaxRangeValues),
                      ErrorKind::kInvalidArgument);
    const pb::Reflection* r = msg->GetReflection();
    for (size_t i = 0; i <= static_cast<size_t>(whole); ++i) {
      const double v = i == static_cast<size_t>(whole) ? to : from + static_cast<double>(i) * step;
      marks_[path + "[" + std::to_string(i) + "]"] = where;
      switch (f->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_UINT32:
          r->AddUInt32(msg, f, static_cast<uint32_t>(std::llround(v)));
          break;
        case pb::FieldDescriptor::CPPTYPE_UINT64:
          r->AddUInt64(msg, f, static_cast<uint64_t>(std::llround(v)));
          break;
        case pb::FieldDescriptor::CPPTYPE_INT32:
          r->AddInt32(msg, f, static_cast<int32_t>(std::llround(v)));
          break;
        case pb::FieldDescriptor::CPPTYPE_INT64:
          r->AddInt64(msg, f, std::llround(v));
          break;
        case pb::FieldDescriptor::CPPTYPE_FLOAT:
          r->AddFloat(msg, f, static_cast<float>(v));
          break;
        default:
          r->AddDouble(msg, f, v);
          break;
      }
    }
    return {};
  }

  static double as_double(const pb::FieldDescriptor* f, const Scalar& s) {
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_UINT32:
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        return static_cast<double>(s.u);
      case pb::FieldDescriptor::CPPTYPE_INT32:
      case pb::FieldDescriptor::CPPTYPE_INT64:
        return static_cast<double>(s.i);
      default:
        return s.d;
    }
  }

  // Reads one scalar of the field's type. `label` names it in messages
  // (default: the field name).
  Result<Scalar> parse_scalar(const YAML::Node& node, const pb::FieldDescriptor* f,
                              const YAML::Mark& where,
                              const std::string& label_override = "") const {
    const std::string label = label_override.empty() ? f->name() : f->name() + "." + label_override;
    const YAML::Mark m = node.IsNull() ? where : mark_or(node, where);
    if (node.IsNull() && f->cpp_type() != pb::FieldDescriptor::CPPTYPE_STRING)
      return error_at(m, label + ": missing value");
    if (!node.IsScalar() && !node.IsNull())
      return error_at(m, label + ": expected a single value, got " + kind_of(node));
    const std::string text = node.IsNull() ? "" : node.Scalar();
    Scalar out;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_UINT32:
      case pb::FieldDescriptor::CPPTYPE_UINT64: {
        const uint64_t max = f->cpp_type() == pb::FieldDescriptor::CPPTYPE_UINT32
                                 ? std::numeric_limits<uint32_t>::max()
                                 : std::numeric_limits<uint64_t>::max();
        if (!text.empty() && text[0] == '-' &&
            text.find_first_not_of("0123456789", 1) == std::string::npos && text.size() > 1)
          return error_at(m, label + ": must not be negative, got " + text,
                          ErrorKind::kInvalidArgument);
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.u);
        if (text.empty() || ec == std::errc::invalid_argument || end != text.data() + text.size())
          return error_at(m, label + ": expected a non-negative integer, got " + quoted(text));
        if (ec == std::errc::result_out_of_range || out.u > max)
          return error_at(
              m, label + ": " + text + " is too large (at most " + std::to_string(max) + ")",
              ErrorKind::kInvalidArgument);
        return out;
      }
      case pb::FieldDescriptor::CPPTYPE_INT32:
      case pb::FieldDescriptor::CPPTYPE_INT64: {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.i);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size())
          return error_at(m, label + ": expected an integer, got " + quoted(text));
        if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_INT32 &&
            (out.i > std::numeric_limits<int32_t>::max() ||
             out.i < std::numeric_limits<int32_t>::min()))
          return error_at(m, label + ": " + text + " is out of range", ErrorKind::kInvalidArgument);
        return out;
      }
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      case pb::FieldDescriptor::CPPTYPE_FLOAT: {
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out.d);
        if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
            !std::isfinite(out.d))
          return error_at(m, label + ": expected a number, got " + quoted(text));
        return out;
      }
      case pb::FieldDescriptor::CPPTYPE_BOOL: {
        if (text == "true" || text == "yes" || text == "on") {
          out.b = true;
        } else if (text == "false" || text == "no" || text == "off") {
          out.b = false;
        } else {
          return error_at(m, label + ": expected true or false, got " + quoted(text));
        }
        return out;
      }
      case pb::FieldDescriptor::CPPTYPE_ENUM: {
        const pb::EnumDescriptor* e = f->enum_type();
        std::vector<std::string> names;
        for (int i = 0; i < e->value_count(); ++i) {
          const pb::EnumValueDescriptor* v = e->value(i);
          names.push_back(enum_key(v));
          if (text == enum_key(v) || text == v->name()) {
            out.enum_number = v->number();
            return out;
          }
        }
        return error_at(
            m, label + ": unknown value " + quoted(text) + " (one of: " + join(names) + ")");
      }
      case pb::FieldDescriptor::CPPTYPE_STRING:
        out.s = text;
        return out;
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
    return error_at(m, label + ": unsupported field type");
  }

  static void set_scalar(pb::Message* msg, const pb::FieldDescriptor* f, const Scalar& s) {
    const pb::Reflection* r = msg->GetReflection();
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        r->SetUInt32(msg, f, static_cast<uint32_t>(s.u));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        r->SetUInt64(msg, f, s.u);
        break;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        r->SetInt32(msg, f, static_cast<int32_t>(s.i));
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        r->SetInt64(msg, f, s.i);
        break;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        r->SetDouble(msg, f, s.d);
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        r->SetFloat(msg, f, static_cast<float>(s.d));
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        r->SetBool(msg, f, s.b);
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        r->SetEnumValue(msg, f, s.enum_number);
        break;
      case pb::FieldDescriptor::CPPTYPE_STRING:
        r->SetString(msg, f, s.s);
        break;
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  static void add_scalar(pb::Message* msg, const pb::FieldDescriptor* f, const Scalar& s) {
    const pb::Reflection* r = msg->GetReflection();
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        r->AddUInt32(msg, f, static_cast<uint32_t>(s.u));
        break;
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        r->AddUInt64(msg, f, s.u);
        break;
      case pb::FieldDescriptor::CPPTYPE_INT32:
        r->AddInt32(msg, f, static_cast<int32_t>(s.i));
        break;
      case pb::FieldDescriptor::CPPTYPE_INT64:
        r->AddInt64(msg, f, s.i);
        break;
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        r->AddDouble(msg, f, s.d);
        break;
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        r->AddFloat(msg, f, static_cast<float>(s.d));
        break;
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        r->AddBool(msg, f, s.b);
        break;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        r->AddEnumValue(msg, f, s.enum_number);
        break;
      case pb::FieldDescriptor::CPPTYPE_STRING:
        r->AddString(msg, f, s.s);
        break;
      case pb::FieldDescriptor::CPPTYPE_MESSAGE:
        break;
    }
  }

  // New entries of a list start from their defaults: an explicit point from
  // the scenario's defaults, a request of the mix with weight 1.
  void init_element(const pb::FieldDescriptor* f, pb::Message* element) const {
    if (f->containing_type() == schema::Scenario::descriptor() && f->name() == "points") {
      element->CopyFrom(scenario_->defaults());
    } else if (auto* spec = dynamic_cast<schema::RequestSpec*>(element)) {
      spec->set_weight(1);
    }
  }

  // --- checks of values -------------------------------------------------------

  // What is wrong with `value` for the Point field `name`, or "" if nothing.
  static std::string point_value_problem(const std::string& name, double value) {
    if (name == "devices" && value < 1) return "devices must be at least 1";
    if (name == "nodes" && value < 1) return "nodes must be at least 1";
    if (name == "fleets" && value < 1) return "fleets must be at least 1";
    if (name == "request_rate" && !(value > 0))
      return "request_rate must be > 0, got " + format_number(value);
    if (name == "cpu_period_us" && (value < 1000 || value > 1000000))
      return "cpu_period_us must be within [1000, 1000000] (the kernel's CFS limits), got " +
             format_number(value);
    if ((name == "cpu_quota_us" || name == "fleet_cpu_quota_us") && value != 0 && value < 1000)
      return name + " must be 0 (unlimited) or at least 1000, got " + format_number(value);
    if (name == "sampling_interval_ms" && value < 1)
      return "sampling_interval_ms must be at least 1";
    if (name == "lifetime_s" && value < 1) return "lifetime_s must be at least 1";
    return "";
  }

  static double numeric_value(const pb::Message& msg, const pb::FieldDescriptor* f,
                              int index = -1) {
    const pb::Reflection* r = msg.GetReflection();
    const bool rep = index >= 0;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_UINT32:
        return rep ? r->GetRepeatedUInt32(msg, f, index) : r->GetUInt32(msg, f);
      case pb::FieldDescriptor::CPPTYPE_UINT64:
        return static_cast<double>(rep ? r->GetRepeatedUInt64(msg, f, index)
                                       : r->GetUInt64(msg, f));
      case pb::FieldDescriptor::CPPTYPE_INT32:
        return rep ? r->GetRepeatedInt32(msg, f, index) : r->GetInt32(msg, f);
      case pb::FieldDescriptor::CPPTYPE_INT64:
        return static_cast<double>(rep ? r->GetRepeatedInt64(msg, f, index) : r->GetInt64(msg, f));
      case pb::FieldDescriptor::CPPTYPE_DOUBLE:
        return rep ? r->GetRepeatedDouble(msg, f, index) : r->GetDouble(msg, f);
      case pb::FieldDescriptor::CPPTYPE_FLOAT:
        return rep ? r->GetRepeatedFloat(msg, f, index) : r->GetFloat(msg, f);
      case pb::FieldDescriptor::CPPTYPE_BOOL:
        return (rep ? r->GetRepeatedBool(msg, f, index) : r->GetBool(msg, f)) ? 1 : 0;
      case pb::FieldDescriptor::CPPTYPE_ENUM:
        return rep ? r->GetRepeatedEnumValue(msg, f, index) : r->GetEnumValue(msg, f);
      default:
        return 0;
    }
  }

  // Every field of a point (defaults, or an explicit point: only the fields
  // it sets itself; the others come from the checked defaults).
  Status check_point(const schema::Point& p, const std::string& path, bool only_given) const {
    const pb::Descriptor* d = p.GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      const std::string field_path = path + "." + f->name();
      if (only_given && !marks_.count(field_path)) continue;
      if (const std::string problem = point_value_problem(f->name(), numeric_value(p, f));
          !problem.empty())
        return invalid(field_path, problem);
    }
    return {};
  }

  Status validate(const schema::Scenario& s) const {
    for (char c : s.name())
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
        return invalid("name",
                       "name may hold only letters, digits, '-', '_' and '.' (it names the output "
                       "directory), got " +
                           quoted(s.name()));
    if (key_marks_.count("sweep") && key_marks_.count("points"))
      return error_at(key_marks_.at("points"), "give either sweep or points, not both",
                      ErrorKind::kInvalidArgument);

    if (Status st = check_point(s.defaults(), "defaults", false); !st) return st;
    for (int i = 0; i < s.points_size(); ++i)
      if (Status st = check_point(s.points(i), "points[" + std::to_string(i) + "]", true); !st)
        return st;

    const pb::Descriptor* sd = s.sweep().GetDescriptor();
    for (int i = 0; i < sd->field_count(); ++i) {
      const pb::FieldDescriptor* f = sd->field(i);
      const int n = s.sweep().GetReflection()->FieldSize(s.sweep(), f);
      std::map<double, int> seen;
      for (int j = 0; j < n; ++j) {
        const std::string value_path = "sweep." + f->name() + "[" + std::to_string(j) + "]";
        const double v = numeric_value(s.sweep(), f, j);
        if (const std::string problem = point_value_problem(f->name(), v); !problem.empty())
          return invalid(value_path, problem);
        if (!seen.emplace(v, j).second) {
          const pb::EnumValueDescriptor* e =
              f->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM
                  ? f->enum_type()->FindValueByNumber(static_cast<int>(v))
                  : nullptr;
          return invalid(value_path, "sweep." + f->name() + ": value " +
                                         (e ? enum_key(e) : format_number(v)) + " appears twice");
        }
      }
    }

    if (s.warmup_s() < 0)
      return invalid("warmup_s", "warmup_s must be >= 0, got " + format_number(s.warmup_s()));
    if (!(s.window_s() > 0))
      return invalid("window_s", "window_s must be > 0, got " + format_number(s.window_s()));
    if (!(s.request_timeout_s() > 0))
      return invalid("request_timeout_s",
                     "request_timeout_s must be > 0, got " + format_number(s.request_timeout_s()));
    if (s.repetitions() < 1) return invalid("repetitions", "repetitions must be at least 1");
    if (!lwm2m::Path::parse(s.observe_path()).ok())
      return invalid("observe_path",
                     "observe_path is not an LwM2M path: " + quoted(s.observe_path()));

    if (Status st = validate_faults(s); !st) return st;
    if (Status st = validate_bus_mode(s); !st) return st;
    if (Status st = validate_backend(s); !st) return st;

    for (int i = 0; i < s.mix_size(); ++i) {
      const schema::RequestSpec& r = s.mix(i);
      const std::string p = "mix[" + std::to_string(i) + "]";
      const auto kind = bus::parse_request_kind(r.kind());
      if (!kind || !mixable(*kind))
        return invalid(p + ".kind", "unknown request kind " + quoted(r.kind()) +
                                        " (one of: " + join(request_kinds()) + ")");
      std::string path = r.path();
      if (const auto at = path.find("{xyz}"); at != std::string::npos) path.replace(at, 5, "5702");
      if (r.path().empty() || !lwm2m::Path::parse(path).ok())
        return invalid(p + ".path", "request path is not an LwM2M path: " + quoted(r.path()));
      if (!r.content_format().empty() && !lwm2m::parse_content_format(r.content_format()))
        return invalid(p + ".content_format",
                       "unknown content format " + quoted(r.content_format()));
      if (!(r.weight() > 0))
        return invalid(p + ".weight", "weight must be > 0, got " + format_number(r.weight()));
      if (r.kind() == "write" && r.value().empty()) return invalid(p, "a write needs a value");
    }
    return {};
  }

  // The fewest nodes any run of the scenario deploys.
  static uint32_t fewest_nodes(const schema::Scenario& s) {
    uint32_t fewest = s.defaults().nodes();
    if (s.sweep().nodes_size() > 0)
      fewest = *std::min_element(s.sweep().nodes().begin(), s.sweep().nodes().end());
    for (const auto& p : s.points()) fewest = std::min(fewest, p.nodes());
    return fewest;
  }

  Status validate_faults(const schema::Scenario& s) const {
    const std::string& placement = s.cpu_placement();
    if (!placement.empty() && placement != "shared" && placement != "split")
      return invalid("cpu_placement",
                     "cpu_placement must be shared (any process on any CPU) or split (nodes on "
                     "one half of the CPUs, everything else on the other), got " +
                         quoted(placement));
    const std::string& order = s.repetition_order();
    if (!order.empty() && order != "consecutive" && order != "interleaved")
      return invalid("repetition_order",
                     "repetition_order must be consecutive (each point's repetitions one after "
                     "another) or interleaved (round by round over the points of a deployment), "
                     "got " +
                         quoted(order));
    const std::string& persistence = s.redis_persistence();
    if (!persistence.empty() && persistence != "always" && persistence != "everysec" &&
        persistence != "no")
      return invalid("redis_persistence",
                     "redis_persistence must be always, everysec or no (AOF appendfsync), or left "
                     "out for none, got " +
                         quoted(persistence));
    const double load_s = s.warmup_s() + s.window_s();
    for (int i = 0; i < s.faults_size(); ++i) {
      const schema::Fault& f = s.faults(i);
      const std::string p = "faults[" + std::to_string(i) + "]";
      if (!is_fault_kind(f.kind()))
        return invalid(p + ".kind", "unknown fault kind " + quoted(f.kind()) +
                                        " (one of: " + join(fault_kinds()) + ")");
      if (!(f.at_s() >= 0) || f.at_s() >= load_s)
        return invalid(p + ".at_s", "at_s must fall within the load, 0 to warmup_s + window_s = " +
                                        format_number(load_s) + ", got " + format_number(f.at_s()));
      if (fault_has_duration(f.kind())) {
        if (!(f.duration_s() > 0))
          return invalid(p + ".duration_s",
                         f.kind() + " needs duration_s > 0, got " + format_number(f.duration_s()));
      } else if (f.duration_s() != 0) {
        return invalid(p + ".duration_s",
                       "duration_s applies to stop_node and partition_node only, not " + f.kind());
      }
      if (fault_targets_node(f.kind())) {
        auto index = fault_node_index(f.target());
        if (!index) return invalid(p + ".target", index.error().message);
        if (static_cast<uint32_t>(*index) > fewest_nodes(s))
          return invalid(p + ".target", "target " + quoted(f.target()) +
                                            " does not exist in every run: the scenario deploys " +
                                            std::to_string(fewest_nodes(s)) + " node(s)");
      } else if (const std::string_view fixed = fault_fixed_target(f.kind());
                 !f.target().empty() && f.target() != fixed) {
        return invalid(p + ".target", f.kind() + " takes target " + std::string(fixed) +
                                          " (or none), got " + quoted(f.target()));
      }
    }
    return {};
  }

  // Routed requests are the load generator's (and a gateway's started with
  // --bus-mode routed); the testbed starts its gateway in broadcast mode, so
  // a routed point through the gateway would measure broadcast.
  Status validate_bus_mode(const schema::Scenario& s) const {
    if (s.mode() != schema::MODE_EMULATE || s.via() != schema::VIA_GATEWAY) return {};
    const std::string problem =
        "bus_mode routed needs via: bus (the testbed's gateway publishes in broadcast mode)";
    if (s.defaults().bus_mode() == schema::BUS_MODE_ROUTED)
      return invalid("defaults.bus_mode", problem);
    for (int i = 0; i < s.points_size(); ++i)
      if (s.points(i).bus_mode() == schema::BUS_MODE_ROUTED)
        return invalid("points[" + std::to_string(i) + "].bus_mode", problem);
    for (int i = 0; i < s.sweep().bus_mode_size(); ++i)
      if (s.sweep().bus_mode(i) == schema::BUS_MODE_ROUTED)
        return invalid("sweep.bus_mode[" + std::to_string(i) + "]", problem);
    return {};
  }

  // Faults act on the namespace backend's processes.
  Status validate_backend(const schema::Scenario& s) const {
    if (s.backend() != schema::BACKEND_CONTAINER) return {};
    if (s.faults_size() > 0)
      return invalid("backend", "backend container does not inject faults: use backend namespaces");
    return {};
  }

  std::string file_;
  schema::Scenario* scenario_ = nullptr;
  std::map<std::string, YAML::Mark> marks_;      // field path -> where its value stands
  std::map<std::string, YAML::Mark> key_marks_;  // field path -> where its key stands
};

}  // namespace

schema::Point default_point() {
  schema::Point p;
  p.set_devices(50);
  p.set_nodes(1);
  p.set_request_rate(100);
  p.set_dtls(false);
  p.set_cpu_quota_us(25000);
  p.set_cpu_period_us(100000);
  p.set_memory_limit_mb(512);
  p.set_fleets(1);
  p.set_sampling_interval_ms(50);
  p.set_lifetime_s(300);
  p.set_fleet_cpu_quota_us(0);
  p.set_fleet_memory_limit_mb(0);
  return p;
}

Result<schema::Scenario> load_scenario_text(std::string_view text,
                                            const std::string& display_name) {
  return Loader(display_name).load(text);
}

Result<schema::Scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(ErrorKind::kIo, path + ": cannot read the scenario file");
  return load_scenario_text(text.str(), path);
}

}  // namespace fogm2m::scenario
