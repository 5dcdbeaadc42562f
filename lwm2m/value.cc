#include "lwm2m/value.h"

#include <cctype>
#include <cstdio>

#include "lwm2m/hex.h"

namespace fogm2m::lwm2m {

namespace {

struct TypeName {
  ResourceType type;
  const char* name;
};

constexpr TypeName kTypeNames[] = {
    {ResourceType::kNone, "none"},       {ResourceType::kString, "String"},
    {ResourceType::kInteger, "Integer"}, {ResourceType::kUnsignedInteger, "Unsigned Integer"},
    {ResourceType::kFloat, "Float"},     {ResourceType::kBoolean, "Boolean"},
    {ResourceType::kOpaque, "Opaque"},   {ResourceType::kTime, "Time"},
    {ResourceType::kObjlnk, "Objlnk"},   {ResourceType::kCorelnk, "Corelnk"},
};

// Lower-case with spaces and underscores removed: "Unsigned Integer" -> "unsignedinteger".
std::string fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '_' || c == '-') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

}  // namespace

const char* to_string(ResourceType type) {
  for (const auto& t : kTypeNames)
    if (t.type == type) return t.name;
  return "?";
}

bool parse_resource_type(std::string_view text, ResourceType* out) {
  const std::string f = fold(text);
  if (f.empty()) {  // DDF files leave <Type/> empty for executable resources
    *out = ResourceType::kNone;
    return true;
  }
  for (const auto& t : kTypeNames) {
    if (fold(t.name) == f) {
      *out = t.type;
      return true;
    }
  }
  if (f == "unsignedint" || f == "uint") {
    *out = ResourceType::kUnsignedInteger;
    return true;
  }
  if (f == "objectlink") {
    *out = ResourceType::kObjlnk;
    return true;
  }
  return false;
}

std::string to_debug_string(const Value& value) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "none"; }
    std::string operator()(const std::string& s) const { return "\"" + s + "\""; }
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(uint64_t v) const { return std::to_string(v) + "u"; }
    std::string operator()(double v) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      return buf;
    }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const Opaque& o) const {
      return "0x" + to_hex(std::string_view(reinterpret_cast<const char*>(o.data()), o.size()));
    }
    std::string operator()(Time t) const { return "time:" + std::to_string(t.seconds); }
    std::string operator()(ObjectLink l) const {
      return std::to_string(l.object_id) + ":" + std::to_string(l.instance_id);
    }
    std::string operator()(const CoreLink& l) const { return "<" + l.text + ">"; }
  };
  return std::visit(Visitor{}, value.storage());
}

}  // namespace fogm2m::lwm2m
