// An observation the cluster holds on a device resource: who asked (the bus
// ticket notifications are forwarded with), what is observed, and the CoAP
// token that identifies it on the wire. As a record:
//   {"tkn","ep","regId","path","ct","ticket","created"[,"paths":["/3/0/9",..]]}
// ("paths" only for a composite observation).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/content_format.h"
#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::store {

struct Observation {
  std::string token_hex;  // the CoAP token, lower-case hex (1..8 bytes)
  std::string endpoint;
  std::string reg_id;
  lwm2m::Path path;
  lwm2m::ContentFormat content_format = lwm2m::ContentFormat::kTlv;  // requested Accept
  std::string ticket;  // the observe request's bus ticket
  int64_t created_ms = 0;
  // A composite observation (Observe-Composite): the paths it observes, in
  // the request's order; `path` is then the root. Empty for a single one.
  std::vector<lwm2m::Path> paths{};

  bool composite() const { return !paths.empty(); }
};

boost::json::value to_json(const Observation& obs);
std::string to_json_string(const Observation& obs);
Result<Observation> observation_from_json_string(std::string_view text);

// Hex of raw token bytes and back; token_from_hex fails on odd length,
// non-hex characters or more than 8 bytes.
std::string token_to_hex(std::string_view token);
Result<std::string> token_from_hex(std::string_view hex);

}  // namespace fogm2m::store
