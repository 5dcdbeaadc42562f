// The open-loop load generator on the Redis bus, or through the gateway.
//
// Publishes requests (bus/request.h) on the request channel (LWM2M_REQ) and
// matches the replies (bus/reply.h) on the response channel (LWM2M_RESP) by
// ticket. Given a gateway (`via: gateway`), sends each request instead as
// its REST call to the gateway (runner/gateway_client.h): a 200 counts as
// the bus' "rep" (the device answered), any other status or no answer as
// its "err" ("HTTP 504: ...", "HTTP: connect: ..."), and the answer's
// Server-Timing "bus;dur" gives what the gateway added to the latency
// (LoadResult::gateway_added_us). Open loop: the n-th request is due at a time fixed by the
// arrival process alone; when the loop is late it sends the backlog at once,
// and latency is always measured from the *scheduled* time, so a slow
// cluster cannot hide its slowness by slowing the load (no coordinated
// omission). A request without a rep or err within the request timeout
// (from its scheduled time) is counted as timed out, never dropped. Through
// the gateway a request waits for a free HTTP connection (at most 64) in a
// queue, and that wait is part of its latency too.
//
// Notifications are counted on the response channel in both modes (a REST
// client would get them as Server-Sent Events, which the load generator
// does not read): through the gateway, the channel also carries the
// gateway's replies to the load, so only messages marked
// "notification":true count.
//
// In routed bus mode (BusOptions::mode) a request goes on its owner's own
// channel, when the owner is known and alive, else on LWM2M_REQ
// (bus/request_route.h decides, as it does for the gateway).
//
// One LoadGenerator owns two Redis connections (one publishes, one
// subscribes) on the caller's io_context, and runs one load at a time.
// connect(), observe_all() and run() block: each drives that io_context
// (run_one) until it is done, so other work on the same io_context (a
// signal_set for Ctrl-C, say) goes on meanwhile.
//
// Threading: every member except stop() must be called on the thread that
// may run the io_context, and not from inside one of its handlers.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bus/channels.h"
#include "bus/loss_resender.h"
#include "bus/node_watch.h"
#include "bus/request_route.h"
#include "io/lifetime.h"
#include "io/redis_client.h"
#include "lwm2m/result.h"
#include "runner/arrival_schedule.h"
#include "runner/gateway_client.h"
#include "runner/load_result.h"
#include "runner/request_mix.h"
#include "schema/scenario.pb.h"

namespace fogm2m::runner {

struct BusOptions {
  std::string host = "127.0.0.1";  // numeric address of Redis
  uint16_t port = 6379;
  // Non-empty: a Redis Cluster ("host:port" of some of its nodes) instead of
  // host:port; requests and replies then use sharded pub/sub.
  std::vector<std::string> cluster;
  bus::Channels channels;  // requests go out on .requests, replies come in on .responses
  // broadcast (the reference study): every request on .requests; routed:
  // on its owner's channel (bus/request_route.h), for run() and observe_all().
  bus::BusMode mode = bus::BusMode::kBroadcast;
  std::chrono::milliseconds connect_timeout{5000};
  // Wraps every connection attempt, reconnections included (the testbed
  // enters the cluster's control namespace): io::RedisLinkOptions.
  std::function<void(const std::function<void()>& connect)> around_connect;
};

// One load: what to send, how often, for how long.
struct LoadPlan {
  std::vector<std::string> endpoints;    // devices to pick from, uniformly
  std::vector<schema::RequestSpec> mix;  // what to ask them, by weight
  double rate = 100;                     // requests per second (> 0)
  schema::Arrival arrival = schema::ARRIVAL_CONSTANT;
  uint64_t seed = 1;     // arrivals and picks
  double warmup_s = 0;   // load runs, nothing counted
  double window_s = 10;  // measured: requests scheduled in here count
  double request_timeout_s = 5;
  // Also keep LoadResult::timeline and notifications_by_device (fault runs).
  bool timeline = false;
};

// The plan of one run of `scenario` at `point` (rate, arrival, mix, warm-up,
// window and timeout from them) against `endpoints`, with `seed`.
LoadPlan make_load_plan(const schema::Scenario& scenario, const schema::Point& point,
                        std::vector<std::string> endpoints, uint64_t seed);

struct ObserveResult {
  uint32_t observed = 0;                   // a rep with code CONTENT
  uint32_t failed = 0;                     // an err, or a rep with another code
  uint32_t timed_out = 0;                  // no final reply within the timeout
  std::map<std::string, uint32_t> errors;  // failure reasons (err message or rep code), at most 16
};

class LoadGenerator {
 public:
  // With `gateway`, requests and observe_all() go to the gateway; the bus
  // links still count notifications.
  explicit LoadGenerator(boost::asio::io_context& io, BusOptions options = {},
                         std::optional<GatewayClientOptions> gateway = std::nullopt);
  ~LoadGenerator();
  LoadGenerator(const LoadGenerator&) = delete;
  LoadGenerator& operator=(const LoadGenerator&) = delete;

  // Connects both connections and subscribes to the response channel;
  // returns once a request published afterwards can have its reply seen.
  // kIo when Redis cannot be reached, kTimeout after connect_timeout.
  // With a gateway, also asks it for its object models (GET
  // /api/objectspecs): kIo unless it answers 200 (a wrong token: 401).
  Status connect();

