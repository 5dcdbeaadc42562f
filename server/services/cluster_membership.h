// Which nodes of the cluster are alive, and which one answers for nobody.
//
// Requests go to every node (broadcast bus; a routed request, to its owner
// alone, bus/request_route.h); only the owner of the endpoint acts. A request nobody owns (unknown
// endpoint, owner down) or that cannot be read at all would go unanswered, so exactly one node, the
// "fallback" (the live node with the smallest id), looks such requests up in the store and answers
// them with an error. Other nodes pay no Redis round trip for endpoints that are not theirs.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <set>
#include <string>

#include "io/lifetime.h"
#include "io/redis_client.h"
#include "io/unix_clock.h"

namespace fogm2m::server {

class ClusterMembership {
 public:
  virtual ~ClusterMembership() = default;
  virtual void start() = 0;
  // Leaves the cluster (the node no longer counts as alive).
  virtual void stop() = 0;
  virtual bool is_fallback() const = 0;
  virtual bool is_alive(const std::string& node_id) const = 0;
  // Asks the cluster afresh whether `node_id` is alive (the cached view may
  // not know a node that joined within the last period); `done` runs once.
  virtual void check_alive(const std::string& node_id, std::function<void(bool)> done) = 0;
  // As check_alive(), but always asks the store (for a node that looked
  // alive a liveness period ago).
  virtual void check_alive_now(const std::string& node_id, std::function<void(bool)> done) = 0;
  // How long a node that stopped beating still counts as alive.
  virtual std::chrono::milliseconds liveness() const = 0;
};

// A node alone: always the fallback, only itself alive.
class SingleNodeMembership final : public ClusterMembership {
 public:
  explicit SingleNodeMembership(std::string node_id) : node_id_(std::move(node_id)) {}
  void start() override {}
  void stop() override {}
  bool is_fallback() const override { return true; }
  bool is_alive(const std::string& node_id) const override { return node_id == node_id_; }
  void check_alive(const std::string& node_id, std::function<void(bool)> done) override {
    done(is_alive(node_id));
  }
  void check_alive_now(const std::string& node_id, std::function<void(bool)> done) override {
    done(is_alive(node_id));
  }
  std::chrono::milliseconds liveness() const override { return {}; }

 private:
  std::string node_id_;
};

// Heartbeats in the Redis sorted set store::keys::kNodes (member: node id,
// score: last beat in Unix ms); a node is alive while its last beat is younger than
// `liveness`. Beats and view refreshes happen every `period`.
class RedisMembership final : public ClusterMembership {
 public:
  RedisMembership(boost::asio::io_context& io, io::RedisClient& redis, std::string node_id,
                  io::UnixClock clock = io::system_unix_ms,
                  std::chrono::milliseconds period = std::chrono::milliseconds(1000),
                  std::chrono::milliseconds liveness = std::chrono::milliseconds(3500));

  void start() override;
  void stop() override;
  bool is_fallback() const override;
  bool is_alive(const std::string& node_id) const override;
  void check_alive(const std::string& node_id, std::function<void(bool)> done) override;
  void check_alive_now(const std::string& node_id, std::function<void(bool)> done) override;
  std::chrono::milliseconds liveness() const override { return liveness_; }

 private:
  void beat();

  io::RedisClient& redis_;
  std::string node_id_;
  io::UnixClock clock_;
  std::chrono::milliseconds period_, liveness_;
  boost::asio::steady_timer timer_;
  std::set<std::string> alive_;
  bool running_ = false;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::server
