// OMA DDF loader: LWM2M.xsd object definitions (XML) into ObjectModels.
//
// The XML is parsed with Boost.PropertyTree's rapidxml-based reader, which
// throws; every ptree call stays inside this file's try blocks so callers
// only ever see a Result. Errors name the source and the element at fault
// ("3313.xml: Object[0]/Resources/Item[ID=5702]/Type: unknown type \"Flot\"");
// malformed XML carries the parser's line ("broken.xml:14: malformed XML: ...").
#include <algorithm>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <system_error>

#include "lwm2m/model.h"

namespace fogm2m::lwm2m {

namespace {

namespace pt = boost::property_tree;

// Largest id an object or resource may have; 65535 is reserved (LwM2M 1.1 7.2).
constexpr unsigned long kMaxId = 65534;

// ---------------------------------------------------------------------------
// Text helpers
// ---------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
  auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Parses a decimal id in 0..kMaxId (surrounding whitespace allowed, no sign).
bool parse_id(std::string_view text, uint16_t* out) {
  text = trim(text);
  if (text.empty()) return false;
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v > kMaxId) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

// "1.0", "1.1", "2.12": digits '.' digits.
bool valid_version(std::string_view v) {
  const size_t dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i == dot) continue;
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

// DDF Operations text to flags; false when the text is none of "", R, W, RW, E.
bool parse_operations(std::string_view text, uint8_t* out) {
  text = trim(text);
  if (text.empty())
    *out = kOpNone;
  else if (iequals(text, "R"))
    *out = kOpRead;
  else if (iequals(text, "W"))
    *out = kOpWrite;
  else if (iequals(text, "RW"))
    *out = kOpRead | kOpWrite;
  else if (iequals(text, "E"))
    *out = kOpExecute;
  else
    return false;
  return true;
}

// ---------------------------------------------------------------------------
// Element access. `where` is the path of the element being read, for errors.
// ---------------------------------------------------------------------------

Error element_error(const std::string& source, const std::string& where, ErrorKind kind,
                    const std::string& what) {
  return make_error(kind, source + ": " + where + ": " + what);
}

// The error for an ID that parse_id rejected: a number too large is a range
// error (kInvalidArgument), anything else a format error (kMalformed).
Error id_error(const std::string& source, const std::string& where, const char* what,
               std::string_view text) {
  const std::string shown(trim(text));
  const bool digits = !shown.empty() && std::all_of(shown.begin(), shown.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) != 0;
  });
  if (digits)
    return element_error(source, where, ErrorKind::kInvalidArgument,
                         std::string(what) + " ID " + shown + " is out of range 0..65534");
  return element_error(source, where, ErrorKind::kMalformed,
                       std::string(what) + " ID \"" + shown + "\" is not a number");
}

// The trimmed text of child `name`; `present` is false when there is no such child.
struct Text {
  bool present = false;
  std::string value;
};

Text child_text(const pt::ptree& node, const char* name) {
  Text t;
  if (auto child = node.get_child_optional(name)) {
    t.present = true;
    t.value = std::string(trim(child->data()));
  }
  return t;
}

// Reads a "Multiple"/"Single" element into *multiple.
Status read_multiplicity(const pt::ptree& node, const std::string& source, const std::string& where,
                         bool* multiple) {
  const Text t = child_text(node, "MultipleInstances");
  const std::string at = where + "/MultipleInstances";
  if (!t.present)
    return element_error(source, where, ErrorKind::kMalformed, "missing MultipleInstances");
  if (iequals(t.value, "Multiple"))
    *multiple = true;
  else if (iequals(t.value, "Single"))
    *multiple = false;
  else
    return element_error(source, at, ErrorKind::kMalformed,
                         "expected Multiple or Single, got \"" + t.value + "\"");
  return {};
}

// Reads a "Mandatory"/"Optional" element into *mandatory.
Status read_mandatory(const pt::ptree& node, const std::string& source, const std::string& where,
                      bool* mandatory) {
  const Text t = child_text(node, "Mandatory");
  const std::string at = where + "/Mandatory";
  if (!t.present) return element_error(source, where, ErrorKind::kMalformed, "missing Mandatory");
  if (iequals(t.value, "Mandatory"))
    *mandatory = true;
  else if (iequals(t.value, "Optional"))
    *mandatory = false;
  else
    return element_error(source, at, ErrorKind::kMalformed,
                         "expected Mandatory or Optional, got \"" + t.value + "\"");
  return {};
}

