// The Redis key schema of the cluster (DESIGN.md, "Redis key schema"): every
// key any part of fogm2m reads or writes is named here, nowhere else.
//
// Keys of one endpoint carry the hash tag {<ep>}, so a Redis Cluster keeps
// them in one slot and a MULTI/EXEC or Lua script may touch them together:
//   REG:EP:{ep}         registration record (JSON, thesis fields)
//   EP#UID:{ep}         id of the owning node, TTL = registration lifetime
//   TKNS:EP:{ep}        set of the endpoint's observation tokens (hex)
//   OBS:TKN:{ep}<tkn>   observation record (JSON), tkn in hex
//   SEC:EP:{ep}         PSK security info (JSON: identity, key in hex)
//   VAL:EP:{ep}         hash of the last values the device sent (LwM2M Send):
//                       field = resource path ("/3313/0/5702"), value =
//                       {"ts":<Unix ms received>,"node":<node JSON>}
//                       (store/value_store.h); removed with the registration
// Indexes that are looked up by something other than the endpoint live in
// their own slots, hold only the endpoint name, and are verified on read
// (the record they lead to must point back):
//   EP:REGID:<regId>    -> ep
//   EP:ADDR:<ip:port>   -> ep
//   SEC:ID:<identity>   -> ep
//   EP:TKN:<tkn>        -> ep (an observation found by its token alone: a
//                       notification from an address the store does not
//                       know, after NAT rebinding)
//   EXP:EP              sorted set: ep scored by expiry time (Unix ms)
// Cluster membership:
//   NODES               sorted set: node id scored by its last heartbeat (Unix ms)
// The prefixes of the reference study's Leshan cluster are kept; the tags
// are the only addition.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace fogm2m::store::keys {

inline std::string tag(std::string_view ep) {
  return "{" + std::string(ep) + "}";
}

inline constexpr std::string_view kRegistrationPrefix = "REG:EP:";
inline constexpr std::string_view kOwnerPrefix = "EP#UID:";

inline std::string registration(std::string_view ep) {
  return std::string(kRegistrationPrefix) + tag(ep);
}
inline std::string owner(std::string_view ep) {
  return std::string(kOwnerPrefix) + tag(ep);
}
inline std::string tokens(std::string_view ep) {
  return "TKNS:EP:" + tag(ep);
}
inline std::string observation(std::string_view ep, std::string_view token_hex) {
  return "OBS:TKN:" + tag(ep) + std::string(token_hex);
}
inline std::string security(std::string_view ep) {
  return "SEC:EP:" + tag(ep);
}

inline std::string values(std::string_view ep) {
  return "VAL:EP:" + tag(ep);
}

inline std::string reg_id_index(std::string_view reg_id) {
  return "EP:REGID:" + std::string(reg_id);
}
inline std::string address_index(std::string_view address) {
  return "EP:ADDR:" + std::string(address);
}
inline std::string token_index(std::string_view token_hex) {
  return "EP:TKN:" + std::string(token_hex);
}
inline std::string identity_index(std::string_view identity) {
  return "SEC:ID:" + std::string(identity);
}
inline constexpr std::string_view kExpiry = "EXP:EP";
inline constexpr std::string_view kNodes = "NODES";

// SCAN patterns: every registration record, every ownership key, every PSK entry.
inline constexpr std::string_view kRegistrationPattern = "REG:EP:*";
inline constexpr std::string_view kOwnerPattern = "EP#UID:*";
inline constexpr std::string_view kSecurityPattern = "SEC:EP:*";

// The endpoint a per-endpoint key with `prefix` names ("EP#UID:{dev-1}" ->
// "dev-1"); nullopt when `key` is not such a key.
inline std::optional<std::string> endpoint_of(std::string_view key, std::string_view prefix) {
  if (!key.starts_with(prefix)) return std::nullopt;
  key.remove_prefix(prefix.size());
  if (key.size() < 2 || key.front() != '{' || key.back() != '}') return std::nullopt;
  return std::string(key.substr(1, key.size() - 2));
}

}  // namespace fogm2m::store::keys
