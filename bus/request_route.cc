#include "bus/request_route.h"

#include <algorithm>
#include <memory>

#include "store/keys.h"

namespace fogm2m::bus {

using Clock = std::chrono::steady_clock;

namespace {

// What a PUBLISH reply means to the requester: taken, or refused.
Status outcome(const Result<io::RedisReply>& reply) {
  if (!reply) return reply.error();
  return {};
}

}  // namespace

const char* to_string(BusMode mode) {
  return mode == BusMode::kRouted ? "routed" : "broadcast";
}

std::optional<BusMode> parse_bus_mode(std::string_view text) {
  if (text == "broadcast") return BusMode::kBroadcast;
  if (text == "routed") return BusMode::kRouted;
  return std::nullopt;
}

RequestRoute::RequestRoute(io::RedisClient& redis, RequestRouteOptions options)
    : redis_(redis), options_(std::move(options)) {}

RequestRoute::RequestRoute(io::RedisLink& redis, RequestRouteOptions options)
    : owned_(std::make_unique<io::SingleRedis>(redis)),
      redis_(*owned_),
      options_(std::move(options)) {}

void RequestRoute::publish(const Request& request, std::string message, Sent sent) {
  if (options_.mode == BusMode::kBroadcast || request.kind == RequestKind::kSecInfo) {
    ++counters_.broadcast;
    return broadcast(message, std::move(sent));
  }
  refresh_membership();
  if (auto it = owners_.find(request.endpoint); it != owners_.end()) {
    if (it->second.expires > Clock::now()) {
      const std::optional<std::string> owner = it->second.node;
      return send_to(request.endpoint, owner, std::move(message), std::move(sent));
    }
    owners_.erase(it);
  }
  std::vector<Waiting>& waiting = lookups_[request.endpoint];
  waiting.push_back(Waiting{std::move(message), std::move(sent)});
  if (waiting.size() == 1) look_up(request.endpoint);
}

// --- the owner --------------------------------------------------------------

void RequestRoute::look_up(const std::string& endpoint) {
  ++counters_.lookups;
  const std::string key = store::keys::owner(endpoint);
  redis_.command({std::string_view("GET"), std::string_view(key)},
                 lifetime_.guard([this, endpoint](Result<io::RedisReply> reply) {
                   on_owner(endpoint, std::move(reply));
                 }));
}

// The GET of `endpoint`'s ownership key answered: every request that waited
// for it goes out. A failed lookup is not cached (the next request asks
// again); its requests go broadcast.
void RequestRoute::on_owner(const std::string& endpoint, Result<io::RedisReply> reply) {
  auto it = lookups_.find(endpoint);
  if (it == lookups_.end()) return;
  std::vector<Waiting> waiting = std::move(it->second);
  lookups_.erase(it);
  std::optional<std::string> owner;
  if (!reply) {
    ++counters_.lookup_errors;
  } else {
    if (reply->is_string()) owner = std::move(reply->str);
    const auto now = Clock::now();
    if (owners_.size() >= purge_at_) forget_expired(now);
    owners_[endpoint] = Owner{owner, now + options_.owner_ttl};
  }
  auto send = [this, endpoint, owner, waiting = std::move(waiting)]() mutable {
    for (Waiting& w : waiting) send_to(endpoint, owner, std::move(w.message), std::move(w.sent));
  };
  // On a Redis Cluster the lookup and the first view of the live nodes
  // travel to different masters: a lookup answered first waits for the view.
  if (!view_read_ && view_pending_) return held_for_view_.push_back(std::move(send));
  send();
}

void RequestRoute::forget_expired(Clock::time_point now) {
  std::erase_if(owners_, [now](const auto& entry) { return entry.second.expires <= now; });
  purge_at_ = std::max(kFirstPurge, 2 * owners_.size());
}

// --- the live nodes ---------------------------------------------------------

// Reads the live nodes again when the view is older than membership_refresh
// (and no read is in flight). Requests do not wait for it: they use the view
// they find. The first read goes out before the first lookup: on one server
// (same connection) it is answered first; on a Redis Cluster (NODES and the
// ownership keys on different masters) lookups answered sooner wait for it.
void RequestRoute::refresh_membership() {
  const auto now = Clock::now();
  if (view_pending_ || (view_at_ && now - *view_at_ < options_.membership_refresh)) return;
  view_pending_ = true;
  view_at_ = now;
  const std::string oldest = std::to_string(options_.clock() - options_.liveness.count());
  redis_.command({std::string_view("ZRANGEBYSCORE"), store::keys::kNodes, std::string_view(oldest),
                  std::string_view("+inf")},
                 lifetime_.guard([this](Result<io::RedisReply> reply) {
                   view_pending_ = false;
                   if (reply && reply->is_array()) {  // else the old view stands
                     std::set<std::string, std::less<>> alive;
                     for (io::RedisReply& e : reply->elements) alive.insert(std::move(e.str));
                     alive_ = std::move(alive);
                   }
                   view_read_ = true;
                   auto held = std::move(held_for_view_);
                   held_for_view_.clear();
                   for (auto& send : held) send();
                 }));
}

// --- publishing -------------------------------------------------------------

void RequestRoute::send_to(const std::string& endpoint, const std::optional<std::string>& owner,
                           std::string message, Sent sent) {
  if (!owner || alive_.count(*owner) == 0) {
    ++counters_.broadcast;
    return broadcast(message, std::move(sent));
  }
  ++counters_.routed;
  const std::string channel = options_.channels.node_requests(*owner);
  // Kept until the reply: a PUBLISH nobody heard goes out again, broadcast.
  auto kept = std::make_shared<const std::string>(std::move(message));
  redis_.publish(channel, *kept,
                 lifetime_.guard([this, endpoint, kept,
                                  sent = std::move(sent)](Result<io::RedisReply> reply) mutable {
                   if (reply && reply->is_integer() && reply->integer == 0) {
                     ++counters_.unheard;
                     forget(endpoint);
                     return broadcast(*kept, std::move(sent));
                   }
                   if (sent) sent(outcome(reply));
                 }));
}

void RequestRoute::broadcast(std::string_view message, Sent sent) {
  redis_.publish(options_.channels.requests, message,
                 [sent = std::move(sent)](Result<io::RedisReply> reply) {
                   if (sent) sent(outcome(reply));
                 });
}

}  // namespace fogm2m::bus
