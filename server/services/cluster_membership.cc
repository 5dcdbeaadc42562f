#include "server/services/cluster_membership.h"

#include <chrono>
#include <cstdlib>

#include "store/keys.h"

namespace fogm2m::server {

RedisMembership::RedisMembership(boost::asio::io_context& io, io::RedisClient& redis,
                                 std::string node_id, io::UnixClock clock,
                                 std::chrono::milliseconds period,
                                 std::chrono::milliseconds liveness)
    : redis_(redis),
      node_id_(std::move(node_id)),
      clock_(std::move(clock)),
      period_(period),
      liveness_(liveness),
      timer_(io) {
  alive_.insert(node_id_);
}

void RedisMembership::start() {
  running_ = true;
  beat();
}

void RedisMembership::stop() {
  running_ = false;
  timer_.cancel();
  redis_.command({"ZREM", store::keys::kNodes, node_id_}, [](Result<io::RedisReply>) {});
}

void RedisMembership::beat() {
  if (!running_) return;
  const int64_t now = clock_();
  redis_.command({"ZADD", store::keys::kNodes, std::to_string(now), node_id_},
                 [](Result<io::RedisReply>) {});
  redis_.command(
      {"ZRANGEBYSCORE", store::keys::kNodes, std::to_string(now - liveness_.count()), "+inf"},
      lifetime_.guard([this](Result<io::RedisReply> r) {
        if (!r || !r->is_array()) return;
        std::set<std::string> alive{node_id_};
        for (const auto& e : r->elements) alive.insert(e.str);
        alive_ = std::move(alive);
      }));
  timer_.expires_after(period_);
  timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (!ec) beat();
  }));
}

bool RedisMembership::is_fallback() const {
  return !alive_.empty() && *alive_.begin() == node_id_;
}

bool RedisMembership::is_alive(const std::string& node_id) const {
  return alive_.count(node_id) != 0;
}

void RedisMembership::check_alive(const std::string& node_id, std::function<void(bool)> done) {
  if (is_alive(node_id)) return done(true);
  check_alive_now(node_id, std::move(done));
}

void RedisMembership::check_alive_now(const std::string& node_id, std::function<void(bool)> done) {
  const int64_t oldest = clock_() - liveness_.count();
  redis_.command({"ZSCORE", store::keys::kNodes, node_id},
                 lifetime_.guard([this, node_id, oldest, done](Result<io::RedisReply> r) {
                   const bool alive =
                       r && r->is_string() &&
                       std::strtod(r->str.c_str(), nullptr) >= static_cast<double>(oldest);
                   if (alive) {
                     alive_.insert(node_id);
                   } else if (node_id != node_id_) {
                     alive_.erase(node_id);
                   }
                   done(alive);
                 }));
}

}  // namespace fogm2m::server
