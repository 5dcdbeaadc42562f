// The gateway's end of the Redis bus: it asks the cluster's nodes and hears
// what they announce.
//
// - send(): publishes a request (bus/request.h) under a ticket of the
//   gateway's own and hands its replies (bus/reply.h) to the caller: the
//   ack, then the final rep or err; or kTimeout when none came in time, or
//   kIo when the bus could not take the request. Exactly one final outcome
//   per request, never silence. Where it goes, every node or its owner
//   alone, is BusClientOptions::mode's (bus/request_route.h); a request that
//   timed out makes its endpoint's owner be looked up afresh. Requests in
//   flight when the bus is lost are published again once it is back, until
//   a node confirms them (bus/loss_resender.h): Redis pub/sub may have
//   swallowed them or their replies. So are they when a node dies or comes
//   back from a silence (bus/node_watch.h): those it held are then
//   answered by it, by the node that took their device over, or with an
//   error, before they time out. A
//   request's ack reaches the caller once, however often a node sends it.
// - Observations: the notifications of an observe sent here carry its
//   ticket; watch() routes them to a handler until unwatch().
// - Every notification, registration event and device event (Send, queue
//   mode's sleeping and awake: bus/device_event.h) on the bus goes to the
//   listeners set with on_notification() / on_registration_event() /
//   on_device_event(): the gateway's live events.
//
// Two Redis links (publish, subscribe), reconnected after a loss
// (io/redis_link.h). Single-threaded: everything runs on the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/channels.h"
#include "bus/device_event.h"
#include "bus/loss_resender.h"
#include "bus/node_watch.h"
#include "bus/redis_bus.h"
#include "bus/registration_event.h"
#include "bus/reply.h"
#include "bus/request.h"
#include "bus/request_route.h"
#include "io/lifetime.h"
#include "io/redis_client.h"
#include "lwm2m/result.h"
#include "store/registration.h"

namespace fogm2m::gateway {

struct BusClientOptions {
  io::RedisLinkOptions redis;
  // Non-empty: a Redis Cluster ("host:port" of some of its nodes; the link
  // options above apply to each) instead of the server at redis.host:port.
  std::vector<std::string> redis_cluster;
  bus::Channels channels;
  bus::BusMode mode = bus::BusMode::kBroadcast;  // `fogm2m gateway --bus-mode`
};

// One message about a request: an ack, then a final rep or err.
struct BusReply {
  bus::ReplyType type = bus::ReplyType::kAck;
  boost::json::object body;  // the rep or err object
  std::string text;          // the message as it came (its ticket is the gateway's)
};

class BusClient {
 public:
  // `final` is true for the last call of a request: a rep or err, or an
  // error (kTimeout, kIo) with no reply at all.
  using ReplyHandler = std::function<void(Result<BusReply> reply, bool final)>;
  using NotificationHandler = std::function<void(const BusReply& notification)>;
  using RegistrationHandler =
      std::function<void(bus::RegistrationEventKind kind, const store::Registration& reg)>;
  // A device event's text (bus/device_event.h), unparsed: its reader
  // parses it only when someone listens.
  using DeviceEventHandler = std::function<void(std::string_view message)>;
  // Up after every (re)connection, down after every loss.
  using StateHandler = std::function<void(bool up)>;

  BusClient(boost::asio::io_context& io, BusClientOptions options);
  ~BusClient();
  BusClient(const BusClient&) = delete;
  BusClient& operator=(const BusClient&) = delete;

  // Connects both links and subscribes; `ready` runs once (an error when
  // Redis cannot be reached at start).
  void start(std::function<void(Status)> ready);
  void stop();

  // Publishes `request` with a new ticket (returned) and calls `on_reply`
  // (may be empty: fire and forget) for its ack and final reply. A request with no final reply
  // within `timeout` ends with kTimeout.
  std::string send(bus::Request request, std::chrono::milliseconds timeout, ReplyHandler on_reply);

  // Routes the notifications that carry `ticket` (an observe's) to `handler`.
  void watch(const std::string& ticket, NotificationHandler handler);
  void unwatch(const std::string& ticket);

  // Every notification on the bus goes to `handler` while `wanted()` says
  // someone listens (parsing them costs; most of the time nobody does).
  void on_notification(NotificationHandler handler, std::function<bool()> wanted) {
    notification_ = std::move(handler);
    notifications_wanted_ = std::move(wanted);
  }
  void on_registration_event(RegistrationHandler handler) { registration_ = std::move(handler); }
  void on_device_event(DeviceEventHandler handler) { device_event_ = std::move(handler); }
  void on_state(StateHandler handler) { state_ = std::move(handler); }

  io::RedisClient& commands() { return *redis_; }
  bool up() const { return redis_->up(); }
  size_t in_flight() const { return pending_.size(); }

  struct Counters {
    uint64_t sent = 0, answered = 0, errors = 0, timed_out = 0, refused = 0;
    uint64_t resent = 0;  // published again after a bus loss
    uint64_t notifications = 0, registration_events = 0, device_events = 0, malformed = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Pending {
    ReplyHandler handler;
    std::unique_ptr<boost::asio::steady_timer> timer;
    std::string message;  // as published: for a repeat after a bus loss
    bool acked = false;
  };
  void on_links_changed();
  std::vector<std::string> tickets_in_flight() const;
  void on_message(std::string_view channel, std::string_view message);
  void on_response(std::string_view message);
  void finish(const std::string& ticket, Result<BusReply> outcome);

  boost::asio::io_context& io_;
  BusClientOptions options_;
  std::unique_ptr<io::RedisClient> redis_;  // single server or cluster
  io::SingleRedis* single_ = nullptr;       // redis_, when a single server
  std::unique_ptr<bus::RedisBus> bus_;
  std::unique_ptr<bus::RequestRoute> route_;  // publishes the requests, on redis_
  std::unique_ptr<bus::LossResender> resender_;
  std::unique_ptr<bus::NodeWatch> node_watch_;  // a death or a return repeats what is in flight
  std::string ticket_prefix_;                   // "gw-<12 hex>-": this gateway's tickets
  uint64_t ticket_count_ = 0;
  std::unordered_map<std::string, Pending> pending_;
  std::unordered_map<std::string, NotificationHandler> watched_;
  NotificationHandler notification_;
  std::function<bool()> notifications_wanted_;
  RegistrationHandler registration_;
  DeviceEventHandler device_event_;
  StateHandler state_;
  Counters counters_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::gateway
