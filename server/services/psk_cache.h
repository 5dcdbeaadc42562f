// PSK keys by identity, answered synchronously: a DTLS handshake asks for a
// key from inside libcoap's callback, which cannot wait for an asynchronous
// store. The cache is filled from the security store at start, kept current
// from the sec_info requests every node sees on the bus, and on a miss asks
// a blocking loader (a short synchronous Redis GET) once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/security_info.h"

namespace fogm2m::server {

class PskCache {
 public:
  using Loader = std::function<std::optional<store::SecurityInfo>(std::string_view identity)>;

  void set_loader(Loader loader) { loader_ = std::move(loader); }

  // The info whose identity is `identity`, from the cache or the loader.
  std::optional<store::SecurityInfo> find(std::string_view identity);
  void put(const store::SecurityInfo& info);
  void erase_endpoint(const std::string& endpoint);
  size_t size() const { return by_identity_.size(); }

 private:
  std::unordered_map<std::string, store::SecurityInfo> by_identity_;
  std::unordered_map<std::string, std::string> identity_by_endpoint_;
  Loader loader_;
};

// A loader that does a blocking lookup on its own synchronous Redis
// connection (SEC:ID:<identity> then SEC:EP:{ep}), with a short timeout.
// Returns nullopt when Redis is unreachable. In a Redis Cluster, host:port
// is any node of it: MOVED replies are followed.
PskCache::Loader make_redis_psk_loader(const std::string& host, uint16_t port,
                                       int timeout_ms = 200);

}  // namespace fogm2m::server
