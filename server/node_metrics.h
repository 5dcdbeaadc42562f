// What a server node counts for Prometheus (`fogm2m node --metrics-port`):
// its metrics, made in a metrics::Registry, as references the node's
// services increment where the events happen. No per-device labels.
//
//   fogm2m_registrations_total{outcome}      created, updated, deregistered,
//                                            expired, rejected (a Register,
//                                            Update or De-register answered
//                                            with an error code)
//   fogm2m_bus_requests_received_total{kind} requests read off the bus (every
//                                            node reads every broadcast
//                                            request; a routed one, its
//                                            owner alone)
//   fogm2m_bus_requests_answered_total{kind,outcome}
//                                            final replies this node published:
//                                            ok (the device answered 2.xx, or
//                                            sec_info done), timeout (the device
//                                            did not answer), error (any other)
//   fogm2m_notifications_forwarded_total     notifications published on the bus
//   fogm2m_device_request_duration_seconds   from a request's sending to the
//                                            device to its answer (histogram)
//   fogm2m_local_registrations               devices this node holds (gauge)
//   fogm2m_redis_up                          both Redis links up (1/0; Redis
//   fogm2m_redis_reconnections_total         nodes only) and reconnections
//   fogm2m_bus_requests_routed_total         requests that came on the node's own
//                                            channel (routed mode; Redis nodes only)
//   fogm2m_bus_requests_rerouted_total       of those, for a device it does not
//                                            hold: put back on the broadcast channel
//   fogm2m_coap_datagrams_received_total{transport="udp"},
//   fogm2m_coap_datagrams_sent_total{transport="udp"}
//
// `kind` is bus::to_string(RequestKind) ("read", "observe", ...) or
// "malformed" for a message that is no request.
//
// The node takes a NodeMetrics* (nullptr: no metrics); with one, each event
// costs one branch and one add, without it one branch.
#pragma once

#include <array>
#include <cstddef>

#include "bus/request.h"
#include "io/metrics.h"

namespace fogm2m::server {

class Node;
class UdpTransport;

class NodeMetrics {
 public:
  enum class Outcome { kOk, kError, kTimeout };

  // Makes every series (at 0) in `registry`, which must outlive this.
  explicit NodeMetrics(io::metrics::Registry& registry);

  // Registers the gauges and counters read from `node` (local registrations,
  // Redis) and from `udp` (datagrams) when the registry renders: they must
  // outlive every render() of the registry (destroy the HTTP server first).
  void watch(const Node& node);
  void watch(const UdpTransport& udp);

  void received(bus::RequestKind kind) { received_[index(kind)]->inc(); }
  void received_malformed() { received_[kMalformed]->inc(); }
  void answered(bus::RequestKind kind, Outcome outcome) {
    answered_[index(kind)][static_cast<size_t>(outcome)]->inc();
  }
  void answered_malformed() { answered_[kMalformed][static_cast<size_t>(Outcome::kError)]->inc(); }

  io::metrics::Counter& registrations_created;
  io::metrics::Counter& registrations_updated;
  io::metrics::Counter& registrations_deregistered;
  io::metrics::Counter& registrations_expired;
  io::metrics::Counter& registrations_rejected;
  io::metrics::Counter& notifications_forwarded;
  io::metrics::Histogram& device_request_seconds;

 private:
  static constexpr size_t kKinds = std::size(bus::kAllRequestKinds);
  static constexpr size_t kMalformed = kKinds;  // the slot after the kinds
  static size_t index(bus::RequestKind kind) { return static_cast<size_t>(kind); }

  io::metrics::Registry& registry_;
  std::array<io::metrics::Counter*, kKinds + 1> received_{};
  std::array<std::array<io::metrics::Counter*, 3>, kKinds + 1> answered_{};
};

}  // namespace fogm2m::server
