// The cluster model's event flow (see cluster_model.h).
#include "sim/cluster_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "results/fault_stats.h"
#include "results/latency_stats.h"
#include "scenario/faults.h"
#include "sim/cfs_server.h"
#include "sim/load_balancer.h"
#include "sim/message_sizes.h"
#include "sim/random_stream.h"
#include "sim/request_kinds.h"
#include "sim/simulator.h"
#include "sim/timer_lane.h"

namespace fogm2m::sim {

namespace {

// ---- Event types and payload kinds -----------------------------------------

enum EventType : uint16_t {
  kDeviceStart,    // entity: device. It sends Register.
  kSampleLane,     // head of the sampling lane: a device samples (and may notify)
  kFirstSample,    // entity: device. First sample after its observation began.
  kUpdateLane,     // head of the update lane: a device sends Update
  kNodeArrival,    // entity: node, data: Job, data2: device or request id
  kRedisArrival,   // entity: Command, data: request id or device, data2: node that sent it
  kDeviceRequest,  // entity: device, data: request id. A CoAP request reaches it.
  kDeviceReply,    // entity: device. Its Register/Update was answered.
  kLoadArrival,    // the load generator's next scheduled request
  kWindowStart,    // snapshot of registrations/observations for memory means
  kFault,          // entity: index in the scenario's faults (kill_node)
  kLbRemove,       // entity: node. The health check takes the node out of the LB.
};

enum Job : uint32_t {
  kJobNotification,
  kJobNotificationCon,
  kJobRegister,
  kJobUpdate,
  kJobBusRequest,
  kJobDeviceResponse,
  kJobRedisReply,  // Redis answers a command of the node (PUBLISH: ":1"); costs a wakeup at most
  // Faults only:
  kJobTakeoverDone,   // id: device. The takeover's write came back: the node owns it.
  kJobFallbackOwner,  // id: request. The fallback node learnt the device's owner.
  kJobFallbackAgain,  // id: request. It looks at a live-looking owner again.
};

enum Command : uint32_t {
  kCmdOwnerLookup,     // routed mode: GET EP#UID before publishing
  kCmdRequestPublish,  // PUBLISH LWM2M_REQ
  kCmdAckPublish,      // PUBLISH LWM2M_RESP ack
  kCmdRepPublish,      // PUBLISH LWM2M_RESP rep (or err)
  kCmdNotification,    // PUBLISH LWM2M_RESP notification
  kCmdRegistration,    // store writes + LESHAN_REG_NEW
  kCmdUpdate,          // store writes + LESHAN_REG_UPD
  // Faults only (id: device, or request for the fallback's lookup):
  kCmdTakeoverRegistration,  // GET the registration by the device's address
  kCmdTakeoverObservation,   // GET the observation
  kCmdTakeoverWrite,         // SET the owner + PUBLISH LESHAN_REG event
  kCmdFallbackLookup,        // GET EP#UID: who owns the request's device
};

// ---- State ---------------------------------------------------------------

struct DeviceState {
  SimTime last_notify = INT64_MIN / 2;
  uint16_t node = 0;   // where the load balancer sends it
  uint16_t owner = 0;  // the node holding its registration (== node without faults)
  uint8_t flags = 0;
  uint8_t since_con = 0;  // notifications since the last CON one
};
constexpr uint8_t kRegistered = 1, kObserved = 2, kTakingOver = 4;
constexpr SimTime kNever = INT64_MAX;

// Exchanges 0..2 are the mix's RequestClasses; this one observe_all's
// observations (see Exchange below).
constexpr uint8_t kObserveExchange = 3;

struct Request {
  SimTime scheduled = 0;
  uint32_t device = 0;
  uint8_t exchange = 0;  // its Exchange: the mix's RequestClass, or kObserveExchange
  // observe_all's observation, not part of the load.
  bool observe() const { return exchange == kObserveExchange; }
  bool measured = false;  // scheduled inside the window
  bool done = false;
  bool error = false;       // answered with err (endpoint not registered)
  uint16_t server = 0;      // the node that sent it to the device
  uint16_t owner_seen = 0;  // faults: the owner the fallback node's lookup found
};

struct NodeState {
  NodeState(SimTime quota, SimTime period, RandomStream costs)
      : cpu(quota, period), cost_rng(costs) {}
  CfsServer cpu;
  RandomStream cost_rng;  // job cost variation (node_cpu_cv)
  double rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint32_t registrations = 0, observations = 0;
  uint32_t registrations_at_start = 0, observations_at_start = 0;
  SimTime dead_at = kNever;        // killed (it does nothing from then on)
  SimTime looks_dead_at = kNever;  // its last heartbeat + node_liveness_s
  SimTime lb_removed_at = kNever;  // out of the load balancer
};

// Per observed device, its notifications' arrivals on the bus (fault runs).
struct NotificationWatch {
  SimTime first = -1, last = -1, max_gap = 0;
  bool broke = false;  // a gap over 2 s that began around or after the first fault
};

// One second of the load (from its start, warm-up included), by the second
// requests were scheduled in (fault runs).
using results::LoadSecond;

// Wire sizes (bytes on the interface) and one-hop transit times.
struct Wire {
  uint32_t bytes = 0;
  SimTime front = 0;  // one hop on the front network (fleet <-> LB)
  SimTime back = 0;   // one hop on the back network
};

// What one kind of request moves and costs its owner: the load's reads,
// writes and executes (indexed by RequestClass) and observe_all's
// observations.
struct Exchange {
  Wire bus_request;      // PUBLISH LWM2M_REQ, and its delivery to a node
  Wire device_request;   // CoAP to the device
  Wire device_response;  // and its answer
  Wire bus_rep;          // PUBLISH LWM2M_RESP rep, and its delivery to the requester
  SimTime cost_in = 0, cost_out = 0;
};
class ClusterModel {
 public:
  ClusterModel(const schema::Scenario& scenario, const schema::Point& point,
               const SimParams& params)
      : scenario_(scenario),
        point_(point),
        p_(params),
        seed_(scenario.seed()),
        sample_lane_(kSampleLane, 0),
        update_lane_(kUpdateLane, 1),
        lg_rng_(0, 0) {}

  Result<PointOutcome> run(uint32_t point_index, uint32_t repetition);