// ---------------------------------------------------------------------------
// Item (resource) and Object
// ---------------------------------------------------------------------------

// Parses one <Item>; `index` is its position among the object's items, used to
// name it when its ID attribute is missing or broken.
Result<ResourceModel> parse_item(const pt::ptree& item, const std::string& source,
                                 const std::string& resources_path, size_t index) {
  ResourceModel r;
  const std::string by_index = resources_path + "/Item[" + std::to_string(index) + "]";
  auto id_attr = item.get_optional<std::string>("<xmlattr>.ID");
  if (!id_attr)
    return element_error(source, by_index, ErrorKind::kMalformed, "missing ID attribute");
  if (!parse_id(*id_attr, &r.id)) return id_error(source, by_index, "resource", *id_attr);
  const std::string where = resources_path + "/Item[ID=" + std::to_string(r.id) + "]";

  const Text name = child_text(item, "Name");
  if (!name.present || name.value.empty())
    return element_error(source, where, ErrorKind::kMalformed, "missing Name");
  r.name = name.value;

  const Text ops = child_text(item, "Operations");
  if (!ops.present)
    return element_error(source, where, ErrorKind::kMalformed, "missing Operations");
  if (!parse_operations(ops.value, &r.operations))
    return element_error(
        source, where + "/Operations", ErrorKind::kMalformed,
        "unknown operations \"" + ops.value + "\" (expected R, W, RW, E or empty)");

  if (Status s = read_multiplicity(item, source, where, &r.multiple); !s) return s.error();
  if (Status s = read_mandatory(item, source, where, &r.mandatory); !s) return s.error();

  // <Type/> may be absent or empty for executable resources; both mean "none".
  const Text type = child_text(item, "Type");
  if (!parse_resource_type(type.value, &r.type))
    return element_error(source, where + "/Type", ErrorKind::kMalformed,
                         "unknown type \"" + type.value + "\"");

  r.range = child_text(item, "RangeEnumeration").value;
  r.units = child_text(item, "Units").value;
  r.description = child_text(item, "Description").value;
  return r;
}

Result<ObjectModel> parse_object(const pt::ptree& obj, const std::string& source,
                                 const std::string& where) {
  ObjectModel m;
  const Text id = child_text(obj, "ObjectID");
  if (!id.present) return element_error(source, where, ErrorKind::kMalformed, "missing ObjectID");
  if (!parse_id(id.value, &m.id)) return id_error(source, where + "/ObjectID", "object", id.value);

  const Text name = child_text(obj, "Name");
  if (!name.present || name.value.empty())
    return element_error(source, where, ErrorKind::kMalformed, "missing Name");
  m.name = name.value;
  m.urn = child_text(obj, "ObjectURN").value;
  m.description = child_text(obj, "Description1").value;

  const Text version = child_text(obj, "ObjectVersion");
  if (!version.value.empty()) {
    if (!valid_version(version.value))
      return element_error(source, where + "/ObjectVersion", ErrorKind::kMalformed,
                           "expected a version like 1.0, got \"" + version.value + "\"");
    m.version = version.value;
  }
  const Text lwm2m_version = child_text(obj, "LWM2MVersion");
  if (!lwm2m_version.value.empty()) {
    if (!valid_version(lwm2m_version.value))
      return element_error(source, where + "/LWM2MVersion", ErrorKind::kMalformed,
                           "expected a version like 1.1, got \"" + lwm2m_version.value + "\"");
    m.lwm2m_version = lwm2m_version.value;
  }

  if (Status s = read_multiplicity(obj, source, where, &m.multiple); !s) return s.error();
  if (Status s = read_mandatory(obj, source, where, &m.mandatory); !s) return s.error();

  // An object without resources is legal (the xsd allows an empty <Resources/>).
  const std::string resources_path = where + "/Resources";
  if (auto resources = obj.get_child_optional("Resources")) {
    std::set<uint16_t> seen;
    size_t index = 0;
    for (const auto& [tag, item] : *resources) {
      if (tag != "Item") continue;  // comments, whitespace
      Result<ResourceModel> r = parse_item(item, source, resources_path, index++);
      if (!r) return r.error();
      if (!seen.insert(r->id).second)
        return element_error(source, resources_path + "/Item[ID=" + std::to_string(r->id) + "]",
                             ErrorKind::kInvalidArgument,
                             "duplicate resource ID " + std::to_string(r->id));
      m.resources.push_back(std::move(r).value());
    }
  }
  std::sort(m.resources.begin(), m.resources.end(),
            [](const ResourceModel& a, const ResourceModel& b) { return a.id < b.id; });
  return m;
}

