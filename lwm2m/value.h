// Typed LwM2M resource values (LwM2M 1.1 Appendix C data types).
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace fogm2m::lwm2m {

enum class ResourceType : uint8_t {
  kNone,  // executable resources carry no value
  kString,
  kInteger,
  kUnsignedInteger,
  kFloat,
  kBoolean,
  kOpaque,
  kTime,
  kObjlnk,
  kCorelnk,
};

// "String", "Integer", ... as written in OMA object definitions.
const char* to_string(ResourceType type);
// Accepts the DDF spellings ("Integer", "Unsigned Integer", "Objlnk", "Corelnk",
// "none" ...), case-insensitive; false when unknown.
bool parse_resource_type(std::string_view text, ResourceType* out);

using Opaque = std::vector<uint8_t>;

// Seconds since the Unix epoch; a distinct type so Time and Integer never mix.
struct Time {
  int64_t seconds = 0;
  friend auto operator<=>(const Time&, const Time&) = default;
};

// "3:0" on the wire in text formats.
struct ObjectLink {
  uint16_t object_id = 0;
  uint16_t instance_id = 0;
  friend auto operator<=>(const ObjectLink&, const ObjectLink&) = default;
};

// A CoRE link-format string (LwM2M 1.1 "Corelnk").
struct CoreLink {
  std::string text;
  friend auto operator<=>(const CoreLink&, const CoreLink&) = default;
};

// A value of one of the LwM2M types. monostate is the "none" type.
class Value {
 public:
  using Storage = std::variant<std::monostate, std::string, int64_t, uint64_t, double, bool, Opaque,
                               Time, ObjectLink, CoreLink>;

  Value() = default;
  Value(std::string v) : v_(std::move(v)) {}     // NOLINT
  Value(const char* v) : v_(std::string(v)) {}   // NOLINT
  Value(int64_t v) : v_(v) {}                    // NOLINT
  Value(int v) : v_(static_cast<int64_t>(v)) {}  // NOLINT
  Value(uint64_t v) : v_(v) {}                   // NOLINT
  Value(double v) : v_(v) {}                     // NOLINT
  Value(bool v) : v_(v) {}                       // NOLINT
  Value(Opaque v) : v_(std::move(v)) {}          // NOLINT
  Value(Time v) : v_(v) {}                       // NOLINT
  Value(ObjectLink v) : v_(v) {}                 // NOLINT
  Value(CoreLink v) : v_(std::move(v)) {}        // NOLINT

  ResourceType type() const { return static_cast<ResourceType>(v_.index()); }
  bool is_none() const { return v_.index() == 0; }

  template <class T>
  bool is() const {
    return std::holds_alternative<T>(v_);
  }
  template <class T>
  const T& as() const {
    return std::get<T>(v_);
  }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&v_);
  }

  const Storage& storage() const { return v_; }

  friend bool operator==(const Value&, const Value&) = default;

 private:
  Storage v_;
};

// Human-readable form for logs and test failures (opaque as hex).
std::string to_debug_string(const Value& value);

}  // namespace fogm2m::lwm2m

namespace fogm2m::lwm2m {
static_assert(std::variant_size_v<Value::Storage> == 10);
static_assert(std::is_same_v<std::variant_alternative_t<static_cast<size_t>(ResourceType::kCorelnk),
                                                        Value::Storage>,
                             CoreLink>,
              "ResourceType order must follow Value::Storage");
}  // namespace fogm2m::lwm2m