 private:
  void setup(uint32_t repetition);
  void handle(const Event& e);
  // Handlers.
  void on_device_start(uint32_t device);
  void on_sample(uint32_t device);
  void on_first_sample(uint32_t device);
  void on_update_due(uint32_t device);
  void on_node_arrival(uint32_t node, Job job, uint32_t id);
  void on_redis_arrival(Command cmd, uint32_t id, uint32_t node);
  void reply_to_node(uint32_t node, SimTime served);
  void reply_after_start(uint32_t node);
  void on_device_request(uint32_t device, uint32_t request);
  void on_device_reply(uint32_t device);
  void on_load_arrival();
  void on_window_start();
  // Faults.
  void on_fault(uint32_t fault);
  void on_lb_remove(uint32_t node);
  void serve_request(uint32_t node, uint32_t request, SimTime t);
  void answer_for_dead_owner(uint32_t node, uint32_t request, SimTime t);
  void take_over(uint32_t node, uint32_t device, SimTime t);
  void transfer_owner(uint32_t device, uint32_t node);
  bool looks_alive(uint32_t node, SimTime t) const { return t < nodes_[node].looks_dead_at; }
  uint32_t fallback_node(SimTime t) const;
  bool sent_by_dead_node(Command cmd, uint32_t id, uint32_t node, SimTime arrival) const;
  void notification_received(uint32_t device, SimTime t);
  void request_outcome(const Request& r, SimTime received);
  schema::FaultStats fault_stats();
  // Helpers.
  Wire udp(uint32_t coap_bytes) const;
  Wire tcp(uint32_t resp_bytes) const;
  bool in_window(SimTime t) const { return t >= window_start_ && t < window_end_; }
  void node_rx(NodeState& n, SimTime t, const Wire& w);
  void node_tx(NodeState& n, SimTime t, const Wire& w);
  // Runs a job of mean cost `work` on the node's CPU, its cost varied by
  // the parameters' cv (lognormal, unit mean); returns when it finishes.
  SimTime node_job(NodeState& n, SimTime t, SimTime work) const {
    if (cost_sigma_ > 0)
      work = static_cast<SimTime>(
          std::llround(static_cast<double>(work) * n.cost_rng.lognormal_unit_mean(cost_sigma_)));
    return n.cpu.submit(t, work);
  }
  void fleet_message(SimTime t);
  uint32_t new_request(SimTime scheduled, uint32_t device, bool observe);
  void publish_request(SimTime at, uint32_t request);
  SimTime device_start_time(uint32_t device) const;
  SimTime next_sample_after(uint32_t device, SimTime t) const;
  SimTime next_interarrival();

  const schema::Scenario& scenario_;
  const schema::Point& point_;
  const SimParams& p_;
  uint64_t seed_;

  Simulator sim_;
  TimerLane sample_lane_;
  TimerLane update_lane_;
  std::vector<DeviceState> devices_;
  std::vector<NodeState> nodes_;
  std::vector<CfsServer> redis_;  // one FIFO per shard
  CfsServer& redis_for(uint32_t device) {
    return redis_.size() == 1 ? redis_[0]
                              : redis_[mix64(0x7265'6469'7300ULL, device) % redis_.size()];
  }
  std::vector<Request> requests_;
  RandomStream lg_rng_;
  // The mix's classes: cumulative shares, and the draws (a stream of its
  // own, so a read-only mix leaves every other draw as it was).
  std::array<double, 3> class_cumulative_{1.0, 1.0, 1.0};
  RandomStream mix_rng_{0, 0};
  std::array<Exchange, 4> exchanges_;
  const Exchange& exchange_of(const Request& r) const { return exchanges_[r.exchange]; }

  MessageSizes sizes_;
  Wire notification_, empty_ack_, read_req_, read_resp_, observe_req_, observe_resp_, register_req_,
      register_resp_, update_req_, update_resp_;
  Wire bus_req_pub_, bus_ack_pub_, bus_rep_pub_, bus_notif_pub_, bus_notif_msg_, bus_reg_pub_,
      store_cmd_, redis_reply_;
  // CPU costs in simulated time, converted once.
  SimTime cost_notification_ = 0, cost_ignored_ = 0, cost_registration_ = 0, cost_dtls_ = 0,
          cost_redis_command_ = 0, cost_redis_subscriber_ = 0;
  double cost_sigma_ = 0;  // of the lognormal job cost factor (node_cpu_cv)
  SimTime hop_ = 0, round_trip_ = 0, device_delay_ = 0, sample_interval_ = 0, update_interval_ = 0,
          pmin_ = 0;
  SimTime load_start_ = 0, window_start_ = 0, window_end_ = 0, timeout_ = 0, arrival_mean_ = 0;

  // Window counters.
  uint64_t requests_sent_ = 0, requests_answered_ = 0, requests_timed_out_ = 0,
           requests_errored_ = 0;
  uint64_t measured_open_ = 0;  // measured requests not answered yet
  double notifications_sent_ = 0, notifications_received_ = 0, device_requests_answered_ = 0;
  double fleet_messages_ = 0;
  std::vector<uint32_t> latency_us_;

