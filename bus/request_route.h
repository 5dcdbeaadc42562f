// Where a requester puts a request on the bus: on the channel every node
// reads (broadcast, the reference study's way), or on its owner's channel
// alone (routed). The one place that decides, for every requester: the load
// generator (runner/load_generator.h) and the gateway (gateway/bus_client.h).
//
// Broadcast: every request is published on Channels::requests (LWM2M_REQ);
// every node parses it, the owner acts, the fallback node answers what
// nobody owns (server/services/request_router.h).
//
// Routed: a request for endpoint E is published on
// Channels::node_requests(owner) ("LWM2M_REQ:<node-id>"), which only the
// owner reads, so the other N-1 nodes never see it. The owner is the value
// of the ownership key EP#UID:{E} (store/keys.h), and it must be alive in
// the cluster membership (store::keys::kNodes: a heartbeat younger than
// `liveness`). Otherwise the request goes on the broadcast channel, where
// the nodes answer it exactly as they answer any broadcast request:
//   - a sec_info request (every node mirrors it in its PSK cache);
//   - E has no owner (unknown endpoint: the fallback node says so), or its
//     owner is not alive (the fallback answers for the dead owner, or the
//     node that took E over serves it);
//   - the lookup failed (Redis answered the GET with an error);
//   - the PUBLISH on the owner's channel reached no subscriber (the owner's
//     process is gone but its heartbeats have not lapsed yet): the same
//     message is published again on the broadcast channel, and E's entry
//     is dropped.
//
// Cache: the owner of E (or that it has none) is kept for `owner_ttl` after
// the lookup; lookups of one endpoint in flight share one GET. The
// membership view is read again (ZRANGEBYSCORE) when older than
// `membership_refresh`; until the first view arrives no node counts as
// alive. forget(E) drops E's entry (the gateway calls it when a request of
// E timed out). A stale entry costs a hop, never an answer: a node that
// gets a routed request for a device it does not hold puts the request back
// on the broadcast channel (RequestRouter::on_routed_message()).
//
// What routed mode cannot do: a node that hangs (SIGSTOP, a partition)
// keeps its subscription, so requests routed to it before its heartbeats
// lapse (`liveness`, 3.5 s) go unanswered and time out at the requester;
// in broadcast mode the fallback node would answer them after `liveness`.
//
// Single-threaded: every call on the Redis link's io_context thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/channels.h"
#include "bus/request.h"
#include "io/lifetime.h"
#include "io/redis_client.h"
#include "io/unix_clock.h"
#include "lwm2m/result.h"

namespace fogm2m::bus {

enum class BusMode {
  kBroadcast,  // every request to every node (the reference study)
  kRouted,     // each request to its owner alone, broadcast when that cannot be
};

const char* to_string(BusMode mode);  // "broadcast", "routed"
// "broadcast" or "routed"; nullopt otherwise.
std::optional<BusMode> parse_bus_mode(std::string_view text);

struct RequestRouteOptions {
  BusMode mode = BusMode::kBroadcast;
  Channels channels;
  // How long a looked-up owner (or its absence) is trusted.
  std::chrono::milliseconds owner_ttl{2000};
  // How old the view of the live nodes may grow before it is read again.
  std::chrono::milliseconds membership_refresh{1000};
  // A node is alive while its last heartbeat is younger than this: the
  // nodes' own rule (server::RedisMembership's default).
  std::chrono::milliseconds liveness{3500};
  io::UnixClock clock = io::system_unix_ms;  // the heartbeats' clock
};

class RequestRoute {
 public:
  // `sent` gets ok once Redis took the PUBLISH (listened to or not), or the
  // error when it refused it (the link is down).
  using Sent = std::function<void(Status)>;

  // `redis` must outlive the route. On a Redis Cluster the requests go out
  // with SPUBLISH (sharded pub/sub), where the nodes SSUBSCRIBE.
  RequestRoute(io::RedisClient& redis, RequestRouteOptions options = {});
  // One server through a command link (which must outlive the route).
  RequestRoute(io::RedisLink& redis, RequestRouteOptions options = {});

  // Publishes `message`, `request` as bus::format_request() wrote it, on the
  // channel chosen above. `sent` (may be empty) runs once, later (not after
  // the route is destroyed).
  void publish(const Request& request, std::string message, Sent sent);

  // Publishes `message` on the broadcast channel whatever the mode: for a
  // repeat after a bus loss (bus/loss_resender.h), when owners may have
  // changed. `sent` as for publish().
  void publish_broadcast(std::string_view message, Sent sent) {
    broadcast(message, std::move(sent));
  }

  // Drops what is known of `endpoint`'s owner: its next request looks it up.
  void forget(const std::string& endpoint) { owners_.erase(endpoint); }

  BusMode mode() const { return options_.mode; }

  struct Counters {
    uint64_t broadcast = 0;      // published on the broadcast channel (first try)
    uint64_t routed = 0;         // published on an owner's channel
    uint64_t lookups = 0;        // GETs of an ownership key
    uint64_t lookup_errors = 0;  // ... that failed (their requests went broadcast)
    uint64_t unheard = 0;        // routed, heard by nobody, published again broadcast
  };
  const Counters& counters() const { return counters_; }

 private:
  static constexpr size_t kFirstPurge = 4096;
  struct Owner {
    std::optional<std::string> node;  // nullopt: the endpoint has no owner
    std::chrono::steady_clock::time_point expires;
  };
  struct Waiting {
    std::string message;
    Sent sent;
  };

  void look_up(const std::string& endpoint);
  void on_owner(const std::string& endpoint, Result<io::RedisReply> reply);
  void refresh_membership();
  // Publishes on the owner's channel when `owner` is a live node, else broadcast.
  void send_to(const std::string& endpoint, const std::optional<std::string>& owner,
               std::string message, Sent sent);
  void broadcast(std::string_view message, Sent sent);
  void forget_expired(std::chrono::steady_clock::time_point now);

  std::unique_ptr<io::RedisClient> owned_;  // when built from a link
  io::RedisClient& redis_;
  RequestRouteOptions options_;
  std::unordered_map<std::string, Owner> owners_;
  size_t purge_at_ = kFirstPurge;  // owners_ is swept of expired entries at this size
  std::unordered_map<std::string, std::vector<Waiting>> lookups_;  // endpoint -> requests
  std::set<std::string, std::less<>> alive_;
  bool view_pending_ = false;
  bool view_read_ = false;  // the first view of the live nodes has come back
  std::vector<std::function<void()>> held_for_view_;              // lookups answered before it
  std::optional<std::chrono::steady_clock::time_point> view_at_;  // last (attempted) read
  Counters counters_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::bus