Result<std::vector<ObjectModel>> parse_document(const pt::ptree& doc, const std::string& source) {
  auto root = doc.get_child_optional("LWM2M");
  if (!root) return make_error(ErrorKind::kMalformed, source + ": missing <LWM2M> root element");
  std::vector<ObjectModel> models;
  std::set<uint16_t> seen;
  size_t index = 0;
  for (const auto& [tag, obj] : *root) {
    if (tag != "Object") continue;
    const std::string where = "Object[" + std::to_string(index++) + "]";
    Result<ObjectModel> m = parse_object(obj, source, where);
    if (!m) return m.error();
    if (!seen.insert(m->id).second)
      return element_error(source, where + "/ObjectID", ErrorKind::kInvalidArgument,
                           "object ID " + std::to_string(m->id) + " defined twice");
    models.push_back(std::move(m).value());
  }
  if (models.empty())
    return make_error(ErrorKind::kMalformed, source + ": LWM2M: no Object element");
  return models;
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

Result<std::vector<ObjectModel>> parse_ddf(const std::string& xml, const std::string& source_name) {
  try {
    std::istringstream in(xml);
    pt::ptree doc;
    // Comments are dropped; whitespace is kept so multi-line descriptions keep
    // their line breaks (values are trimmed at their ends instead).
    pt::read_xml(in, doc, pt::xml_parser::no_comments);
    return parse_document(doc, source_name);
  } catch (const pt::xml_parser_error& e) {
    std::string where = source_name;
    if (e.line() > 0) where += ":" + std::to_string(e.line());
    return make_error(ErrorKind::kMalformed, where + ": malformed XML: " + e.message());
  } catch (const pt::ptree_error& e) {
    return make_error(ErrorKind::kMalformed, source_name + ": " + e.what());
  } catch (const std::exception& e) {
    return make_error(ErrorKind::kMalformed, source_name + ": " + e.what());
  }
}

Result<std::vector<ObjectModel>> load_ddf_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    return make_error(ErrorKind::kIo, name + ": is a directory, not a DDF file");
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    const int err = errno;
    return make_error(err == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                      name + ": cannot open: " + std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return make_error(ErrorKind::kIo, name + ": read error");
  return parse_ddf(text.str(), name);
}

// All-or-nothing: every file is parsed before the registry is touched, so a
// broken file leaves `registry` as it was. Within the directory, files load in
// name order and a later file's model replaces an earlier one with the same id.
Result<size_t> load_ddf_directory(const std::filesystem::path& dir, ModelRegistry& registry) {
  namespace fs = std::filesystem;
  const std::string name = dir.string();
  std::error_code ec;
  if (!fs::exists(dir, ec)) return make_error(ErrorKind::kNotFound, name + ": no such directory");
  if (!fs::is_directory(dir, ec)) return make_error(ErrorKind::kIo, name + ": not a directory");

  std::vector<fs::path> files;
  fs::directory_iterator it(dir, ec);
  if (ec) return make_error(ErrorKind::kIo, name + ": cannot list: " + ec.message());
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    std::error_code type_ec;
    if (p.extension() == ".xml" && it->is_regular_file(type_ec)) files.push_back(p);
  }
  if (ec) return make_error(ErrorKind::kIo, name + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::vector<ObjectModel> loaded;
  for (const fs::path& file : files) {
    Result<std::vector<ObjectModel>> models = load_ddf_file(file);
    if (!models) return models.error();
    for (ObjectModel& m : *models) loaded.push_back(std::move(m));
  }
  const size_t count = loaded.size();
  for (ObjectModel& m : loaded) registry.add(std::move(m));
  return count;
}

}  // namespace fogm2m::lwm2m
