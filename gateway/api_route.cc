#include "gateway/api_route.h"

#include <array>

namespace fogm2m::gateway {

namespace {

Error malformed(std::string message) {
  return make_error(ErrorKind::kMalformed, std::move(message));
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "a/b/c" -> {"a","b","c"} (raw, still escaped); empty segments kept.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    const std::string_view item = query.substr(start, amp - start);
    start = amp + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    auto name = percent_decode(item.substr(0, eq), true);
    if (!name) return name.error();
    std::string value;
    if (eq != std::string_view::npos) {
      auto v = percent_decode(item.substr(eq + 1), true);
      if (!v) return v.error();
      value = std::move(*v);
    }
    out.emplace_back(std::move(*name), std::move(value));
  }
  return out;
}

Error wrong_method(std::string_view method, std::string_view what) {
  return make_error(ErrorKind::kUnsupported,
                    std::string(method) + " is not allowed on " + std::string(what));
}

// The LwM2M path of segments[from, to): "/3313/0/5702".
Result<lwm2m::Path> lwm2m_path(const std::vector<std::string_view>& segments, size_t from,
                               size_t to) {
  if (to - from > 4) return malformed("an LwM2M path has at most 4 ids");
  std::string text;
  for (size_t i = from; i < to; ++i) {
    if (segments[i].empty()) return malformed("empty segment in the LwM2M path");
    text += '/';
    text += segments[i];
  }
  auto path = lwm2m::Path::parse(text);
  if (!path) return malformed("invalid LwM2M path " + text + ": " + path.error().message);
  return path;
}

// The "paths" parameter of a composite route: "/3/0/9,/3313/0".
Result<std::vector<lwm2m::Path>> composite_paths(const ApiRoute& route) {
  const std::string* text = route.param("paths");
  if (text == nullptr || text->empty())
    return malformed("a composite operation needs ?paths=/o/i/r,... (comma-separated)");
  std::vector<lwm2m::Path> out;
  std::string_view rest(*text);
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto path = lwm2m::Path::parse(item);
    if (!path)
      return malformed("invalid LwM2M path \"" + std::string(item) +
                       "\" in paths: " + path.error().message);
    if (path->is_root()) return malformed("paths: \"/\" addresses no object");
    for (const lwm2m::Path& p : out)
      if (p == *path) return malformed("paths: " + path->to_string() + " is listed twice");
    out.push_back(*path);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

// /api/clients/{ep}/composite[/observe]; `end` is past the last segment.
Result<ApiRoute> composite_route(std::string_view method, const std::vector<std::string_view>& seg,
                                 size_t end, ApiRoute route) {
  if (end == 4) {
    if (method == "GET") {
      route.op = ApiOperation::kReadComposite;
    } else if (method == "PUT") {
      route.op = ApiOperation::kWriteComposite;
      return route;  // the paths are the body's
    } else {
      return wrong_method(method, "composite");
    }
  } else if (end == 5 && seg[4] == "observe") {
    if (method == "POST") {
      route.op = ApiOperation::kObserveComposite;
    } else if (method == "DELETE") {
      route.op = ApiOperation::kCancelObserveComposite;
    } else {
      return wrong_method(method, "composite/observe");
    }
  } else {
    return make_error(ErrorKind::kNotFound,
                      "no composite route: /composite and /composite/observe exist");
  }
  auto paths = composite_paths(route);
  if (!paths) return paths.error();
  route.paths = std::move(*paths);
  return route;
}

Result<ApiRoute> client_route(std::string_view method, const std::vector<std::string_view>& seg,
                              ApiRoute route) {
  // seg: "api" "clients" ep [path...] [discover|attributes|observe]
  if (seg.size() == 2) {
    if (method != "GET") return wrong_method(method, "/api/clients");
    route.op = ApiOperation::kListClients;
    return route;
  }
  auto ep = percent_decode(seg[2], false);
  if (!ep) return ep.error();
  if (ep->empty()) return malformed("empty endpoint name");
  route.endpoint = std::move(*ep);
  if (seg.size() == 3) {
    if (method != "GET") return wrong_method(method, "a client");
    route.op = ApiOperation::kGetClient;
    return route;
  }
  size_t end = seg.size();
  if (seg.back().empty()) --end;  // "/api/clients/ep/3/0/"
  if (end > 3 && seg[3] == "composite") return composite_route(method, seg, end, std::move(route));
  std::string_view action;
  if (end > 3 &&
      (seg[end - 1] == "discover" || seg[end - 1] == "attributes" || seg[end - 1] == "observe")) {
    action = seg[end - 1];
    --end;
  }
  if (end == 3) return malformed("an LwM2M path is needed after the endpoint");
  auto path = lwm2m_path(seg, 3, end);
  if (!path) return path.error();
  route.path = *path;
  const int depth = path->depth();
  if (action == "discover") {
    if (method != "GET") return wrong_method(method, "discover");
    route.op = ApiOperation::kDiscover;
  } else if (action == "attributes") {
    if (method != "PUT") return wrong_method(method, "attributes");
    route.op = ApiOperation::kWriteAttributes;
  } else if (action == "observe") {
    if (method == "POST") {
      route.op = ApiOperation::kObserve;
    } else if (method == "DELETE") {
      route.op = ApiOperation::kCancelObserve;
    } else {
      return wrong_method(method, "observe");
    }
  } else if (method == "GET") {
    route.op = ApiOperation::kRead;
  } else if (method == "PUT") {
    if (depth < 2) return malformed("write needs at least /{object}/{instance}");
    route.op = ApiOperation::kWrite;
  } else if (method == "POST") {
    if (depth == 3) {
      route.op = ApiOperation::kExecute;
    } else if (depth <= 2) {
      route.op = ApiOperation::kCreate;
    } else {
      return malformed("POST to a resource instance: execute takes /{o}/{i}/{r}");
    }
  } else if (method == "DELETE") {
    if (depth != 2) return malformed("delete takes /{object}/{instance}");
    route.op = ApiOperation::kDelete;
  } else {
    return wrong_method(method, "a client's resources");
  }
  return route;
}

}  // namespace

const char* to_string(ApiOperation op) {
  static constexpr std::array<const char*, 23> kNames = {"list_clients",
                                                         "get_client",
                                                         "read",
                                                         "discover",
                                                         "write",
                                                         "write_attributes",
                                                         "execute",
                                                         "create",
                                                         "delete",
                                                         "observe",
                                                         "cancel_observe",
                                                         "list_security",
                                                         "put_security",
                                                         "delete_security",
                                                         "events",
                                                         "object_specs",
                                                         "metrics",
                                                         "stomp",
                                                         "asset",
                                                         "read_composite",
                                                         "write_composite",
                                                         "observe_composite",
                                                         "cancel_observe_composite"};
  return kNames[static_cast<size_t>(op)];
}

const std::string* ApiRoute::param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return malformed("invalid percent escape at offset " + std::to_string(i));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Result<ApiRoute> parse_api_route(std::string_view method, std::string_view target) {
  if (target.size() > kMaxTargetLength)
    return malformed("request target longer than " + std::to_string(kMaxTargetLength) + " bytes");
  if (target.empty() || target.front() != '/') return malformed("request target must start with /");
  ApiRoute route;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) {
    auto query = parse_query(target.substr(q + 1));
    if (!query) return query.error();
    route.query = std::move(*query);
  }
  const auto seg = split_path(path.substr(1));
  if (seg[0] == "api") {
    if (seg.size() >= 2 && seg[1] == "clients") return client_route(method, seg, std::move(route));
    if (seg.size() >= 3 && seg[1] == "security" && seg[2] == "clients") {
      if (seg.size() == 3) {
        if (method == "GET") {
          route.op = ApiOperation::kListSecurity;
        } else if (method == "PUT") {
          route.op = ApiOperation::kPutSecurity;
        } else {
          return wrong_method(method, "/api/security/clients");
        }
        return route;
      }
      if (seg.size() == 4 && !seg[3].empty()) {
        if (method != "DELETE") return wrong_method(method, "a client's security info");
        auto ep = percent_decode(seg[3], false);
        if (!ep) return ep.error();
        route.op = ApiOperation::kDeleteSecurity;
        route.endpoint = std::move(*ep);
        return route;
      }
    }
    if (seg.size() == 2 && seg[1] == "event") {
      if (method != "GET") return wrong_method(method, "/api/event");
      route.op = ApiOperation::kEvents;
      return route;
    }
    if (seg.size() >= 2 && seg.size() <= 3 && seg[1] == "objectspecs") {
      if (method != "GET") return wrong_method(method, "/api/objectspecs");
      route.op = ApiOperation::kObjectSpecs;
      return route;
    }
    return make_error(ErrorKind::kNotFound, "no API route " + std::string(path));
  }
  if (method != "GET" && method != "HEAD") return wrong_method(method, std::string(path));
  if (path == "/metrics") {
    route.op = ApiOperation::kMetrics;
  } else if (path == "/ws") {
    route.op = ApiOperation::kStomp;
  } else if (seg.size() == 1) {
    route.op = ApiOperation::kAsset;
    route.asset = seg[0].empty() ? "index.html" : std::string(seg[0]);
  } else {
    return make_error(ErrorKind::kNotFound, "nothing at " + std::string(path));
  }
  return route;
}

}  // namespace fogm2m::gateway
