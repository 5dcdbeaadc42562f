// The simulator's model parameters: per-operation CPU costs of a server
// node, Redis service times, network delays, device behaviour, memory
// footprints. Defaults come from measurements of the real components (see
// the comments); `fogm2m sim calibrate` fits the CPU costs and the network
// delay to testbed results and writes them as a parameter file, which
// scenarios reference with `sim_params:`.
//
// File format: a flat map of the field names below to numbers (seconds,
// bytes, bits per second), plus `bus_mode: broadcast|routed`. YAML (.yaml,
// .yml) or JSON (.json) by extension. Unknown keys are errors, so a typo
// does not silently leave a default in place.
#pragma once

#include <string>

#include "lwm2m/result.h"

namespace fogm2m::sim {

enum class BusMode {
  kBroadcast,  // every node receives every LWM2M_REQ and drops what it does not own (the thesis)
  kRouted,     // the sender looks up the owner and publishes to it alone
};

struct SimParams {
  // ---- Server node CPU per operation (seconds) ----
  // Defaults: `fogm2m sim calibrate` on scenarios/calibration.yaml with 3
  // repetitions, measured on the 2-core development VM (2026-11-26, node
  // code of 203e0a3; testbed path: veth, bridge and nftables NAT, where a
  // node pays the kernel work of what it sends). The sweep cannot tell the owned and
  // the ignored request apart well (only its 2-node points ignore any).
  double node_cpu_notification_s = 79e-6;     // CoAP notification in + PUBLISH out
  double node_cpu_request_owned_s = 61e-6;    // bus request in, CoAP out, response in, PUBLISH
  double node_cpu_request_ignored_s = 68e-6;  // bus message parsed and dropped (not the owner)
  // The owned cost of a write (write, write_attributes, create, delete,
  // write_composite) and of an execute, as multiples of a read's (the
  // calibration sweeps read only; every other kind costs a read).
  // Defaults: bench/node_request_kinds_bench puts the node's own code at
  // 3.12 us a read, 3.48 us a write and 2.44 us an execute (2026-12-07);
  // the rest of the 61 us owned cost is the kernel's work for the same four
  // messages whatever the kind, so a write costs (61 - 3.12 + 3.48) / 61
  // of a read and an execute (61 - 3.12 + 2.44) / 61.
  double node_cpu_write_factor = 1.006;
  double node_cpu_execute_factor = 0.989;
  double node_cpu_registration_s = 100e-6;  // Register or Update, store writes included (guess)
  double node_cpu_dtls_datagram_s =
      4e-6;  // extra per DTLS record in or out (AES-CCM8 + record layer)
  double node_cpu_wakeup_s =
      16e-6;                  // a message that finds the node idle wakes it (see cfs_server.h)
  double node_cpu_cv = 1.75;  // coefficient of variation of a job's CPU (lognormal,
                              // mean 1): uneven costs make a node throttle in some
                              // periods before its mean use reaches the quota
  double node_cpu_background = 0.0;  // CPU fraction used by timers etc. when idle
  double owned_request_split = 0.5;  // share of the owned-request cost spent on the way in
  // ---- Server node memory (bytes) ----
  double node_memory_base_bytes = 6e6;
  double node_memory_per_registration_bytes = 2900;
  double node_memory_per_observation_bytes = 600;
  // ---- Redis ----
  double redis_command_s = 5e-6;         // service time of one command (PUBLISH, GET, SET ...)
  double redis_per_subscriber_s = 1e-6;  // extra per subscriber a PUBLISH is delivered to
  double redis_commands_per_registration = 6;  // store writes of a Register / Update
  double node_redis_round_trip_s = 95e-6;      // from the start of the node's job that sends a
                                           // command to the reply's arrival (0: two network hops
                                           // after Redis served it); decides how often the reply
                                           // finds the node idle and wakes it
  double redis_shards = 1;               // Redis Cluster masters; keys and sharded pub/sub
                                         // channels (SPUBLISH) of a device go to one of them
  double redis_memory_base_bytes = 3e6;  // per shard
  double redis_memory_per_registration_bytes = 1500;
  // ---- Network ----
  double network_hop_latency_s = 62e-6;  // one hop: fleet->LB, LB->node, node<->Redis, LG<->Redis
                                         // (calibrated: wire and the receiving process' wakeup)
  double front_bandwidth_bps = 1e9;      // fleet <-> load balancer
  double back_bandwidth_bps = 1e9;       // load balancer <-> nodes, nodes/LG <-> Redis
  double link_header_bytes = 14;         // Ethernet header, counted by interface byte counters
  double tcp_ip_header_bytes = 52;       // IPv4 + TCP with timestamps, per Redis message
  // ---- Devices and fleet ----
  double device_request_delay_s = 100e-6;  // a device answering a request
  double notify_con_every = 10;            // every Nth notification is CON (the node ACKs it)
  double pmin_s = 0;                       // observation attributes (0: none)
  double pmax_s = 0;
  double registration_ramp_s = 1.0;  // devices start uniformly spread over this
  double setup_s = 2.0;              // load starts this long after the fleet
  double fleet_cpu_per_message_s = 8e-6;
  double fleet_memory_base_bytes = 8e6;
  double fleet_memory_per_device_bytes = 3000;
  double default_request_timeout_s = 5.0;  // when the scenario gives none
  // ---- Faults (kill_node) ----
  double lb_removal_delay_s = 0.47;   // the load balancer's health check (CoAP ping every
                                      // 250 ms, 2 missed rounds) takes a dead node out
                                      // (measured on the testbed, scenarios/faults.yaml)
  double heartbeat_interval_s = 1.0;  // a node's membership heartbeat
  double node_liveness_s = 3.5;       // a node looks dead this long after its last heartbeat;
                                      // the fallback node looks at a live-looking owner again
                                      // after as long
  BusMode bus_mode = BusMode::kBroadcast;
};

// Reads a parameter file; keys not in it keep their defaults.
Result<SimParams> load_sim_params(const std::string& path);
// Writes every field (YAML or JSON by extension).
Status save_sim_params(const SimParams& params, const std::string& path);

// Same, on text (format: "yaml" or "json").
Result<SimParams> parse_sim_params(const std::string& text, const std::string& format);
std::string format_sim_params(const SimParams& params, const std::string& format);

}  // namespace fogm2m::sim
