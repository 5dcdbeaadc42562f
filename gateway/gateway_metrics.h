// The gateway's Prometheus metrics (GET /metrics), no per-device labels:
//   fogm2m_gateway_http_requests_total{route,code}      answered API requests
//   fogm2m_gateway_http_request_duration_seconds{route} time from request to answer
//   fogm2m_gateway_bus_requests_total{outcome}          sent, answered, error, timeout, refused
//   fogm2m_gateway_bus_notifications_total              notifications parsed for listeners
//   fogm2m_gateway_registration_events_total
//   fogm2m_gateway_registrations                        clients in the directory
//   fogm2m_gateway_event_listeners                      SSE streams and STOMP subscriptions
//   fogm2m_gateway_http_connections                     open HTTP/SSE/WebSocket connections
//   fogm2m_gateway_bus_in_flight                        requests awaiting their reply
//   fogm2m_gateway_redis_up                             1 while both Redis links are up
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <utility>

#include "gateway/api_route.h"
#include "io/metrics.h"

namespace fogm2m::gateway {

class BusClient;
class EventHub;
class HttpServer;
class RegistrationDirectory;

class GatewayMetrics {
 public:
  // The callbacks read the parts given; they must outlive every render().
  void watch(const BusClient& bus, const EventHub& hub, const RegistrationDirectory& directory);
  void watch_http(const HttpServer& http);

  void answered(ApiOperation op, unsigned status, std::chrono::nanoseconds took);
  std::string render() const { return registry_.render(); }

 private:
  io::metrics::Registry registry_;
  // (route, status class) -> counter; route -> histogram: found once, then cached.
  std::map<std::pair<ApiOperation, unsigned>, io::metrics::Counter*> requests_;
  std::map<ApiOperation, io::metrics::Histogram*> durations_;
};

}  // namespace fogm2m::gateway