  // Sends an observe of `path` to every endpoint (at most `max_in_flight`
  // outstanding at a time) and waits for their final replies, each for at
  // most `timeout`. Their notifications are counted by later runs. Errors
  // only when the bus fails (kIo) or stop() was called (kTimeout). Through
  // the gateway: POST /api/clients/{ep}{path}/observe, observed when it
  // answers 200 with "success":true.
  Result<ObserveResult> observe_all(const std::vector<std::string>& endpoints,
                                    const std::string& path,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5),
                                    size_t max_in_flight = 64);

  // Runs `plan`: warm-up, then the measured window, then waits until every
  // measured request is answered or timed out. Errors: kInvalidArgument for
  // a bad plan, kIo when the bus could not be reached at connect(). A Redis
  // lost during the run is ridden out: a request the bus refuses counts as
  // an err ("bus: "...); those in flight at the loss are published again
  // once the links are back, until a node confirms them
  // (bus/loss_resender.h), so a request the dying server swallowed is
  // answered late rather than timed out; requests flow again once the
  // links are back. When a node dies or comes back from a silence
  // (bus/node_watch.h), the requests in flight are published again too, so
  // those it held get an answer from it, from the node that took their
  // device over, or an error, before they time out. After stop(), returns
  // what was measured so far with `interrupted` set.
  Result<LoadResult> run(const LoadPlan& plan);

  // Ends a blocking call early. Safe from any thread (not from a signal
  // handler: use a signal_set on the io_context, or a thread that waits
  // for signals). Sticky: later calls return at once until reset_stop().
  void stop();
  void reset_stop() { stop_requested_ = false; }

 private:
  struct Pending {
    std::chrono::steady_clock::time_point scheduled;
    bool measured = false;
    std::string message;  // on the bus: the request as published, for a repeat
  };
  // A request's outcome, counted in the result and its timeline second.
  enum class Outcome { kAnswered, kErr, kTimedOut };
  void count(const Pending& p, Outcome outcome, std::chrono::steady_clock::time_point now);
  template <class Counts>
  static void tally(Counts& c, Outcome outcome, uint32_t latency_us);
  LoadSecond* second_at(std::chrono::steady_clock::time_point t);
  struct Run;

  // Drives the io_context until `done()` or `deadline` or stop(); returns
  // done(). Wakes at least every `tick` so `done()` can look at the clock.
  bool drive(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline,
             std::chrono::milliseconds tick = std::chrono::milliseconds(50));
  void on_message(std::string_view message);
  // Through the gateway: a request, and its observe_all() counterpart.
  void send_via_gateway(const bus::Request& request, const std::string& ticket);
  void on_gateway_reply(const std::string& ticket, uint64_t run_id, GatewayReply reply);
  Status probe_gateway();
  Result<ObserveResult> observe_all_via_gateway(const std::vector<std::string>& endpoints,
                                                const lwm2m::Path& path,
                                                std::chrono::milliseconds timeout,
                                                size_t max_in_flight);
  // Publishes `request`, written as `message`, where the bus mode says;
  // `on_failure` runs when the bus could not take it.
  void publish(const bus::Request& request, std::string message,
               std::function<void(const Error&)> on_failure);
  void send_due();
  void sweep_timeouts();
  // Either link went down or came back: requests in flight are published
  // again until a node confirms them (bus/loss_resender.h).
  void on_link_state(bool up);
  // The tickets of the run's requests in flight on the bus.
  std::vector<std::string> tickets_in_flight() const;
  void resend(const std::string& ticket);
  // Ends `ticket`'s request: out of pending and of the resender.
  std::optional<Pending> take_pending(const std::string& ticket);
  std::string next_ticket(std::string_view kind);

  boost::asio::io_context& io_;
  BusOptions options_;
  // Links: a Redis restart during a run costs the requests in flight, not
  // the run.
  std::unique_ptr<io::RedisClient> redis_;    // single server or cluster
  io::SingleRedis* single_ = nullptr;         // redis_, when a single server
  std::unique_ptr<bus::RequestRoute> route_;  // on redis_
  std::unique_ptr<bus::LossResender> resender_;
  // On redis_: a node's death or return repeats what is in flight.
  std::unique_ptr<bus::NodeWatch> node_watch_;
  std::optional<GatewayClientOptions> gateway_options_;
  std::unique_ptr<GatewayClient> gateway_;  // via the gateway; null on the bus
  std::optional<Error> bus_error_;          // the bus failed: every call after returns it
  std::atomic<bool> stop_requested_{false};
  std::string ticket_prefix_;      // unique to this generator: "lg-<hex>-"
  std::string run_ticket_prefix_;  // of the requests of run(): "lg-<hex>-r-"
  uint64_t ticket_count_ = 0;

  // observe_all's tickets -> endpoint: whose notifications carry them.
  std::unordered_map<std::string, std::string> observed_by_ticket_;
  // observe_all: ticket -> deadline, and what came back.
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> observes_;
  ObserveResult observe_result_;

  std::unique_ptr<Run> run_;  // the load in progress
  uint64_t run_count_ = 0;    // numbers runs, so a stale timer of an old run does nothing
  io::Lifetime lifetime_;     // last: ends first
};

}  // namespace fogm2m::runner
