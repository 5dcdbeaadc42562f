#include "lwm2m/coap_uri.h"

namespace fogm2m::lwm2m {

Result<CoapUri> parse_coap_uri(std::string_view uri) {
  auto bad = [&](const std::string& why) {
    return make_error(ErrorKind::kInvalidArgument,
                      "server URI \"" + std::string(uri) + "\": " + why);
  };
  CoapUri out;
  std::string_view rest = uri;
  if (rest.starts_with("coaps://")) {
    out.secure = true;
    out.port = 5684;
    rest.remove_prefix(8);
  } else if (rest.starts_with("coap://")) {
    rest.remove_prefix(7);
  } else {
    return bad("not coap:// or coaps://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) return bad("a path or query");
  std::string_view port;
  if (rest.starts_with("[")) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad("an unclosed '['");
    out.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty() && rest[0] != ':') return bad("text after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    const size_t colon = rest.rfind(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    if (colon != std::string_view::npos && port.empty()) return bad("an empty port");
  }
  if (out.host.empty()) return bad("no host");
  if (!port.empty()) {
    uint32_t n = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || n > 65535) return bad("port is not 1..65535");
      n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    if (n == 0 || n > 65535) return bad("port is not 1..65535");
    out.port = static_cast<uint16_t>(n);
  }
  return out;
}

}  // namespace fogm2m::lwm2m
