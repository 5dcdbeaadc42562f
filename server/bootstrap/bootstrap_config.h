// What the bootstrap server (bootstrap_server.h) writes into each client: a
// text file of sections, one per endpoint and one default, of key = value
// lines ('#' starts a comment):
//
//   [default]                      # for every endpoint without its own section
//   server_uri = coap://127.0.0.1:5683
//
//   [endpoint dev-7]
//   server_uri = coaps://10.0.0.1:5684
//   security = psk                 # nosec (default) or psk
//   psk_identity = dev-7
//   psk_key = 0123456789abcdef     # hex
//   short_server_id = 2            # 1..65534, default 1
//   lifetime = 600                 # seconds, default 300
//   delete = true                  # Bootstrap-Delete /0 and /1 first (default false)
//
// server_uri is required in every section; psk needs psk_identity and
// psk_key, nosec takes neither. Errors name the file and line:
// "bs.conf:7: unknown key \"lifetme\"".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::server {

struct BootstrapEntry {
  std::string server_uri;
  bool psk = false;  // else NoSec
  std::string psk_identity;
  std::string psk_key;  // raw bytes
  uint16_t short_server_id = 1;
  uint32_t lifetime_s = 300;
  bool delete_first = false;
};

struct BootstrapConfig {
  std::optional<BootstrapEntry> fallback;  // [default]
  std::map<std::string, BootstrapEntry, std::less<>> endpoints;

  // The endpoint's own entry, else the default; null when neither exists.
  const BootstrapEntry* find(std::string_view endpoint) const;
};

// Parses the text of a configuration file; `file_name` prefixes errors
// (kInvalidArgument, "file:line: why").
Result<BootstrapConfig> parse_bootstrap_config(std::string_view text, std::string_view file_name);

// Reads and parses `path` (kIo when it cannot be read).
Result<BootstrapConfig> load_bootstrap_config(const std::string& path);

}  // namespace fogm2m::server
