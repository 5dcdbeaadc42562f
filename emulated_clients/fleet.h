// A fleet: N emulated IPSO 3313 devices in one process, each with its own UDP
// socket (its own source port, so a load balancer spreads them), spread over
// T threads with one io_context each (device i lives on thread i mod T).
// Plain CoAP devices are UdpDevices; with a PSK identity pattern they are
// DtlsDevices (CoAP over DTLS 1.2 PSK, one libcoap context per thread).
//
// NAT rebinding. rebind() moves every device to a new source port at once,
// as a NAT whose mappings expired would (the fleet process does it on
// SIGUSR1; scenario fault kind rebind_devices).
//
// Start-up. Devices start (and register) spread evenly over `ramp`: device i
// of the fleet at start + ramp * i / N, so a fleet does not hit the server in
// one burst unless asked to; a zero ramp is a registration storm. Each
// device's seed derives from the fleet seed and its index, so a fleet with
// the same seed walks the same values.
//
// Stop. stop() de-registers every registered device (each waits for its
// answer or CON timeout) and returns when all are done or `stop_timeout`
// passed, whichever comes first; then the threads end.
//
// Counters. stats() is safe from any thread: each thread publishes the sums
// of its devices every `stats_period` (and once more when it stops).
//
// Sockets. By default each plain-CoAP device has its own socket (its own
// source port): a fleet needs `devices` file descriptors; start() raises the
// soft RLIMIT_NOFILE to the hard limit and refuses a fleet that still would
// not fit, saying so. With a `source_range`, devices share one socket per
// thread instead (AnyIpDeviceGroup): device i sends from the (i+1)-th
// address of the range, which must be local (127.0.0.0/8 always is; see
// io/anyip_udp_socket.h), so a million devices take a handful of
// descriptors. When the descriptors do not suffice, the server is IPv4
// loopback and no bind address is set, start() picks 127.64.0.0/10 by
// itself (shares_sockets() then says so). DTLS devices always have a socket
// each.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "emulated_clients/device.h"
#include "emulated_clients/udp_device.h"
#include "io/address_range.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

struct FleetConfig {
  boost::asio::ip::udp::endpoint server;  // the LwM2M server (or the load balancer's address)
  uint32_t devices = 1;
  uint64_t first = 0;  // index of the first device ({n} of the patterns)
  std::string endpoint_pattern = "dev-{n}";
  std::optional<boost::asio::ip::address> bind_address;  // devices' local address
  std::optional<io::AddressRange> source_range;          // devices share sockets (above)
  unsigned threads = 1;
  std::chrono::milliseconds ramp{0};  // registration start spread; 0: storm
  uint64_t seed = 1;
  DeviceConfig device;   // lifetime, version, sample period, ...
  UdpDeviceOptions udp;  // CoAP transmission parameters
  // DTLS-PSK: identity and key (the key pattern's text, as raw bytes) per
  // device. Empty identity pattern: plain CoAP.
  std::string psk_identity_pattern;
  std::string psk_key_pattern;
  std::chrono::milliseconds stats_period{500};
  std::chrono::milliseconds stop_timeout{10000};
};

struct FleetStats {
  uint64_t devices = 0;
  uint64_t started = 0;
  uint64_t registered = 0;
  uint64_t registrations = 0;  // Register answered 2.01 (re-registrations count again)
  uint64_t updates = 0;
  uint64_t notifications_sent = 0;
  uint64_t requests_answered = 0;
  uint64_t error_responses = 0;  // requests answered with 4.xx/5.xx
  uint64_t retransmissions = 0;
  uint64_t timeouts = 0;
  uint64_t errors = 0;  // failed registration requests, cancelled observations, malformed datagrams
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t sends = 0;               // Send (POST /dp) answered 2.04
  uint64_t send_errors = 0;         // Send answered otherwise, or timed out
  uint64_t dropped_asleep = 0;      // requests dropped by devices asleep in queue mode
  uint64_t sessions_abandoned = 0;  // DTLS sessions given up on: the server went silent
  uint64_t rebinds = 0;             // devices moved to a new source port (rebind())
};

// Validates a configuration: patterns parse, endpoint names differ, counts
// and periods are positive.
Status validate(const FleetConfig& config);

class Fleet {
 public:
  explicit Fleet(FleetConfig config);
  ~Fleet();  // stop() when still running
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Starts the threads; devices start over the ramp. Fails on an invalid
  // configuration or when the descriptors do not suffice; a device whose
  // socket cannot be opened later counts as an error.
  Status start();
  // De-registers and ends the threads (see above). Idempotent.
  void stop();

  // NAT rebinding for the whole fleet: every running device with a socket
  // of its own moves to a new source port (UdpDevice::rebind,
  // DtlsDevice::rebind). Devices sharing sockets keep their address (a
  // warning says so). Safe from any thread; done on the devices' threads.
  void rebind();

  FleetStats stats() const;
  const FleetConfig& config() const { return config_; }
  // Devices share sockets (a source range was given or chosen).
  bool shares_sockets() const { return config_.source_range.has_value(); }
  // The endpoint name and PSK of device i (0-based within this fleet).
  std::string endpoint(uint32_t i) const;

 private:
  struct Shard;
  FleetConfig config_;
  std::vector<std::unique_ptr<Shard>> shards_;
  FleetStats final_stats_;  // after stop()
  bool running_ = false;
};

// The fleet's counters as one JSON object (the --stats-file and summary).
std::string to_json(const FleetStats& stats);

}  // namespace fogm2m::emulated
