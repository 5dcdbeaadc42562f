#include "server/services/psk_cache.h"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>
#include <string_view>

#include "store/keys.h"

namespace fogm2m::server {

std::optional<store::SecurityInfo> PskCache::find(std::string_view identity) {
  if (auto it = by_identity_.find(std::string(identity)); it != by_identity_.end())
    return it->second;
  if (!loader_) return std::nullopt;
  auto loaded = loader_(identity);
  if (loaded) put(*loaded);
  return loaded;
}

void PskCache::put(const store::SecurityInfo& info) {
  erase_endpoint(info.endpoint);
  by_identity_[info.identity] = info;
  identity_by_endpoint_[info.endpoint] = info.identity;
}

void PskCache::erase_endpoint(const std::string& endpoint) {
  auto it = identity_by_endpoint_.find(endpoint);
  if (it == identity_by_endpoint_.end()) return;
  by_identity_.erase(it->second);
  identity_by_endpoint_.erase(it);
}

PskCache::Loader make_redis_psk_loader(const std::string& host, uint16_t port, int timeout_ms) {
  struct Conn {
    redisContext* ctx = nullptr;
    ~Conn() {
      if (ctx) redisFree(ctx);
    }
  };
  auto conn = std::make_shared<Conn>();
  return [conn, host, port,
          timeout_ms](std::string_view identity) -> std::optional<store::SecurityInfo> {
    auto connect = [&](const std::string& to_host, uint16_t to_port) {
      if (conn->ctx) redisFree(conn->ctx);
      timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
      conn->ctx = redisConnectWithTimeout(to_host.c_str(), to_port, tv);
      if (!conn->ctx || conn->ctx->err) return false;
      redisSetTimeout(conn->ctx, tv);
      return true;
    };
    if ((!conn->ctx || conn->ctx->err) && !connect(host, port)) return std::nullopt;
    // In a Redis Cluster the two keys live in different slots: a MOVED
    // reply names the node to ask, which is asked next (a few hops at most).
    auto get = [&](const std::string& key) -> std::optional<std::string> {
      for (int hop = 0; hop < 3; ++hop) {
        const char* argv[] = {"GET", key.c_str()};
        const size_t lens[] = {3, key.size()};
        auto* reply = static_cast<redisReply*>(redisCommandArgv(conn->ctx, 2, argv, lens));
        if (!reply) return std::nullopt;
        std::optional<std::string> out;
        std::string moved_to;
        if (reply->type == REDIS_REPLY_STRING) out.emplace(reply->str, reply->len);
        if (reply->type == REDIS_REPLY_ERROR) {
          const std::string_view text(reply->str, reply->len);
          if (text.starts_with("MOVED ")) {
            const size_t space = text.rfind(' ');
            moved_to = std::string(text.substr(space + 1));
          }
        }
        freeReplyObject(reply);
        if (moved_to.empty()) return out;
        const size_t colon = moved_to.rfind(':');
        if (colon == std::string::npos) return std::nullopt;
        const int to_port = std::atoi(moved_to.c_str() + colon + 1);
        if (to_port <= 0 || to_port > 65535 ||
            !connect(moved_to.substr(0, colon), static_cast<uint16_t>(to_port)))
          return std::nullopt;
      }
      return std::nullopt;
    };
    auto ep = get(store::keys::identity_index(identity));
    if (!ep) return std::nullopt;
    auto record = get(store::keys::security(*ep));
    if (!record) return std::nullopt;
    auto info = store::security_info_from_record_json(*record);
    if (!info || info->identity != identity) return std::nullopt;
    return *info;
  };
}

}  // namespace fogm2m::server
