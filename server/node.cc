#include "server/node.h"

#include <spdlog/spdlog.h>

#include "bus/memory_bus.h"
#include "bus/redis_bus.h"
#include "io/host_port.h"
#include "server/injected_slowdown.h"
#include "server/node_metrics.h"
#include "store/memory_observation_store.h"
#include "store/memory_registration_store.h"
#include "store/memory_security_store.h"
#include "store/memory_value_store.h"
#include "store/redis_observation_store.h"
#include "store/redis_registration_store.h"
#include "store/redis_security_store.h"
#include "store/redis_value_store.h"

namespace fogm2m::server {

// Sends each device request over the transport its device uses: DTLS for
// secure peers, plain UDP otherwise. With metrics, times each request from
// its sending to the device's answer.
class Node::RoutingTransport final : public CoapTransport {
 public:
  explicit RoutingTransport(NodeMetrics* metrics) : metrics_(metrics) {}
  void add(CoapTransport& t) { transports_.push_back(&t); }

  void set_handlers(Handlers handlers) override {
    for (CoapTransport* t : transports_) t->set_handlers(handlers);
  }

  void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                    std::chrono::milliseconds timeout, ResponseHandler done) override {
    CoapTransport* t = transport_for(peer);
    if (!t) return done(make_error(ErrorKind::kIo, "no transport"));
    if (metrics_) done = timed(std::move(done));
    t->send_request(peer, std::move(request), timeout, std::move(done));
  }

  void readdress(const PeerInfo& from, const PeerInfo& to) override {
    if (CoapTransport* t = transport_for(to); t != nullptr && from.secure == to.secure)
      t->readdress(from, to);
  }

  void stop() override {
    for (CoapTransport* t : transports_) t->stop();
  }

 private:
  // Attach order is the caller's: by convention plain first, secure second.
  CoapTransport* transport_for(const PeerInfo& peer) const {
    if (transports_.empty()) return nullptr;
    return peer.secure && transports_.size() > 1 ? transports_[1] : transports_[0];
  }

  // `done`, observing the time to the device's answer first (a request that
  // got none, timed out or failed, is not observed).
  ResponseHandler timed(ResponseHandler done) {
    return [&histogram = metrics_->device_request_seconds, sent = std::chrono::steady_clock::now(),
            done = std::move(done)](Result<lwm2m::CoapMessage> response) {
      if (response)
        histogram.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count());
      done(std::move(response));
    };
  }

  NodeMetrics* metrics_;
  std::vector<CoapTransport*> transports_;
};

Node::Node(boost::asio::io_context& io, NodeOptions options, const lwm2m::ModelRegistry& models,
           NodeMetrics* metrics)
    : io_(io),
      options_(std::move(options)),
      models_(models),
      metrics_(metrics),
      routing_(std::make_unique<RoutingTransport>(metrics)),
      sweep_timer_(io) {}

Node::~Node() = default;

void Node::attach(CoapTransport& transport) {
  routing_->add(transport);
}

const NodeCounters& Node::counters() const {
  static const NodeCounters kNone;
  return ctx_ ? ctx_->counters : kNone;
}

size_t Node::observation_count() const {
  return device_manager_ ? device_manager_->observation_count() : 0;
}

