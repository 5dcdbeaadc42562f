// A small blocking Redis client (hiredis) for the testbed's own checks:
// is a node in NODES, how many devices are registered, who owns which
// endpoint. It connects from inside a network namespace (the socket keeps
// that namespace), so it reaches a Redis on a run's back network.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lwm2m/result.h"

struct redisContext;

namespace fogm2m::testbed {

struct RedisValue {
  enum class Kind { kNil, kString, kInteger, kArray };
  Kind kind = Kind::kNil;
  std::string text;  // strings and status replies
  long long integer = 0;
  std::vector<RedisValue> elements;
};

class RedisClient {
 public:
  // Connects to host:port; `netns` empty: from the caller's namespace.
  static Result<RedisClient> connect(
      const std::string& netns, const std::string& host, uint16_t port,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

  // One command; an error reply of Redis is an error (kIo, with its text).
  Result<RedisValue> command(const std::vector<std::string>& args);

  // Every key matching a glob pattern (SCAN, so Redis is not blocked).
  Result<std::vector<std::string>> keys(const std::string& pattern);

  // Endpoint -> owning node id, from the ownership keys (store/keys.h).
  Result<std::map<std::string, std::string>> owners();

  // Members of the heartbeat set (nodes that joined the cluster).
  Result<std::vector<std::string>> cluster_nodes();

 private:
  struct Free {
    void operator()(redisContext* context) const;
  };
  std::unique_ptr<redisContext, Free> context_;
};

}  // namespace fogm2m::testbed
