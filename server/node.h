// One member of the cluster: the LwM2M server node behind `fogm2m node`.
//
// Owns the stores (Redis when a Redis address is given, in-memory
// otherwise), the bus, the cluster membership, the PSK cache and the LwM2M
// services; the CoAP transports (UDP, DTLS) are made by the caller and
// attached before start(), so tests and the simulator can bring their own.
// Single-threaded: everything runs on the io_context given at construction.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.h"
#include "bus/channels.h"
#include "bus/redis_bus.h"
#include "io/lifetime.h"
#include "io/redis_client.h"
#include "io/unix_clock.h"
#include "lwm2m/model.h"
#include "server/node_context.h"
#include "server/services/cluster_membership.h"
#include "server/services/device_manager.h"
#include "server/services/presence.h"
#include "server/services/psk_cache.h"
#include "server/services/registration_service.h"
#include "server/services/request_router.h"
#include "server/services/send_service.h"
#include "store/value_store.h"

namespace fogm2m::server {

struct NodeOptions {
  std::string node_id = "node-1";
  std::string redis_host;  // empty: in-memory stores and bus (a single node)
  uint16_t redis_port = 6379;
  // Non-empty: a Redis Cluster ("host:port" of some of its nodes) instead of
  // redis_host:redis_port; the bus then uses sharded pub/sub.
  std::vector<std::string> redis_cluster;
  bus::Channels channels;
  std::chrono::milliseconds device_timeout{5000};
  std::chrono::milliseconds sweep_interval{1000};
  int64_t expiry_grace_ms = 2000;  // a registration ends lifetime + grace after its last update
  // Registers waiting for the store at once before more are deferred with
  // 5.03 and a Max-Age (registration_service.h, admission); 0: no limit.
  size_t max_pending_registrations = 2000;
  // How long the ack of a bus request waits for the device's answer
  // (request_router.h): 0 publishes it at once, the reference study's ack
  // then rep; above, a request answered sooner gets its reply alone.
  std::chrono::milliseconds bus_ack_delay{0};
  // Bus tickets the node keeps with their replies, for requesters' repeats
  // (server/services/served_requests.h): at most this many, for at most
  // served_tickets_for.
  size_t served_tickets_kept = 100'000;
  std::chrono::milliseconds served_tickets_for{10'000};
  // Queue mode (server/services/presence.h): a queue-mode device sleeps
  // this long after its last message (93 s: CoAP's MAX_TRANSMIT_WAIT);
  // at most this many bus requests wait for one sleeping device.
  std::chrono::milliseconds awake_time{93000};
  size_t max_queued_per_device = 16;
  io::UnixClock clock = io::system_unix_ms;  // registration dates, expiry, heartbeats
};

class Node {
 public:
  // Counts into `metrics` when given (not owned; it must outlive the node);
  // nullptr: no metrics, at the cost of one branch per event.
  Node(boost::asio::io_context& io, NodeOptions options, const lwm2m::ModelRegistry& models,
       NodeMetrics* metrics = nullptr);
  ~Node();

  // Transports the node serves and reaches devices through; call before
  // start(). Requests to a device go out over the transport it came in on.
  void attach(CoapTransport& transport);

  // Connects to Redis (if configured), subscribes to the bus and starts the
  // expiry sweep; `ready` runs once with the outcome.
  void start(std::function<void(Status)> ready);

  // Graceful stop: leaves the cluster, lets pending Redis writes finish (up
  // to `flush_timeout`), disconnects. `done` runs once. Transports are the
  // caller's to stop (before calling this).
  void stop(std::function<void()> done,
            std::chrono::milliseconds flush_timeout = std::chrono::seconds(2));

  PskCache& psk_cache() { return psk_; }
  // The node's bus (after start()); lets an in-process gateway or test
  // publish and subscribe next to the node.
  bus::Bus& bus() { return *bus_; }
  const NodeCounters& counters() const;
  const LocalDevices& devices() const { return devices_; }
  size_t observation_count() const;
  // Bus requests waiting for sleeping queue-mode devices.
  size_t sleeping_requests() const { return presence_ ? presence_->waiting() : 0; }
  const NodeOptions& options() const { return options_; }
  // Redis is usable: both links of a single server are up, or the cluster's
  // slot map was read (false for an in-memory node). While not, new
  // registrations get 5.03 and owned devices' Updates wait in memory.
  bool redis_up() const { return redis_ && redis_->up(); }
  // Connections the Redis command link made after a loss (0 in memory).
  uint64_t redis_reconnects() const { return redis_ ? redis_->reconnects() : 0; }
  size_t unwritten_updates() const {
    return registration_ ? registration_->unwritten_updates() : 0;
  }

 private:
  class RoutingTransport;
  void on_connected();
  void on_redis_state(bool up, const Status& why);
  void schedule_sweep();
  void flush(std::chrono::steady_clock::time_point deadline, std::function<void()> done);

  boost::asio::io_context& io_;
  NodeOptions options_;
  const lwm2m::ModelRegistry& models_;
  NodeMetrics* metrics_;
  LocalDevices devices_;
  PskCache psk_;
  std::unique_ptr<io::RedisClient> redis_;  // single server or cluster
  io::SingleRedis* single_ = nullptr;       // redis_, when a single server
  std::chrono::steady_clock::time_point redis_down_since_;
  std::unique_ptr<store::RegistrationStore> registrations_;
  std::unique_ptr<store::ObservationStore> observations_;
  std::unique_ptr<store::SecurityStore> security_;
  std::unique_ptr<store::ValueStore> values_;  // last values of Send
  std::unique_ptr<bus::Bus> bus_;
  bus::RedisBus* redis_bus_ = nullptr;  // bus_, when it is on Redis
  std::unique_ptr<ClusterMembership> membership_;
  std::unique_ptr<RoutingTransport> routing_;
  std::unique_ptr<NodeContext> ctx_;
  std::unique_ptr<RegistrationService> registration_;
  std::unique_ptr<DeviceManager> device_manager_;
  std::unique_ptr<RequestRouter> router_;
  std::unique_ptr<SendService> send_;
  std::unique_ptr<Presence> presence_;
  boost::asio::steady_timer sweep_timer_;
  std::function<void(Status)> ready_;
  bool stopping_ = false;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::server