void Node::start(std::function<void(Status)> ready) {
  ready_ = std::move(ready);
  if (options_.redis_host.empty() && options_.redis_cluster.empty()) {
    registrations_ = std::make_unique<store::MemoryRegistrationStore>(io_);
    observations_ = std::make_unique<store::MemoryObservationStore>(io_);
    security_ = std::make_unique<store::MemorySecurityStore>(io_);
    values_ = std::make_unique<store::MemoryValueStore>(io_);
    bus_ = std::make_unique<bus::MemoryBus>(io_);
    membership_ = std::make_unique<SingleNodeMembership>(options_.node_id);
    return on_connected();
  }
  io::RedisLinkOptions link;
  link.host = options_.redis_host;
  link.port = options_.redis_port;
  redis_ = io::make_redis_client(io_, link, options_.redis_cluster, &single_);
  redis_->start(lifetime_.guard([this](Status s) {
    if (!s) {
      if (ready_)
        ready_(make_error(ErrorKind::kIo,
                          "cannot connect to " + redis_->describe() + ": " + s.error().message));
      ready_ = nullptr;
      return;
    }
    on_connected();
  }));
  redis_->set_state_handler(
      lifetime_.guard([this](bool up, const Status& why) { on_redis_state(up, why); }));
  registrations_ = std::make_unique<store::RedisRegistrationStore>(*redis_);
  observations_ = std::make_unique<store::RedisObservationStore>(*redis_);
  security_ = std::make_unique<store::RedisSecurityStore>(*redis_);
  values_ = std::make_unique<store::RedisValueStore>(*redis_);
  auto redis_bus = std::make_unique<bus::RedisBus>(*redis_);
  redis_bus_ = redis_bus.get();
  bus_ = std::move(redis_bus);
  membership_ = std::make_unique<RedisMembership>(io_, *redis_, options_.node_id, options_.clock);
  if (options_.redis_cluster.empty()) {
    psk_.set_loader(make_redis_psk_loader(options_.redis_host, options_.redis_port));
  } else {
    std::string host;
    uint16_t port = 0;
    if (io::split_host_port(options_.redis_cluster.front(), host, port))
      psk_.set_loader(make_redis_psk_loader(host, port));
  }
}

void Node::on_connected() {
  ctx_ = std::make_unique<NodeContext>(NodeContext{io_,
                                                   options_.node_id,
                                                   options_.channels,
                                                   models_,
                                                   *registrations_,
                                                   *observations_,
                                                   *security_,
                                                   *bus_,
                                                   *routing_,
                                                   devices_,
                                                   options_.clock,
                                                   options_.device_timeout,
                                                   options_.bus_ack_delay,
                                                   {},
                                                   metrics_});
  registration_ = std::make_unique<RegistrationService>(*ctx_);
  registration_->set_max_in_flight_registrations(options_.max_pending_registrations);
  device_manager_ = std::make_unique<DeviceManager>(*ctx_);
  router_ = std::make_unique<RequestRouter>(
      *ctx_, *device_manager_, *membership_, psk_,
      ServedRequests(options_.served_tickets_for, options_.served_tickets_kept));
  send_ = std::make_unique<SendService>(*ctx_, *values_);
  PresenceOptions presence;
  presence.awake_time = options_.awake_time;
  presence.max_queued_per_device = options_.max_queued_per_device;
  presence.default_request_timeout = options_.device_timeout;
  presence_ = std::make_unique<Presence>(
      *ctx_, presence, [this](const LocalDevice& device, const bus::Request& request) {
        router_->dispatch(device, request);
      });
  router_->set_presence(presence_.get());
  registration_->on_heard = [this](const LocalDevice& device) { presence_->heard(device); };
  send_->on_heard = [this](const std::string& endpoint) {
    if (presence_->tracking()) presence_->heard_endpoint(endpoint);
  };
  registration_->on_removed = [this](const store::Registration& reg) {
    device_manager_->drop_observations(reg);
    values_->remove(reg.endpoint, [](Result<bool>) {});
    presence_->forget(reg.endpoint);
  };
  registration_->on_reregistered = [this](const store::Registration& previous,
                                          const LocalDevice& device) {
    values_->remove(previous.endpoint, [](Result<bool>) {});
    presence_->forget(previous.endpoint);
    device_manager_->renew_observations(device);
  };
  registration_->on_new_session = [this](const LocalDevice& device) {
    device_manager_->renew_observations(device);
  };
  registration_->on_taken_over = [this](const LocalDevice& device) {
    device_manager_->reestablish_observations(device);
  };

  CoapTransport::Handlers handlers;
  // The transports may outlive the node: once it is gone, requests go
  // unanswered and notifications are reset.
  handlers.on_request = lifetime_.guard(
      [this](const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond) {
        injected_slowdown();
        const auto segments = request.uri_path_segments();
        if (!segments.empty() && segments[0] == "rd")
          return registration_->handle(peer, request, std::move(respond));
        if (!segments.empty() && segments[0] == "dp")
          return send_->handle(peer, request, std::move(respond));
        respond(coap_response(lwm2m::CoapCode::kNotFound));
      });
  handlers.on_notification =
      lifetime_.guard_or(false, [this](const PeerInfo& peer, const lwm2m::CoapMessage& n) {
        injected_slowdown();
        if (presence_->tracking())  // queue mode: a notification shows the device awake
          if (const LocalDevice* device = devices_.by_peer(peer.address)) presence_->heard(*device);
        return device_manager_->on_notification(peer, n);
      });
  handlers.on_reset = [](const PeerInfo&, const std::string&) {};
  routing_->set_handlers(std::move(handlers));

  const bus::Channels& ch = options_.channels;
  bus_->subscribe({ch.requests},
                  lifetime_.guard([this](std::string_view, std::string_view message) {
                    injected_slowdown();
                    router_->on_message(message);
                  }),
                  nullptr);
  // Routed requests (bus/request_route.h) need the owner lookup in Redis: a
  // node alone, on the in-memory bus, gets none.
  if (redis_)
    bus_->subscribe({ch.node_requests(options_.node_id)},
                    lifetime_.guard([this](std::string_view, std::string_view message) {
                      injected_slowdown();
                      router_->on_routed_message(message);
                    }),
                    nullptr);
  bus_->subscribe({ch.registration_new, ch.registration_update, ch.registration_delete},
                  lifetime_.guard([this](std::string_view channel, std::string_view message) {
                    registration_->on_event(channel, message);
                  }),
                  lifetime_.guard([this](Status s) {
                    if (!ready_) return;
                    auto ready = std::move(ready_);
                    ready_ = nullptr;
                    if (!s) return ready(s);
                    membership_->start();
                    schedule_sweep();
                    spdlog::info("node {} ready ({})", options_.node_id,
                                 redis_ ? redis_->describe() : "in-memory stores");
                    ready(Status{});
                  }));
}

