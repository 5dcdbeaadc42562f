// The server URIs LwM2M's Security object carries (/0/x/0): "coap://host:port"
// and "coaps://host:port" (RFC 7252 6.1, 6.2; the port defaults to 5683 and
// 5684). Hosts are IPv4 literals, names, or IPv6 literals in brackets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

struct CoapUri {
  bool secure = false;  // coaps
  std::string host;     // without brackets
  uint16_t port = 5683;
};

// kInvalidArgument, naming what is wrong, for another scheme, an empty host,
// a port that is not 1..65535, or a path or query after the port.
Result<CoapUri> parse_coap_uri(std::string_view uri);

}  // namespace fogm2m::lwm2m
