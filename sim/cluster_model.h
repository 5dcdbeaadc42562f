// The discrete-event model of one deployment under load: a fleet of LwM2M
// devices, the load balancer, N server nodes under CFS bandwidth control,
// Redis (store and pub/sub bus) and the open-loop load generator. One call
// simulates one point of a scenario and returns the same result record the
// testbed writes for it (mode MODE_SIM).
//
// Timeline of a point: devices start uniformly over `registration_ramp_s`
// and register; the load generator observes each device (observe_all) as
// its LESHAN_REG_NEW arrives; load starts at `setup_s`; the measured window
// is [setup_s + warmup_s, + window_s); requests scheduled in it are the
// measured ones, and the run goes on after the window (at most the request
// timeout) until they are answered.
//
// Message flow (every arrow a network hop of `network_hop_latency_s` plus
// serialisation at the front/back bandwidth; sizes from message_sizes.h):
//   notification  device -> LB -> node [cpu] -> Redis PUBLISH [cpu] -> LG
//   request       LG -> Redis PUBLISH [cpu, fan-out] -> every node (broadcast:
//                 non-owners parse and drop [cpu]) / the owner (routed, after
//                 an owner lookup) -> owner [cpu, ack PUBLISH] -> LB -> device
//                 [delay] -> LB -> owner [cpu] -> Redis PUBLISH rep [cpu] -> LG
//   registration  device -> LB -> node [cpu] -> device; node -> Redis store
//                 writes + LESHAN_REG_NEW/UPD [cpu] -> LG
// Nodes and Redis are FIFO servers (cfs_server.h); the network and devices
// are pure delays (no queueing: links run far below capacity). With
// redis_shards > 1 Redis is a Redis Cluster: every command about a device
// (its keys, its requests' and notifications' sharded pub/sub) goes to the
// shard its hash picks; the record's Redis CPU is the sum over shards.
//
// Simplifications, stated once: every request kind of the mix costs and
// weighs like a Read (sizes of a Read of one float resource); DTLS adds
// bytes and a CPU cost per record but no handshake (registration happens
// before the window); devices' values change on every sample, so pmax
// never triggers a notification; no packet loss, so no retransmissions.
// Faults: kill_node only (others are recorded as not modelled, with an
// error in their FaultOutcome): the dead node drops all it has not
// sent; the LB moves its devices to the rest after lb_removal_delay_s; a
// survivor a notification reaches takes the device over (3 Redis round trips);
// the fallback node answers as server/services/request_router.cc does; no CON
// retransmission; requests in flight at the dead node (routed: to it) time out.
#pragma once

#include <cstdint>
#include <vector>

#include "lwm2m/result.h"
#include "schema/result.pb.h"
#include "schema/scenario.pb.h"
#include "sim/sim_params.h"

namespace fogm2m::sim {

struct PointOutcome {
  schema::ResultRecord record;       // started_unix_s and latency_file left for the writer
  std::vector<uint32_t> latency_us;  // every measured answered request, in answer order
  uint64_t events = 0;               // kernel events the point took
};

// kInvalidArgument when a kill_node fault cannot be simulated (a target that
// is not a node of `nodes`; nodes 0: targets are not checked; a negative or
// absurd at_s). Other kinds are not simulated: their FaultOutcome says so.
Status check_sim_faults(const schema::Scenario& scenario, uint32_t nodes = 0);

// The bus mode `point` runs with: its own when the scenario names one
// (`bus_mode: broadcast|routed`), else the parameters' (sim_params).
BusMode bus_mode_of(const schema::Point& point, const SimParams& params);

// Simulates `point` (index `point_index` of the scenario's expansion,
// repetition `repetition`) with the scenario's run settings (warmup, window,
// mix, arrival, seed, timeout, observe_all). Deterministic: the same
// arguments give the same outcome bit for bit. Errors (kInvalidArgument)
// for points the model cannot run (no nodes, more than 65535 nodes, a
// negative or absurd window, faults check_sim_faults refuses).
// Scenarios with faults: the record's `faults` (FaultStats) as the testbed
// fills it (timeline_file left empty). The point's bus_mode, when it names
// one, overrides the parameters' (bus_mode_of()).
Result<PointOutcome> simulate_point(const schema::Scenario& scenario, const schema::Point& point,
                                    uint32_t point_index, uint32_t repetition,
                                    const SimParams& params);

}  // namespace fogm2m::sim