// The command link decides: it is the one whose commands time out when the
// server stops answering. The subscriber follows it down, so its
// subscriptions are made afresh on the server that comes back.
void Node::on_redis_state(bool up, const Status& why) {
  if (stopping_) return;
  if (!up) {
    redis_down_since_ = std::chrono::steady_clock::now();
    spdlog::error("Redis lost ({}): new registrations get 5.03 until it is back; reconnecting",
                  why.error().message);
    if (single_ && single_->subscriber()) single_->subscriber()->reconnect(why.error().message);
    return;
  }
  const auto down_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - redis_down_since_);
  spdlog::info("Redis back after {} ms (reconnection {})", down_ms.count(), redis_->reconnects());
  if (registration_) registration_->write_through();
  if (redis_bus_) {
    const size_t dropped = redis_bus_->dropped();
    const size_t sent = redis_bus_->publish_held();
    spdlog::info("published {} bus messages held while Redis was away ({} dropped in all)", sent,
                 dropped);
  }
}

void Node::schedule_sweep() {
  sweep_timer_.expires_after(options_.sweep_interval);
  sweep_timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (ec || stopping_) return;
    // While Redis is away there is nothing to sweep (and no error to log
    // every second): expiry resumes when it is back.
    if (!redis_ || redis_->up()) registration_->sweep_expired(options_.expiry_grace_ms);
    // A Redis Cluster reports no "back" (its commands fail one by one while
    // a slot has no master): Updates kept in memory meanwhile are written
    // through at the next sweep instead.
    if (redis_ && redis_->clustered() && registration_->unwritten_updates() > 0)
      registration_->write_through();
    schedule_sweep();
  }));
}

void Node::stop(std::function<void()> done, std::chrono::milliseconds flush_timeout) {
  stopping_ = true;
  sweep_timer_.cancel();
  if (membership_) membership_->stop();
  flush(std::chrono::steady_clock::now() + flush_timeout, std::move(done));
}

void Node::flush(std::chrono::steady_clock::time_point deadline, std::function<void()> done) {
  const bool pending = redis_ && redis_->up() && redis_->pending() > 0;
  if (pending && std::chrono::steady_clock::now() < deadline) {
    sweep_timer_.expires_after(std::chrono::milliseconds(5));
    sweep_timer_.async_wait(lifetime_.guard(
        [this, deadline, done = std::move(done)](boost::system::error_code) mutable {
          flush(deadline, std::move(done));
        }));
    return;
  }
  if (pending) spdlog::warn("stopping with {} Redis commands unanswered", redis_->pending());
  if (redis_) redis_->disconnect();
  done();
}

}  // namespace fogm2m::server