  // Faults (kill_node): empty without.
  struct FaultRun {
    SimTime at = 0;  // absolute
    uint32_t node = 0;
    bool modelled = false;  // kill_node; other kinds are recorded as not modelled
    bool injected = false;
  };
  std::vector<FaultRun> faults_;
  bool any_dead_ = false;
  SimTime first_fault_ = kNever;  // absolute
  std::vector<LoadSecond> timeline_;
  std::vector<NotificationWatch> watch_;           // per device
  std::vector<std::vector<SimTime>> since_fault_;  // per fault, per device: first arrival
                                                   // at or after it (-1: none yet)
};

// ---- Wire sizes ----------------------------------------------------------

Wire ClusterModel::udp(uint32_t coap_bytes) const {
  Wire w;
  w.bytes = coap_bytes + kUdpIpOverhead + (point_.dtls() ? kDtlsRecordOverhead : 0) +
            static_cast<uint32_t>(p_.link_header_bytes);
  w.front = hop_ + from_seconds(w.bytes * 8.0 / p_.front_bandwidth_bps);
  w.back = hop_ + from_seconds(w.bytes * 8.0 / p_.back_bandwidth_bps);
  return w;
}

Wire ClusterModel::tcp(uint32_t resp_bytes) const {
  Wire w;
  w.bytes = resp_bytes + static_cast<uint32_t>(p_.tcp_ip_header_bytes + p_.link_header_bytes);
  w.front = hop_ + from_seconds(w.bytes * 8.0 / p_.front_bandwidth_bps);
  w.back = hop_ + from_seconds(w.bytes * 8.0 / p_.back_bandwidth_bps);
  return w;
}

void ClusterModel::node_rx(NodeState& n, SimTime t, const Wire& w) {
  if (!in_window(t)) return;
  n.rx_bytes += w.bytes;
  n.rx_packets += 1;
}

void ClusterModel::node_tx(NodeState& n, SimTime t, const Wire& w) {
  if (!in_window(t)) return;
  n.tx_bytes += w.bytes;
  n.tx_packets += 1;
}

void ClusterModel::fleet_message(SimTime t) {
  if (in_window(t)) fleet_messages_ += 1;
}

// ---- Set-up --------------------------------------------------------------

SimTime ClusterModel::device_start_time(uint32_t device) const {
  uint64_t s = mix64(seed_, 0x5157'4152'5400'0000ULL + device);
  const double u = static_cast<double>(splitmix64(s) >> 11) * 0x1.0p-53;
  return from_seconds(u * p_.registration_ramp_s);
}

// The first sample strictly after `t` on the device's sampling grid (it
// samples from its start time on, every interval).
SimTime ClusterModel::next_sample_after(uint32_t device, SimTime t) const {
  const SimTime start = device_start_time(device);
  if (t < start) return start;
  const SimTime k = (t - start) / sample_interval_ + 1;
  return start + k * sample_interval_;
}

SimTime ClusterModel::next_interarrival() {
  if (scenario_.arrival() == schema::ARRIVAL_POISSON)
    return std::max<SimTime>(1, from_seconds(lg_rng_.exponential(to_seconds(arrival_mean_))));
  return arrival_mean_;
}

void ClusterModel::setup(uint32_t repetition) {
  seed_ = mix64(scenario_.seed(), repetition);
  lg_rng_ = RandomStream(seed_, 0xffff'ffff'0000'0001ULL);
  hop_ = from_seconds(p_.network_hop_latency_s);
  round_trip_ = from_seconds(p_.node_redis_round_trip_s);
  cost_sigma_ = RandomStream::lognormal_sigma(p_.node_cpu_cv);
  cost_notification_ = from_seconds(p_.node_cpu_notification_s);
  cost_ignored_ = from_seconds(p_.node_cpu_request_ignored_s);
  cost_registration_ = from_seconds(p_.node_cpu_registration_s);
  cost_dtls_ = point_.dtls() ? from_seconds(p_.node_cpu_dtls_datagram_s) : 0;
  cost_redis_command_ = from_seconds(p_.redis_command_s);
  cost_redis_subscriber_ = from_seconds(p_.redis_per_subscriber_s);
  device_delay_ = from_seconds(p_.device_request_delay_s);
  sample_interval_ = static_cast<SimTime>(point_.sampling_interval_ms()) * kMillisecond;
  update_interval_ = from_seconds(0.9 * point_.lifetime_s());
  pmin_ = from_seconds(p_.pmin_s);
  timeout_ = from_seconds(scenario_.request_timeout_s() > 0 ? scenario_.request_timeout_s()
                                                            : p_.default_request_timeout_s);
  load_start_ = from_seconds(p_.setup_s);
  window_start_ = load_start_ + from_seconds(scenario_.warmup_s());
  window_end_ = window_start_ + from_seconds(scenario_.window_s());
  arrival_mean_ = point_.request_rate() > 0 ? from_seconds(1.0 / point_.request_rate()) : 0;

  // Content format of observations: the mix's first format, TLV by default.
  std::string format = "TLV";
  for (const auto& m : scenario_.mix())
    if (!m.content_format().empty()) {
      format = m.content_format();
      break;
    }
  sizes_ = compute_message_sizes(scenario_.observe_path(), format);
  notification_ = udp(sizes_.notification);
  empty_ack_ = udp(sizes_.empty_ack);
  read_req_ = udp(sizes_.read_request);
  read_resp_ = udp(sizes_.read_response);
  observe_req_ = udp(sizes_.observe_request);
  observe_resp_ = udp(sizes_.observe_response);
  register_req_ = udp(sizes_.register_request);
  register_resp_ = udp(sizes_.register_response);
  update_req_ = udp(sizes_.update_request);
  update_resp_ = udp(sizes_.update_response);
  bus_req_pub_ = tcp(sizes_.bus_request_publish);
  mix_rng_ = RandomStream(seed_, 0xffff'ffff'0000'0002ULL);
  const auto shares = class_shares(scenario_);
  class_cumulative_ = {shares[0], shares[0] + shares[1], 1.0};
  bus_ack_pub_ = tcp(sizes_.bus_ack_publish);
  bus_rep_pub_ = tcp(sizes_.bus_rep_publish);
  bus_notif_pub_ = tcp(sizes_.bus_notification_publish);
  bus_notif_msg_ = tcp(sizes_.bus_notification_message);
  bus_reg_pub_ = tcp(sizes_.bus_registration_publish);
  store_cmd_ = tcp(sizes_.store_command);
  redis_reply_ = tcp(sizes_.redis_reply);

  // The exchanges: a read's owned cost split in and out, scaled by class.
  const auto exchange = [&](RequestClass c, Wire bus_request, Wire device_request,
                            Wire device_response, Wire bus_rep) {
    const double cost = p_.node_cpu_request_owned_s * owned_cost_factor(c, p_);
    return Exchange{bus_request,
                    device_request,
                    device_response,
                    bus_rep,
                    from_seconds(cost * p_.owned_request_split),
                    from_seconds(cost * (1.0 - p_.owned_request_split))};
  };
  const Wire changed_rep = tcp(sizes_.bus_changed_rep_publish);
  exchanges_[static_cast<size_t>(RequestClass::kRead)] =
      exchange(RequestClass::kRead, bus_req_pub_, read_req_, read_resp_, bus_rep_pub_);
  exchanges_[static_cast<size_t>(RequestClass::kWrite)] =
      exchange(RequestClass::kWrite, tcp(sizes_.bus_write_request_publish),
               udp(sizes_.write_request), udp(sizes_.changed_response), changed_rep);
  exchanges_[static_cast<size_t>(RequestClass::kExecute)] =
      exchange(RequestClass::kExecute, tcp(sizes_.bus_execute_request_publish),
               udp(sizes_.execute_request), udp(sizes_.changed_response), changed_rep);
  exchanges_[kObserveExchange] =
      exchange(RequestClass::kRead, bus_req_pub_, observe_req_, observe_resp_, bus_notif_pub_);

  const uint32_t fleets = std::max<uint32_t>(1, point_.fleets());
  devices_.resize(point_.devices());
  const SimTime quota =
      point_.cpu_period_us() > 0 ? static_cast<SimTime>(point_.cpu_quota_us()) * kMicrosecond : 0;
  const SimTime period = static_cast<SimTime>(point_.cpu_period_us()) * kMicrosecond;
  nodes_.reserve(point_.nodes());
  for (uint32_t i = 0; i < point_.nodes(); ++i) {
    nodes_.emplace_back(quota, period, RandomStream(seed_, 0x6e6f'6465'0000'0000ULL + i));
    nodes_.back().cpu.set_window(window_start_, window_end_);
    nodes_.back().cpu.set_wakeup_work(from_seconds(p_.node_cpu_wakeup_s));
  }
  redis_.assign(static_cast<size_t>(p_.redis_shards), CfsServer(0, 0));
  for (auto& shard : redis_) shard.set_window(window_start_, window_end_);
  for (uint32_t d = 0; d < point_.devices(); ++d) {
    devices_[d].node = static_cast<uint16_t>(pick_node(device_address(d, fleets), point_.nodes()));
    devices_[d].owner = devices_[d].node;
    sim_.schedule_at(device_start_time(d), kDeviceStart, d);
  }
  if (arrival_mean_ > 0 && point_.devices() > 0) sim_.schedule_at(load_start_, kLoadArrival, 0);
  sim_.schedule_at(window_start_, kWindowStart, 0);
  for (int i = 0; i < scenario_.faults_size(); ++i) {
    const schema::Fault& f = scenario_.faults(i);
    FaultRun run;
    run.at = load_start_ + from_seconds(f.at_s());
    run.modelled = f.kind() == "kill_node";
    if (run.modelled)
      run.node = static_cast<uint32_t>(*scenario::fault_node_index(f.target()) - 1);  // checked
    faults_.push_back(run);
    if (run.modelled && run.at < window_end_) {
      first_fault_ = std::min(first_fault_, run.at);
      sim_.schedule_at(run.at, kFault, static_cast<uint32_t>(i));
    }
  }
  if (!faults_.empty()) {
    timeline_.resize(static_cast<size_t>((window_end_ - load_start_ + kSecond - 1) / kSecond));
    watch_.resize(point_.devices());
    since_fault_.assign(faults_.size(), std::vector<SimTime>(point_.devices(), -1));
  }
  requests_.reserve(static_cast<size_t>(point_.request_rate() *
                                        (scenario_.window_s() + scenario_.warmup_s() + 1)) +
                    point_.devices());
}

// ---- Dispatch --------------------------------------------------------------

void ClusterModel::handle(const Event& e) {
  switch (e.type) {
    case kDeviceStart:
      return on_device_start(e.entity);
    case kSampleLane:
      return on_sample(sample_lane_.pop_due(sim_));
    case kFirstSample:
      return on_first_sample(e.entity);
    case kUpdateLane:
      return on_update_due(update_lane_.pop_due(sim_));
    case kNodeArrival:
      return on_node_arrival(e.entity, static_cast<Job>(e.data), e.data2);
    case kRedisArrival:
      return on_redis_arrival(static_cast<Command>(e.entity), e.data, e.data2);
    case kDeviceRequest:
      return on_device_request(e.entity, e.data);
    case kDeviceReply:
      return on_device_reply(e.entity);
    case kLoadArrival:
      return on_load_arrival();
    case kWindowStart:
      return on_window_start();
    case kFault:
      return on_fault(e.entity);
    case kLbRemove:
      return on_lb_remove(e.entity);
    default:
      return;
  }
}

// ---- Devices ---------------------------------------------------------------

void ClusterModel::on_device_start(uint32_t device) {
  const SimTime t = sim_.now();
  fleet_message(t);
  sim_.schedule_at(t + register_req_.front + register_req_.back, kNodeArrival,
                   devices_[device].node, kJobRegister, device);
}

void ClusterModel::on_first_sample(uint32_t device) {
  on_sample(device);
}

void ClusterModel::on_sample(uint32_t device) {
  DeviceState& d = devices_[device];
  const SimTime t = sim_.now();
  if (!(d.flags & kObserved)) return;  // observation gone: leave the lane
  sample_lane_.push(sim_, t + sample_interval_, device);
  if (!(d.flags & kRegistered) || t - d.last_notify < pmin_) return;
  d.last_notify = t;
  if (in_window(t)) notifications_sent_ += 1;
  fleet_message(t);
  const uint32_t every = static_cast<uint32_t>(p_.notify_con_every);
  bool con = false;
  if (every > 0 && ++d.since_con >= every) {
    d.since_con = 0;
    con = true;
  }
  sim_.schedule_at(t + notification_.front + notification_.back, kNodeArrival, d.node,
                   con ? kJobNotificationCon : kJobNotification, device);
}

void ClusterModel::on_update_due(uint32_t device) {
  DeviceState& d = devices_[device];
  if (!(d.flags & kRegistered)) return;
  const SimTime t = sim_.now();
  fleet_message(t);
  sim_.schedule_at(t + update_req_.front + update_req_.back, kNodeArrival, d.node, kJobUpdate,
                   device);
}

void ClusterModel::on_device_reply(uint32_t device) {
  DeviceState& d = devices_[device];
  d.flags |= kRegistered;
  fleet_message(sim_.now());
  if (update_interval_ > 0) update_lane_.push(sim_, sim_.now() + update_interval_, device);
}

void ClusterModel::on_device_request(uint32_t device, uint32_t request) {
  DeviceState& d = devices_[device];
  const SimTime t = sim_.now();
  const Request& r = requests_[request];
  const Exchange& x = exchange_of(r);
  if (any_dead_) {  // the node died before it sent the request
    if (t - x.device_request.back - x.device_request.front >= nodes_[r.server].dead_at) return;
  }
  if (in_window(t)) device_requests_answered_ += 1;
  fleet_message(t);
  const Wire& resp = x.device_response;
  if (r.observe() && !(d.flags & kObserved) && sample_interval_ > 0) {
    d.flags |= kObserved;
    sim_.schedule_at(next_sample_after(device, t), kFirstSample, device);
  }
  sim_.schedule_at(t + device_delay_ + resp.front + resp.back, kNodeArrival, d.node,
                   kJobDeviceResponse, request);
}

// ---- Server nodes --------------------------------------------------------

void ClusterModel::on_node_arrival(uint32_t node_index, Job job, uint32_t id) {
  NodeState& n = nodes_[node_index];
  const SimTime t = sim_.now();
  if (t >= n.dead_at) return;       // killed: whatever reaches it is lost
  const SimTime dtls = cost_dtls_;  // 0 without DTLS
  switch (job) {
    case kJobNotification:
    case kJobNotificationCon: {
      const bool con = job == kJobNotificationCon;
      node_rx(n, t, notification_);
      const SimTime f = node_job(n, t, cost_notification_ + (con ? 2 : 1) * dtls);
      if (con) node_tx(n, f, empty_ack_);
      if (any_dead_ && devices_[id].owner != node_index && !(devices_[id].flags & kTakingOver))
        return take_over(node_index, id, f);
      node_tx(n, f, bus_notif_pub_);
      reply_after_start(node_index);
      sim_.schedule_at(f + bus_notif_pub_.back, kRedisArrival, kCmdNotification, id, node_index);
      return;
    }
    case kJobRegister:
    case kJobUpdate: {
      const bool reg = job == kJobRegister;
      node_rx(n, t, reg ? register_req_ : update_req_);
      const SimTime f = node_job(n, t, cost_registration_ + 2 * dtls);
      const Wire& resp = reg ? register_resp_ : update_resp_;
      node_tx(n, f, resp);
      const double commands = p_.redis_commands_per_registration;
      for (int i = 0; i < static_cast<int>(commands); ++i) {
        node_tx(n, f, store_cmd_);
        node_rx(n, f, redis_reply_);
      }
      node_tx(n, f, bus_reg_pub_);
      reply_after_start(node_index);
      if (reg) ++n.registrations;
      // An Update of a dead node's device that reaches a survivor: it takes it over.
      if (!reg && any_dead_ && devices_[id].owner != node_index) transfer_owner(id, node_index);
      sim_.schedule_at(f + resp.back + resp.front, kDeviceReply, id);
      sim_.schedule_at(f + bus_reg_pub_.back, kRedisArrival, reg ? kCmdRegistration : kCmdUpdate,
                       id, node_index);
      return;
    }
    case kJobBusRequest: {
      node_rx(n, t, exchange_of(requests_[id]).bus_request);
      if (devices_[requests_[id].device].owner != node_index) {  // not the owner: parse and drop
        const SimTime f = node_job(n, t, cost_ignored_);
        // With a node dead, the fallback node asks Redis who owns the device
        // (modelled from the first kill on only: before, the owner answers).
        if (any_dead_ && node_index == fallback_node(t)) {
          node_tx(n, f, store_cmd_);
          sim_.schedule_at(f + store_cmd_.back, kRedisArrival, kCmdFallbackLookup, id, node_index);
        }
        return;
      }
      return serve_request(node_index, id, t);
    }
    case kJobDeviceResponse: {
      const Request& r = requests_[id];
      const Exchange& x = exchange_of(r);
      node_rx(n, t, x.device_response);
      // A response reaching a node that did not send the request (the LB moved
      // the device): it knows no such exchange and drops it.
      if (any_dead_ && r.server != node_index) return;
      const SimTime f = node_job(n, t, x.cost_out + dtls);
      if (r.observe()) ++n.observations;
      const Wire& rep = x.bus_rep;
      node_tx(n, f, rep);
      reply_after_start(node_index);
      sim_.schedule_at(f + rep.back, kRedisArrival, kCmdRepPublish, id, node_index);
      return;
    }
    case kJobRedisReply:
      node_rx(n, t, redis_reply_);
      n.cpu.submit(t, 0);
      return;
    case kJobTakeoverDone: {
      node_rx(n, t, redis_reply_);
      const SimTime f = n.cpu.submit(t, 0);
      transfer_owner(id, node_index);
      devices_[id].flags &= static_cast<uint8_t>(~kTakingOver);
      // The notification that started it goes on to the bus.
      node_tx(n, f, bus_notif_pub_);
      sim_.schedule_at(f + bus_notif_pub_.back, kRedisArrival, kCmdNotification, id, node_index);
      return;
    }
    case kJobFallbackOwner: {
      node_rx(n, t, redis_reply_);
      n.cpu.submit(t, 0);
      const uint32_t owner = requests_[id].owner_seen;
      if (owner == node_index) return;  // registered here a moment ago: its own path answers
      if (looks_alive(owner, t)) {
        // It may have died without its heartbeats showing it yet: look again
        // once they would.
        sim_.schedule_at(t + from_seconds(p_.node_liveness_s), kNodeArrival, node_index,
                         kJobFallbackAgain, id);
        return;
      }
      return answer_for_dead_owner(node_index, id, t);
    }
    case kJobFallbackAgain:
      if (looks_alive(requests_[id].owner_seen, t)) return;
      return answer_for_dead_owner(node_index, id, t);
  }
}

// The owner's path of a bus request: ack, then the CoAP request to the
// device (or an err reply for an unknown endpoint).
void ClusterModel::serve_request(uint32_t node_index, uint32_t id, SimTime t) {
  NodeState& n = nodes_[node_index];
  Request& r = requests_[id];
  const DeviceState& d = devices_[r.device];
  const Exchange& x = exchange_of(r);
  const SimTime f = node_job(n, t, x.cost_in + cost_dtls_);
  node_tx(n, f, bus_ack_pub_);
  reply_after_start(node_index);
  sim_.schedule_at(f + bus_ack_pub_.back, kRedisArrival, kCmdAckPublish, id, node_index);
  if (!(d.flags & kRegistered)) {  // unknown endpoint: an err reply at once
    r.error = true;
    node_tx(n, f, bus_rep_pub_);
    sim_.schedule_at(f + bus_rep_pub_.back, kRedisArrival, kCmdRepPublish, id, node_index);
    return;
  }
  const Wire& req = x.device_request;
  r.server = static_cast<uint16_t>(node_index);
  node_tx(n, f, req);
  sim_.schedule_at(f + req.back + req.front, kDeviceRequest, r.device, id);
}

// ---- Faults ----------------------------------------------------------------

void ClusterModel::on_fault(uint32_t fault) {
  FaultRun& run = faults_[fault];
  run.injected = true;
  NodeState& n = nodes_[run.node];
  const SimTime t = sim_.now();
  if (n.dead_at != kNever) return;  // killed already
  n.dead_at = t;
  any_dead_ = true;
  // Heartbeats every interval since the start, at a phase of its own.
  const SimTime beat = std::max<SimTime>(1, from_seconds(p_.heartbeat_interval_s));
  const SimTime phase =
      static_cast<SimTime>(mix64(seed_, 0x6265'6174'0000'0000ULL + run.node) % beat);
  const SimTime last_beat = t < phase ? t : phase + (t - phase) / beat * beat;
  n.looks_dead_at = last_beat + from_seconds(p_.node_liveness_s);
  sim_.schedule_at(t + from_seconds(p_.lb_removal_delay_s), kLbRemove, run.node);
}

// The health check took the node out: its hash buckets go to the nodes
// left, spread evenly; every other device keeps its node.
void ClusterModel::on_lb_remove(uint32_t node) {
  if (nodes_[node].lb_removed_at != kNever) return;
  nodes_[node].lb_removed_at = sim_.now();
  std::vector<uint16_t> rest;
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].lb_removed_at == kNever) rest.push_back(static_cast<uint16_t>(i));
  if (rest.empty()) return;
  const uint64_t salt = mix64(seed_, 0x6c62'7370'7265'6164ULL + node);
  for (uint32_t d = 0; d < devices_.size(); ++d)
    if (devices_[d].node == node) devices_[d].node = rest[mix64(salt, d) % rest.size()];
}

uint32_t ClusterModel::fallback_node(SimTime t) const {
  for (uint32_t i = 0; i < nodes_.size(); ++i)
    if (looks_alive(i, t)) return i;
  return UINT32_MAX;
}

void ClusterModel::transfer_owner(uint32_t device, uint32_t node) {
  DeviceState& d = devices_[device];
  if (d.owner == node) return;
  NodeState& from = nodes_[d.owner];
  NodeState& to = nodes_[node];
  if (from.registrations > 0) --from.registrations;
  ++to.registrations;
  if (d.flags & kObserved) {
    if (from.observations > 0) --from.observations;
    ++to.observations;
  }
  d.owner = static_cast<uint16_t>(node);
}

// A notification of an observation the node does not hold: it looks the
// registration (by address) and the observation up in Redis, then writes
// itself as the owner and publishes the registration event.
void ClusterModel::take_over(uint32_t node, uint32_t device, SimTime f) {
  devices_[device].flags |= kTakingOver;
  node_tx(nodes_[node], f, store_cmd_);
  sim_.schedule_at(f + store_cmd_.back, kRedisArrival, kCmdTakeoverRegistration, device, node);
}

// The owner is gone: serve the request when this node has taken the device
// over meanwhile, else answer it with an error.
void ClusterModel::answer_for_dead_owner(uint32_t node, uint32_t request, SimTime t) {
  Request& r = requests_[request];
  if (devices_[r.device].owner == node) return serve_request(node, request, t);
  NodeState& n = nodes_[node];
  const SimTime f = node_job(n, t, exchange_of(r).cost_in);
  r.error = true;
  node_tx(n, f, bus_rep_pub_);
  reply_after_start(node);
  sim_.schedule_at(f + bus_rep_pub_.back, kRedisArrival, kCmdRepPublish, request, node);
}

// Whether a node's command reaching Redis at `arrival` left the node after
// it died (so never left).
bool ClusterModel::sent_by_dead_node(Command cmd, uint32_t id, uint32_t node,
                                     SimTime arrival) const {
  SimTime back = 0;
  switch (cmd) {
    case kCmdOwnerLookup:
    case kCmdRequestPublish:
      return false;  // from the load generator
    case kCmdAckPublish:
      back = bus_ack_pub_.back;
      break;
    case kCmdRepPublish:
      back = exchange_of(requests_[id]).bus_rep.back;
      break;
    case kCmdNotification:
      back = bus_notif_pub_.back;
      break;
    case kCmdRegistration:
    case kCmdUpdate:
      back = bus_reg_pub_.back;
      break;
    default:
      back = store_cmd_.back;
      break;
  }
  return arrival - back >= nodes_[node].dead_at;
}

// ---- Redis -------------------------------------------------------------------

// Redis finished a node's command at `served`; its reply goes back to the
// node over the network (node_redis_round_trip_s unset; otherwise
// reply_after_start() already sent it).
void ClusterModel::reply_to_node(uint32_t node, SimTime served) {
  if (round_trip_ > 0) return;
  sim_.schedule_at(served + redis_reply_.back, kNodeArrival, node, kJobRedisReply, 0);
}

// With node_redis_round_trip_s set: the node's job that just ran sent a
// command partway through; its reply arrives a round trip after the job
// started, inside the same busy stretch when the job outlasts the round trip.
void ClusterModel::reply_after_start(uint32_t node) {
  if (round_trip_ <= 0) return;
  sim_.schedule_at(nodes_[node].cpu.last_start() + round_trip_, kNodeArrival, node, kJobRedisReply,
                   0);
}

void ClusterModel::on_redis_arrival(Command cmd, uint32_t id, uint32_t node) {
  const SimTime t = sim_.now();
  if (any_dead_ && sent_by_dead_node(cmd, id, node, t)) return;
  const SimTime command = cost_redis_command_;
  const SimTime per_subscriber = cost_redis_subscriber_;
  switch (cmd) {
    case kCmdOwnerLookup: {
      const SimTime g = redis_for(requests_[id].device).submit(t, command);
      // The reply goes back to the load generator, which then publishes.
      sim_.schedule_at(g + redis_reply_.back + exchange_of(requests_[id]).bus_request.back,
                       kRedisArrival, kCmdRequestPublish, id);
      return;
    }
    case kCmdRequestPublish: {
      const Request& r = requests_[id];
      const bool broadcast = p_.bus_mode == BusMode::kBroadcast;
      const uint32_t subscribers = broadcast ? static_cast<uint32_t>(nodes_.size()) : 1;
      const SimTime g = redis_for(r.device).submit(t, command + subscribers * per_subscriber);
      const SimTime delivered = g + exchange_of(r).bus_request.back;
      if (broadcast) {
        for (uint32_t j = 0; j < nodes_.size(); ++j)
          sim_.schedule_at(delivered, kNodeArrival, j, kJobBusRequest, id);
      } else {
        sim_.schedule_at(delivered, kNodeArrival, devices_[r.device].owner, kJobBusRequest, id);
      }
      return;
    }
    case kCmdAckPublish:
      reply_to_node(node, redis_for(requests_[id].device).submit(t, command + per_subscriber));
      return;
    case kCmdRepPublish: {
      Request& r = requests_[id];
      const Wire& msg = exchange_of(r).bus_rep;
      const SimTime g = redis_for(r.device).submit(t, command + per_subscriber);
      reply_to_node(node, g);
      const SimTime received = g + msg.back;
      if (!faults_.empty() && !r.done && !r.observe()) request_outcome(r, received);
      if (r.done || !r.measured) {
        r.done = true;
        return;
      }
      r.done = true;
      --measured_open_;
      const SimTime latency = received - r.scheduled;
      if (latency > timeout_ || r.error) {
        ++requests_errored_;
        if (latency > timeout_) ++requests_timed_out_;
        return;
      }
      ++requests_answered_;
      latency_us_.push_back(
          static_cast<uint32_t>(std::min<SimTime>(latency / kMicrosecond, UINT32_MAX)));
      return;
    }
    case kCmdNotification: {
      const SimTime g = redis_for(id).submit(t, command + per_subscriber);
      reply_to_node(node, g);
      if (in_window(g + bus_notif_msg_.back)) notifications_received_ += 1;
      if (!faults_.empty()) notification_received(id, g + bus_notif_msg_.back);
      return;
    }
    case kCmdRegistration:
    case kCmdUpdate: {
      const SimTime work = static_cast<SimTime>(p_.redis_commands_per_registration) * command +
                           command + per_subscriber;
      const SimTime g = redis_for(id).submit(t, work);
      reply_to_node(node, g);  // the store writes' replies come back pipelined with it
      DeviceState& d = devices_[id];
      if (cmd == kCmdRegistration && scenario_.observe_all() && !(d.flags & kObserved)) {
        // The load generator sees LESHAN_REG_NEW and observes the device.
        const SimTime seen = g + bus_reg_pub_.back;
        publish_request(seen, new_request(seen, id, true));
      }
      return;
    }
    case kCmdTakeoverRegistration:
    case kCmdTakeoverObservation: {
      const SimTime back = redis_for(id).submit(t, command) + redis_reply_.back;
      sim_.schedule_at(back, kNodeArrival, node, kJobRedisReply, 0);
      sim_.schedule_at(
          back + store_cmd_.back, kRedisArrival,
          cmd == kCmdTakeoverRegistration ? kCmdTakeoverObservation : kCmdTakeoverWrite, id, node);
      return;
    }
    case kCmdTakeoverWrite: {
      const SimTime g = redis_for(id).submit(t, 2 * command + per_subscriber);
      sim_.schedule_at(g + redis_reply_.back, kNodeArrival, node, kJobTakeoverDone, id);
      return;
    }
    case kCmdFallbackLookup: {
      Request& r = requests_[id];
      const SimTime g = redis_for(r.device).submit(t, command);
      r.owner_seen = devices_[r.device].owner;
      sim_.schedule_at(g + redis_reply_.back, kNodeArrival, node, kJobFallbackOwner, id);
      return;
    }
  }
}

// ---- Load generator ------------------------------------------------------

uint32_t ClusterModel::new_request(SimTime scheduled, uint32_t device, bool observe) {
  Request r;
  r.scheduled = scheduled;
  r.device = device;
  if (observe) {
    r.exchange = kObserveExchange;
  } else if (class_cumulative_[0] < 1.0) {  // a mix of classes: draw one
    const double u = mix_rng_.uniform();
    r.exchange = u < class_cumulative_[0] ? 0 : u < class_cumulative_[1] ? 1 : 2;
  }
  r.measured = !observe && in_window(scheduled);
  requests_.push_back(r);
  if (r.measured) {
    ++requests_sent_;
    ++measured_open_;
  }
  if (!faults_.empty() && !observe && scheduled >= load_start_) {
    const auto second = static_cast<size_t>((scheduled - load_start_) / kSecond);
    if (second < timeline_.size()) ++timeline_[second].sent;
  }
  return static_cast<uint32_t>(requests_.size() - 1);
}

// ---- Fault statistics (as runner/fault_stats.cc computes them) ---------------

// A load request's outcome, in the second it was scheduled in (received:
// when its reply reached the load generator; kNever: none did).
void ClusterModel::request_outcome(const Request& r, SimTime received) {
  if (r.scheduled < load_start_) return;
  const auto second = static_cast<size_t>((r.scheduled - load_start_) / kSecond);
  if (second >= timeline_.size()) return;
  LoadSecond& s = timeline_[second];
  const SimTime latency = received == kNever ? kNever : received - r.scheduled;
  if (latency > timeout_) {
    ++s.timed_out;
  } else if (r.error) {
    ++s.err_replies;
  } else {
    s.latencies_us.push_back(
        static_cast<uint32_t>(std::min<SimTime>(latency / kMicrosecond, UINT32_MAX)));
  }
}

void ClusterModel::notification_received(uint32_t device, SimTime t) {
  if (t < load_start_ || t >= window_end_) return;  // the load generator listens meanwhile
  NotificationWatch& w = watch_[device];
  if (w.first < 0) {
    w.first = t;
  } else {
    const SimTime gap = t - w.last;
    w.max_gap = std::max(w.max_gap, gap);
    const SimTime broken = from_seconds(results::kObservationGapS);
    if (gap > broken && w.last >= first_fault_ - broken) w.broke = true;
  }
  w.last = t;
  for (size_t f = 0; f < faults_.size(); ++f)
    if (faults_[f].injected && t >= faults_[f].at && since_fault_[f][device] < 0)
      since_fault_[f][device] = t;
}

schema::FaultStats ClusterModel::fault_stats() {
  const double run_s = to_seconds(window_end_ - load_start_);
  std::vector<double> injected_s;
  for (const FaultRun& run : faults_)
    injected_s.push_back(run.injected ? to_seconds(run.at - load_start_) : -1.0);
  std::vector<results::DeviceNotifications> devices;
  for (uint32_t d = 0; d < watch_.size(); ++d) {
    const NotificationWatch& w = watch_[d];
    if (w.first < 0) continue;
    results::DeviceNotifications n;
    n.first_s = to_seconds(w.first - load_start_);
    n.last_s = to_seconds(w.last - load_start_);
    n.max_gap_s = to_seconds(w.max_gap);
    n.broke = w.broke;
    for (size_t f = 0; f < faults_.size(); ++f) {
      const SimTime first = since_fault_[f][d];
      n.first_since_fault_s.push_back(first < 0 ? -1.0 : to_seconds(first - load_start_));
    }
    devices.push_back(std::move(n));
  }
  schema::FaultStats stats = results::fault_stats(timeline_, devices, injected_s, run_s);
  for (size_t i = 0; i < faults_.size(); ++i) {
    const FaultRun& run = faults_[i];
    schema::FaultOutcome* out = stats.mutable_faults(static_cast<int>(i));
    *out->mutable_fault() = scenario_.faults(static_cast<int>(i));
    out->set_lb_removed_after_s(-1);
    if (!run.modelled) {
      out->set_error("not modelled by the simulator (it models kill_node only)");
      continue;
    }
    const SimTime removed = run.injected ? nodes_[run.node].lb_removed_at : kNever;
    if (removed != kNever) out->set_lb_removed_after_s(std::max(0.0, to_seconds(removed - run.at)));
  }
  return stats;
}

void ClusterModel::publish_request(SimTime at, uint32_t request) {
  if (p_.bus_mode == BusMode::kRouted)
    sim_.schedule_at(at + redis_reply_.back, kRedisArrival, kCmdOwnerLookup, request);
  else
    sim_.schedule_at(at + exchange_of(requests_[request]).bus_request.back, kRedisArrival,
                     kCmdRequestPublish, request);
}

void ClusterModel::on_load_arrival() {
  const SimTime t = sim_.now();
  if (t >= window_end_) return;
  const uint32_t device = lg_rng_.below(static_cast<uint32_t>(devices_.size()));
  publish_request(t, new_request(t, device, false));
  sim_.schedule_at(t + next_interarrival(), kLoadArrival, 0);
}

void ClusterModel::on_window_start() {
  for (auto& n : nodes_) {
    n.registrations_at_start = n.registrations;
    n.observations_at_start = n.observations;
  }
}

// ---- Run and record ----------------------------------------------------------

Result<PointOutcome> ClusterModel::run(uint32_t point_index, uint32_t repetition) {
  if (point_.nodes() == 0 || point_.nodes() > 65535)
    return make_error(ErrorKind::kInvalidArgument,
                      "sim: nodes must be 1..65535, got " + std::to_string(point_.nodes()));
  if (Status s = check_sim_faults(scenario_, point_.nodes()); !s) return s.error();
  if (!(scenario_.window_s() > 0) || scenario_.window_s() > 1e6 || scenario_.warmup_s() < 0 ||
      scenario_.warmup_s() > 1e6)
    return make_error(ErrorKind::kInvalidArgument,
                      "sim: window_s must be in (0, 1e6] and warmup_s in [0, 1e6]");
  if (point_.request_rate() < 0 || point_.request_rate() > 1e8)
    return make_error(ErrorKind::kInvalidArgument, "sim: request_rate must be in [0, 1e8]");
  setup(repetition);

  auto handler = [this](const Event& e) { handle(e); };
  sim_.run_until(window_end_, handler);
  // Let the measured requests still in flight finish, up to the timeout.
  const SimTime drain_end = window_end_ + timeout_ + kMillisecond;
  while (measured_open_ > 0 && sim_.now() < drain_end)
    sim_.run_until(std::min(drain_end, sim_.now() + 10 * kMillisecond), handler);
  requests_timed_out_ += measured_open_;
  requests_errored_ += measured_open_;
  if (!faults_.empty())
    for (const Request& r : requests_)
      if (!r.observe() && !r.done) request_outcome(r, kNever);

  PointOutcome out;
  out.events = sim_.events_processed();
  schema::ResultRecord& rec = out.record;
  rec.set_scenario(scenario_.name());
  rec.set_mode(schema::MODE_SIM);
  rec.set_point_index(point_index);
  rec.set_repetition(repetition);
  *rec.mutable_point() = point_;
  const double window_s = to_seconds(window_end_ - window_start_);
  rec.set_window_s(window_s);
  rec.set_requests_sent(static_cast<uint32_t>(requests_sent_));
  rec.set_requests_answered(static_cast<uint32_t>(requests_answered_));
  rec.set_requests_errored(static_cast<uint32_t>(requests_errored_));
  rec.set_requests_timed_out(static_cast<uint32_t>(requests_timed_out_));
  rec.set_achieved_rate(static_cast<double>(requests_answered_) / window_s);
  *rec.mutable_latency() = results::latency_stats(latency_us_);
  uint32_t registered = 0;
  for (const auto& d : devices_) registered += (d.flags & kRegistered) ? 1 : 0;
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& n = nodes_[i];
    schema::NodeStats* s = rec.add_nodes();
    s->set_id(i + 1);
    const CfsCounters& c = n.cpu.counters();
    s->set_throttling_ratio(c.throttling_ratio());
    s->set_throttled_s(to_seconds(c.throttled_time));
    s->set_cpu_s(to_seconds(c.cpu_time) + p_.node_cpu_background * window_s);
    auto memory = [&](uint32_t regs, uint32_t obs) {
      return p_.node_memory_base_bytes + p_.node_memory_per_registration_bytes * regs +
             p_.node_memory_per_observation_bytes * obs;
    };
    const double m0 = memory(n.registrations_at_start, n.observations_at_start);
    const double m1 = memory(n.registrations, n.observations);
    s->set_memory_mean_bytes((m0 + m1) / 2);
    s->set_memory_peak_bytes(std::max(m0, m1));
    s->set_rx_bytes(n.rx_bytes);
    s->set_tx_bytes(n.tx_bytes);
    s->set_rx_packets(n.rx_packets);
    s->set_tx_packets(n.tx_packets);
    s->set_wakeups(static_cast<double>(c.wakeups));
    s->set_registrations(n.registrations);
  }
  schema::FleetStats* fleet = rec.mutable_fleet();
  fleet->set_registered(registered);
  fleet->set_notifications_sent(notifications_sent_);
  fleet->set_requests_answered(device_requests_answered_);
  fleet->set_retransmissions(0);
  fleet->set_errors(0);
  const double fleet_memory =
      p_.fleet_memory_base_bytes + p_.fleet_memory_per_device_bytes * point_.devices();
  fleet->mutable_process()->set_cpu_s(fleet_messages_ * p_.fleet_cpu_per_message_s);
  fleet->mutable_process()->set_memory_mean_bytes(fleet_memory);
  fleet->mutable_process()->set_memory_peak_bytes(fleet_memory);
  const double redis_memory = p_.redis_memory_base_bytes * static_cast<double>(redis_.size()) +
                              p_.redis_memory_per_registration_bytes * registered;
  SimTime redis_cpu = 0;
  for (const auto& shard : redis_) redis_cpu += shard.counters().cpu_time;
  rec.mutable_redis()->set_cpu_s(to_seconds(redis_cpu));
  rec.mutable_redis()->set_memory_mean_bytes(redis_memory);
  rec.mutable_redis()->set_memory_peak_bytes(redis_memory);
  rec.set_notifications_received(notifications_received_);
  if (!faults_.empty()) {
    schema::FaultStats stats = fault_stats();
    stats.set_registrations_before(registered);  // the model loses none
    stats.set_registrations_after(registered);
    stats.set_registrations_lost(0);
    stats.set_notifications_lost(std::max(0.0, notifications_sent_ - notifications_received_));
    *rec.mutable_faults() = std::move(stats);
  }
  out.latency_us = std::move(latency_us_);
  return out;
}

}  // namespace

Status check_sim_faults(const schema::Scenario& scenario, uint32_t nodes) {
  for (const schema::Fault& f : scenario.faults()) {
    if (f.kind() != "kill_node") continue;  // recorded as not modelled
    auto index = scenario::fault_node_index(f.target());
    if (!index)
      return make_error(ErrorKind::kInvalidArgument, "sim: kill_node: " + index.error().message);
    if (nodes > 0 && static_cast<uint32_t>(*index) > nodes)
      return make_error(ErrorKind::kInvalidArgument, "sim: kill_node target \"" + f.target() +
                                                         "\" but the point has " +
                                                         std::to_string(nodes) + " nodes");
    if (!(f.at_s() >= 0) || f.at_s() > 1e6)
      return make_error(ErrorKind::kInvalidArgument, "sim: kill_node at_s must be in [0, 1e6]");
  }
  return {};
}

Result<PointOutcome> simulate_point(const schema::Scenario& scenario, const schema::Point& point,
                                    uint32_t point_index, uint32_t repetition,
                                    const SimParams& params) {
  SimParams with_mode = params;
  with_mode.bus_mode = bus_mode_of(point, params);
  ClusterModel model(scenario, point, with_mode);
  return model.run(point_index, repetition);
}

BusMode bus_mode_of(const schema::Point& point, const SimParams& params) {
  switch (point.bus_mode()) {
    case schema::BUS_MODE_BROADCAST:
      return BusMode::kBroadcast;
    case schema::BUS_MODE_ROUTED:
      return BusMode::kRouted;
    default:
      return params.bus_mode;
  }
}

}  // namespace fogm2m::sim
