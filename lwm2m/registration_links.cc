#include "lwm2m/registration_links.h"

#include <algorithm>

#include "lwm2m/path.h"

namespace fogm2m::lwm2m {

namespace {

Error bad(const std::string& why) {
  return make_error(ErrorKind::kMalformed, "registration payload: " + why);
}

// Parses the ct attribute: "11543" or "0 42 11542".
Result<std::vector<uint16_t>> parse_content_formats(const std::string& text) {
  std::vector<uint16_t> out;
  uint32_t n = 0;
  bool in_number = false;
  for (char c : text + " ") {
    if (c >= '0' && c <= '9') {
      n = n * 10 + static_cast<uint32_t>(c - '0');
      if (n > 65535) return bad("ct value \"" + text + "\" out of range");
      in_number = true;
    } else if (c == ' ') {
      if (in_number) out.push_back(static_cast<uint16_t>(n));
      n = 0;
      in_number = false;
    } else {
      return bad("ct value \"" + text + "\" is not a list of numbers");
    }
  }
  return out;
}

bool is_version(const std::string& v) {
  // "1.0", "1.1", "2.12": digits '.' digits.
  const size_t dot = v.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (i != dot && (v[i] < '0' || v[i] > '9')) return false;
  return true;
}

}  // namespace

Result<RegistrationLinks> parse_registration_links(std::string_view payload) {
  auto parsed = parse_link_format(payload);
  if (!parsed) return bad(parsed.error().message);

  RegistrationLinks out;
  out.links = std::move(*parsed);
  for (const Link& link : out.links) {
    if (link.attribute("rt") == std::optional<std::string>("oma.lwm2m")) {
      out.root_path = link.uri.empty() ? "/" : link.uri;
      if (out.root_path.back() != '/') out.root_path.push_back('/');
      if (auto ct = link.attribute("ct")) {
        auto formats = parse_content_formats(*ct);
        if (!formats) return formats.error();
        out.content_formats = std::move(*formats);
      }
    }
  }

  for (const Link& link : out.links) {
    if (link.attribute("rt") == std::optional<std::string>("oma.lwm2m")) continue;
    std::string_view uri = link.uri;
    if (uri.substr(0, out.root_path.size()) != out.root_path) continue;  // not ours to interpret
    uri.remove_prefix(out.root_path.size() - 1);                         // keep the leading '/'
    if (uri.size() < 2 || uri[1] < '0' || uri[1] > '9') continue;        // not an object path
    auto path = Path::parse(uri);
    if (!path) return bad("link <" + link.uri + ">: " + path.error().message);
    if (path->depth() > 2) return bad("link <" + link.uri + "> is deeper than an object instance");
    auto& instances = out.objects[path->object_id()];
    if (path->depth() == 2) {
      auto it = std::lower_bound(instances.begin(), instances.end(), path->instance_id());
      if (it == instances.end() || *it != path->instance_id())
        instances.insert(it, path->instance_id());
    }
    if (auto ver = link.attribute("ver")) {
      if (!is_version(*ver)) return bad("link <" + link.uri + ">: bad ver \"" + *ver + "\"");
      out.object_versions[path->object_id()] = *ver;
    }
  }
  return out;
}

}  // namespace fogm2m::lwm2m
