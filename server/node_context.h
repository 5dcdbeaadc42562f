// What the services of one server node share: its identity, configuration,
// stores, bus, local devices and clock. Owned by the Node; services hold a
// reference.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "bus/bus.h"
#include "bus/channels.h"
#include "io/unix_clock.h"
#include "lwm2m/model.h"
#include "server/services/local_devices.h"
#include "server/transport/coap_transport.h"
#include "store/observation_store.h"
#include "store/registration_store.h"
#include "store/security_store.h"

namespace fogm2m::server {

class NodeMetrics;

struct NodeCounters {
  uint64_t registrations = 0;
  uint64_t updates = 0;
  uint64_t deregistrations = 0;
  uint64_t expirations = 0;
  uint64_t bus_requests = 0;           // requests read off the bus
  uint64_t bus_requests_owned = 0;     // of which this node acted on
  uint64_t bus_acks_skipped = 0;       // of those, answered within the ack delay: no ack
  uint64_t bus_requests_routed = 0;    // of which came on this node's own channel (routed)
  uint64_t bus_requests_rerouted = 0;  // of those, put back on the broadcast channel
  uint64_t bus_repeats = 0;            // owned requests seen again (a requester's resend)
  uint64_t bus_malformed = 0;
  uint64_t device_requests = 0;  // CoAP requests sent to devices
  uint64_t device_timeouts = 0;
  uint64_t notifications = 0;  // notifications forwarded
  uint64_t store_errors = 0;
  uint64_t updates_from_memory = 0;         // Updates answered while the store was away
  uint64_t updates_written_through = 0;     // of those, written to the store later
  uint64_t devices_taken_over = 0;          // from a node that died, hung or was cut off
  uint64_t addresses_followed = 0;          // devices of this node heard from a new address
  uint64_t observations_adopted = 0;        // their observations, found in the store
  uint64_t observations_reestablished = 0;  // asked for again (a takeover, a new Register)
  uint64_t sends_received = 0;              // LwM2M Send (POST /dp) accepted
  uint64_t sends_rejected = 0;              // of Sends, refused with an error code
};

struct NodeContext {
  boost::asio::io_context& io;
  std::string node_id;
  bus::Channels channels;
  const lwm2m::ModelRegistry& models;
  store::RegistrationStore& registrations;
  store::ObservationStore& observations;
  store::SecurityStore& security;
  bus::Bus& bus;
  CoapTransport& transport;
  LocalDevices& devices;
  io::UnixClock now_ms;  // Unix milliseconds (NodeOptions::clock)
  std::chrono::milliseconds device_timeout{5000};
  std::chrono::milliseconds bus_ack_delay{0};  // NodeOptions::bus_ack_delay
  NodeCounters counters;
  NodeMetrics* metrics = nullptr;  // Prometheus metrics (node_metrics.h); nullptr: none
};

}  // namespace fogm2m::server
