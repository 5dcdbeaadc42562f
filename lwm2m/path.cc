#include "lwm2m/path.h"

#include <cassert>
#include <charconv>

namespace fogm2m::lwm2m {

namespace {

const char* kLevelNames[] = {"object id", "object instance id", "resource id",
                             "resource instance id"};

Error bad_path(std::string_view text, const std::string& why) {
  return make_error(ErrorKind::kMalformed, "path \"" + std::string(text) + "\": " + why);
}

}  // namespace

Result<Path> Path::parse(std::string_view text) {
  if (text.empty()) return bad_path(text, "empty");
  if (text.front() != '/') return bad_path(text, "must start with '/'");
  std::string_view rest = text.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);

  Path path;
  while (!rest.empty()) {
    if (path.depth_ == 4) return bad_path(text, "more than 4 segments");
    const size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    const char* what = kLevelNames[path.depth_];
    if (seg.empty()) return bad_path(text, std::string("empty ") + what);
    if (seg.size() > 1 && seg[0] == '0')
      return bad_path(text, std::string(what) + " has a leading zero");
    uint32_t value = 0;
    for (char c : seg) {
      if (c < '0' || c > '9')
        return bad_path(text, std::string(what) + " \"" + std::string(seg) + "\" is not a number");
      value = value * 10 + static_cast<uint32_t>(c - '0');
      if (value > kMaxId)
        return bad_path(text, std::string(what) + " exceeds " + std::to_string(kMaxId));
    }
    path.ids_[path.depth_++] = static_cast<uint16_t>(value);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) return bad_path(text, "empty segment");
  }
  return path;
}

std::string Path::to_string() const {
  std::string s;
  s.reserve(24);
  append_to(s);
  return s;
}

void Path::append_to(std::string& out) const {
  if (depth_ == 0) {
    out.push_back('/');
    return;
  }
  for (int i = 0; i < depth_; ++i) {
    out.push_back('/');
    char digits[8];
    const auto end = std::to_chars(digits, digits + sizeof digits, ids_[i]).ptr;
    out.append(digits, end);
  }
}

Path Path::parent() const {
  Path p = *this;
  if (p.depth_ > 0) p.ids_[--p.depth_] = 0;
  return p;
}

Path Path::child(uint16_t id) const {
  assert(depth_ < 4);
  Path p = *this;
  p.ids_[p.depth_++] = id;
  return p;
}

bool Path::starts_with(const Path& prefix) const {
  if (prefix.depth_ > depth_) return false;
  for (int i = 0; i < prefix.depth_; ++i)
    if (ids_[i] != prefix.ids_[i]) return false;
  return true;
}

}  // namespace fogm2m::lwm2m
