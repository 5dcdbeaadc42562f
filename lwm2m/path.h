// LwM2M paths: "/", "/o", "/o/i", "/o/i/r" and "/o/i/r/ri".
//
// Every id is 0..65534 (65535 is reserved by the specification as "no
// instance"). A Path is a small value type: four ids and a depth.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

class Path {
 public:
  static constexpr uint16_t kMaxId = 65534;

  // The root path "/".
  constexpr Path() = default;
  constexpr explicit Path(uint16_t object) : ids_{object, 0, 0, 0}, depth_(1) {}
  constexpr Path(uint16_t object, uint16_t instance) : ids_{object, instance, 0, 0}, depth_(2) {}
  constexpr Path(uint16_t object, uint16_t instance, uint16_t resource)
      : ids_{object, instance, resource, 0}, depth_(3) {}
  constexpr Path(uint16_t object, uint16_t instance, uint16_t resource, uint16_t resource_instance)
      : ids_{object, instance, resource, resource_instance}, depth_(4) {}

  // Parses "/3/0/1". The leading slash is required, a trailing slash is
  // accepted ("/3/"), ids must be decimal without sign or leading zeros and
  // at most kMaxId. Errors say which segment is wrong.
  static Result<Path> parse(std::string_view text);

  // "/3/0/1"; the root is "/".
  std::string to_string() const;
  // Appends to_string() to `out` without a string of its own.
  void append_to(std::string& out) const;

  // 0 for the root, 1 object, 2 object instance, 3 resource, 4 resource instance.
  constexpr int depth() const { return depth_; }
  constexpr bool is_root() const { return depth_ == 0; }
  constexpr bool is_object() const { return depth_ == 1; }
  constexpr bool is_object_instance() const { return depth_ == 2; }
  constexpr bool is_resource() const { return depth_ == 3; }
  constexpr bool is_resource_instance() const { return depth_ == 4; }

  // Accessors; each requires depth() to reach that level.
  constexpr uint16_t object_id() const { return ids_[0]; }
  constexpr uint16_t instance_id() const { return ids_[1]; }
  constexpr uint16_t resource_id() const { return ids_[2]; }
  constexpr uint16_t resource_instance_id() const { return ids_[3]; }
  constexpr uint16_t id(int level) const { return ids_[level]; }

  // The path one level up; the root's parent is the root.
  Path parent() const;
  // This path extended by one id; requires depth() < 4.
  Path child(uint16_t id) const;
  // True when `prefix` is this path or one of its ancestors.
  bool starts_with(const Path& prefix) const;

  friend constexpr bool operator==(const Path& a, const Path& b) {
    if (a.depth_ != b.depth_) return false;
    for (int i = 0; i < a.depth_; ++i)
      if (a.ids_[i] != b.ids_[i]) return false;
    return true;
  }
  // Orders parents before children and siblings by id.
  friend constexpr std::strong_ordering operator<=>(const Path& a, const Path& b) {
    const int n = a.depth_ < b.depth_ ? a.depth_ : b.depth_;
    for (int i = 0; i < n; ++i)
      if (auto c = a.ids_[i] <=> b.ids_[i]; c != 0) return c;
    return a.depth_ <=> b.depth_;
  }

 private:
  std::array<uint16_t, 4> ids_{0, 0, 0, 0};
  uint8_t depth_ = 0;
};

}  // namespace fogm2m::lwm2m

template <>
struct std::hash<fogm2m::lwm2m::Path> {
  size_t operator()(const fogm2m::lwm2m::Path& p) const noexcept {
    uint64_t h = p.depth();
    for (int i = 0; i < p.depth(); ++i) h = (h << 16) ^ p.id(i);
    return std::hash<uint64_t>{}(h);
  }
};
