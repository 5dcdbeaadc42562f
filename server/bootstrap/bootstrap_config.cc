#include "server/bootstrap/bootstrap_config.h"

#include <fstream>
#include <sstream>

#include "lwm2m/coap_uri.h"
#include "lwm2m/hex.h"

namespace fogm2m::server {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool parse_uint(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > max) return false;
  }
  out = n;
  return true;
}

}  // namespace

const BootstrapEntry* BootstrapConfig::find(std::string_view endpoint) const {
  if (auto it = endpoints.find(endpoint); it != endpoints.end()) return &it->second;
  return fallback ? &*fallback : nullptr;
}

Result<BootstrapConfig> parse_bootstrap_config(std::string_view text, std::string_view file_name) {
  BootstrapConfig config;
  BootstrapEntry* entry = nullptr;
  size_t entry_line = 0;
  std::string section;
  auto error = [&](size_t line, const std::string& why) {
    return make_error(ErrorKind::kInvalidArgument,
                      std::string(file_name) + ":" + std::to_string(line) + ": " + why);
  };
  // Checks the section just ended.
  auto finish = [&]() -> Status {
    if (entry == nullptr) return {};
    if (entry->server_uri.empty())
      return error(entry_line, "section " + section + " has no server_uri");
    if (entry->psk && (entry->psk_identity.empty() || entry->psk_key.empty()))
      return error(entry_line, "section " + section +
                                   ": security = psk needs psk_identity and "
                                   "psk_key");
    if (!entry->psk && (!entry->psk_identity.empty() || !entry->psk_key.empty()))
      return error(entry_line,
                   "section " + section + ": psk_identity and psk_key need security = psk");
    return {};
  };

  size_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    ++line_no;
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;

    if (line.front() == '[') {
      if (line.back() != ']') return error(line_no, "a section header must end in ']'");
      if (Status s = finish(); !s) return s.error();
      const std::string_view name = trim(line.substr(1, line.size() - 2));
      section = "[" + std::string(name) + "]";
      entry_line = line_no;
      if (name == "default") {
        if (config.fallback) return error(line_no, "a second [default] section");
        config.fallback.emplace();
        entry = &*config.fallback;
      } else if (name.starts_with("endpoint ") || name.starts_with("endpoint\t")) {
        const std::string ep(trim(name.substr(9)));
        if (ep.empty()) return error(line_no, "[endpoint NAME] needs a name");
        if (config.endpoints.contains(ep))
          return error(line_no, "a second section for endpoint \"" + ep + "\"");
        entry = &config.endpoints[ep];
      } else {
        return error(line_no, "unknown section " + section +
                                  " (sections are [default] and [endpoint NAME])");
      }
      continue;
    }

    const size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error(line_no, "expected key = value");
    const std::string key(trim(line.substr(0, eq)));
    const std::string_view value = trim(line.substr(eq + 1));
    if (entry == nullptr)
      return error(line_no, "\"" + key + "\" outside a section ([default] or [endpoint NAME])");
    uint64_t n = 0;
    if (key == "server_uri") {
      auto uri = lwm2m::parse_coap_uri(value);
      if (!uri) return error(line_no, uri.error().message);
      entry->server_uri = std::string(value);
    } else if (key == "security") {
      if (value == "psk") {
        entry->psk = true;
      } else if (value == "nosec") {
        entry->psk = false;
      } else {
        return error(line_no, "security is nosec or psk, not \"" + std::string(value) + "\"");
      }
    } else if (key == "psk_identity") {
      if (value.empty()) return error(line_no, "empty psk_identity");
      entry->psk_identity = std::string(value);
    } else if (key == "psk_key") {
      auto key_bytes = fogm2m::from_hex(value);
      if (!key_bytes || key_bytes->empty())
        return error(line_no, "psk_key is not a non-empty hex string");
      entry->psk_key = *key_bytes;
    } else if (key == "short_server_id") {
      if (!parse_uint(value, 65534, n) || n == 0)
        return error(line_no, "short_server_id is not 1..65534");
      entry->short_server_id = static_cast<uint16_t>(n);
    } else if (key == "lifetime") {
      if (!parse_uint(value, 0xffffffffu, n) || n == 0)
        return error(line_no, "lifetime is not 1..4294967295 seconds");
      entry->lifetime_s = static_cast<uint32_t>(n);
    } else if (key == "delete") {
      if (value != "true" && value != "false") return error(line_no, "delete is true or false");
      entry->delete_first = value == "true";
    } else {
      return error(line_no, "unknown key \"" + key + "\"");
    }
  }
  if (Status s = finish(); !s) return s.error();
  if (!config.fallback && config.endpoints.empty())
    return error(line_no, "no section: nothing to bootstrap");
  return config;
}

Result<BootstrapConfig> load_bootstrap_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorKind::kIo, path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_bootstrap_config(text.str(), path);
}

}  // namespace fogm2m::server
