// A small blocking Redis client (hiredis) for the testbed's own checks:
// is a node in NODES, how many devices are registered, who owns which
// endpoint. It connects from inside a network namespace (the socket keeps
// that namespace), so it reaches a Redis on a run's back network.
//
// A Redis Cluster works too: a command answered with MOVED is sent again to
// the node the reply names (connected on demand, from the same namespace),
// and keys() SCANs every master. A multi-key command must name keys of one
// slot (owners() reads them one by one in a cluster).
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
  // In a cluster, MOVED is followed (a few hops at most).
  Result<RedisValue> command(const std::vector<std::string>& args);
  // Whether the server is a Redis Cluster node (asked once, at connect).
  bool clustered() const { return clustered_; }

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
  using Context = std::unique_ptr<redisContext, Free>;
  static Result<Context> open(const std::string& netns, const std::string& host, uint16_t port,
                              std::chrono::milliseconds timeout);
  Result<RedisValue> command_on(redisContext* context, const std::vector<std::string>& args,
                                std::string* moved_to);
  // The connection to "host:port" (made on first use).
  Result<redisContext*> context_for(const std::string& address);
  Result<std::vector<std::string>> scan(redisContext* context, const std::string& pattern);

  std::string netns_;
  std::chrono::milliseconds timeout_{2000};
  bool clustered_ = false;
  Context context_;
  std::map<std::string, Context> others_;  // cluster nodes by "host:port"
};

}  // namespace fogm2m::testbed
