#include "gateway/gateway_metrics.h"

#include "gateway/bus_client.h"
#include "gateway/event_hub.h"
#include "gateway/http_server.h"
#include "gateway/registration_directory.h"

namespace fogm2m::gateway {

void GatewayMetrics::watch(const BusClient& bus, const EventHub& hub,
                           const RegistrationDirectory& directory) {
  const char* kBus = "fogm2m_gateway_bus_requests_total";
  const char* kBusHelp = "Requests the gateway sent on the bus, by outcome.";
  registry_.counter_callback(kBus, kBusHelp, [&bus] { return bus.counters().sent; },
                             {{"outcome", "sent"}});
  registry_.counter_callback(kBus, kBusHelp, [&bus] { return bus.counters().answered; },
                             {{"outcome", "answered"}});
  registry_.counter_callback(kBus, kBusHelp, [&bus] { return bus.counters().errors; },
                             {{"outcome", "error"}});
  registry_.counter_callback(kBus, kBusHelp, [&bus] { return bus.counters().timed_out; },
                             {{"outcome", "timeout"}});
  registry_.counter_callback(kBus, kBusHelp, [&bus] { return bus.counters().refused; },
                             {{"outcome", "refused"}});
  registry_.counter_callback("fogm2m_gateway_bus_notifications_total",
                             "Notifications read off the bus for live listeners.",
                             [&bus] { return bus.counters().notifications; });
  registry_.counter_callback("fogm2m_gateway_registration_events_total",
                             "Registration events read off the bus.",
                             [&bus] { return bus.counters().registration_events; });
  registry_.gauge_callback("fogm2m_gateway_bus_in_flight", "Bus requests awaiting their reply.",
                           [&bus] { return static_cast<double>(bus.in_flight()); });
  registry_.gauge_callback("fogm2m_gateway_redis_up", "1 while the gateway's Redis links are up.",
                           [&bus] { return bus.up() ? 1.0 : 0.0; });
  registry_.gauge_callback("fogm2m_gateway_registrations", "Registered clients the gateway knows.",
                           [&directory] { return static_cast<double>(directory.size()); });
  registry_.gauge_callback("fogm2m_gateway_event_listeners",
                           "Live event listeners (SSE streams, STOMP subscriptions).",
                           [&hub] { return static_cast<double>(hub.listeners()); });
}

void GatewayMetrics::watch_http(const HttpServer& http) {
  registry_.gauge_callback("fogm2m_gateway_http_connections",
                           "Open HTTP connections (with SSE streams and WebSockets).",
                           [&http] { return static_cast<double>(http.connections()); });
}

void GatewayMetrics::answered(ApiOperation op, unsigned status, std::chrono::nanoseconds took) {
  const unsigned status_class = status / 100;
  auto& counter = requests_[{op, status_class}];
  if (!counter)
    counter = &registry_.counter(
        "fogm2m_gateway_http_requests_total", "API requests answered, by route and status class.",
        {{"route", to_string(op)}, {"code", std::to_string(status_class) + "xx"}});
  counter->inc();
  auto& histogram = durations_[op];
  if (!histogram)
    histogram = &registry_.histogram(
        "fogm2m_gateway_http_request_duration_seconds", "Time from an API request to its answer.",
        io::metrics::latency_buckets_seconds(), {{"route", to_string(op)}});
  histogram->observe(std::chrono::duration<double>(took).count());
}

}  // namespace fogm2m::gateway
