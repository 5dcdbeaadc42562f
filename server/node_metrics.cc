#include "server/node_metrics.h"

#include "server/node.h"
#include "server/transport/udp_transport.h"

namespace fogm2m::server {

namespace {

using io::metrics::Labels;
using io::metrics::Registry;

// received_ and answered_ are indexed by the enum's value.
constexpr bool kinds_are_dense() {
  for (size_t i = 0; i < std::size(bus::kAllRequestKinds); ++i)
    if (static_cast<size_t>(bus::kAllRequestKinds[i]) != i) return false;
  return true;
}
static_assert(kinds_are_dense());

constexpr const char* kRegistrations = "fogm2m_registrations_total";
constexpr const char* kRegistrationsHelp =
    "LwM2M Register, Update and De-register requests and expiries, by outcome.";
constexpr const char* kReceived = "fogm2m_bus_requests_received_total";
constexpr const char* kReceivedHelp = "Requests read off the bus, by kind.";
constexpr const char* kAnswered = "fogm2m_bus_requests_answered_total";
constexpr const char* kAnsweredHelp =
    "Final replies this node published on the bus, by request kind and outcome.";
constexpr const char* kOutcomes[] = {"ok", "error", "timeout"};  // by NodeMetrics::Outcome

io::metrics::Counter& registrations(Registry& registry, const char* outcome) {
  return registry.counter(kRegistrations, kRegistrationsHelp, {{"outcome", outcome}});
}

}  // namespace

NodeMetrics::NodeMetrics(Registry& registry)
    : registrations_created(registrations(registry, "created")),
      registrations_updated(registrations(registry, "updated")),
      registrations_deregistered(registrations(registry, "deregistered")),
      registrations_expired(registrations(registry, "expired")),
      registrations_rejected(registrations(registry, "rejected")),
      notifications_forwarded(registry.counter("fogm2m_notifications_forwarded_total",
                                               "Observe notifications published on the bus.")),
      device_request_seconds(registry.histogram(
          "fogm2m_device_request_duration_seconds",
          "Time from sending a CoAP request to a device to its answer, in seconds.",
          io::metrics::latency_buckets_seconds())),
      registry_(registry) {
  for (bus::RequestKind kind : bus::kAllRequestKinds) {
    const char* name = bus::to_string(kind);
    received_[index(kind)] = &registry.counter(kReceived, kReceivedHelp, {{"kind", name}});
    for (size_t o = 0; o < std::size(kOutcomes); ++o)
      answered_[index(kind)][o] =
          &registry.counter(kAnswered, kAnsweredHelp, {{"kind", name}, {"outcome", kOutcomes[o]}});
  }
  received_[kMalformed] = &registry.counter(kReceived, kReceivedHelp, {{"kind", "malformed"}});
  answered_[kMalformed][static_cast<size_t>(Outcome::kError)] =
      &registry.counter(kAnswered, kAnsweredHelp, {{"kind", "malformed"}, {"outcome", "error"}});
}

void NodeMetrics::watch(const Node& node) {
  registry_.gauge_callback("fogm2m_local_registrations",
                           "Registrations of the devices this node holds.",
                           [&node] { return static_cast<double>(node.devices().size()); });
  if (node.options().redis_host.empty() && node.options().redis_cluster.empty())
    return;  // in-memory: no Redis to watch
  registry_.gauge_callback("fogm2m_redis_up",
                           "1 while Redis is usable (both links, or the cluster map), else 0.",
                           [&node] { return node.redis_up() ? 1.0 : 0.0; });
  registry_.counter_callback("fogm2m_redis_reconnections_total",
                             "Connections made to Redis after a loss.",
                             [&node] { return node.redis_reconnects(); });
  registry_.counter_callback("fogm2m_bus_requests_routed_total",
                             "Requests read off this node's own channel (routed bus mode).",
                             [&node] { return node.counters().bus_requests_routed; });
  registry_.counter_callback(
      "fogm2m_bus_requests_rerouted_total",
      "Routed requests for a device this node does not hold, put back on the broadcast channel.",
      [&node] { return node.counters().bus_requests_rerouted; });
}

void NodeMetrics::watch(const UdpTransport& udp) {
  const Labels labels{{"transport", "udp"}};
  registry_.counter_callback(
      "fogm2m_coap_datagrams_received_total", "CoAP datagrams received.",
      [&udp] { return udp.stats().datagrams_in; }, labels);
  registry_.counter_callback(
      "fogm2m_coap_datagrams_sent_total", "CoAP datagrams sent.",
      [&udp] { return udp.stats().datagrams_out; }, labels);
}

}  // namespace fogm2m::server
