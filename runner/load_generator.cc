// The open-loop load generator (contract in load_generator.h).
//
// A run is three timers' worth of logic on the caller's io_context:
// send_due() publishes every request whose scheduled time has come and arms
// a timer for the next one; sweep_timeouts() walks the deadlines (ordered,
// since every request gets the same timeout) and counts what went
// unanswered; on_message() matches replies to pending requests by ticket,
// or, through the gateway, on_gateway_reply() its answers to them.
#include "runner/load_generator.h"

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>
#include <random>

#include "bus/reply.h"

namespace fogm2m::runner {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxDistinctErrors = 16;

void count_reason(std::map<std::string, uint32_t>& reasons, const std::string& reason) {
  if (reasons.size() < kMaxDistinctErrors || reasons.count(reason)) {
    ++reasons[reason];
  } else {
    ++reasons["other"];
  }
}

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string string_field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// What marks a notification on the response channel (reply.h). A JSON
// string cannot hold these quotes unescaped, so only the key of "rep" matches.
constexpr std::string_view kNotificationMark = "\"notification\":true";

// The errorMessage of an err reply, "(no message)" when it has none.
std::string error_message(std::string_view message) {
  auto reply = bus::parse_reply(message);
  const std::string text = reply ? string_field(reply->body, "errorMessage") : std::string();
  return text.empty() ? "(no message)" : text;
}

}  // namespace

struct LoadGenerator::Run {
  Run(boost::asio::io_context& io, const LoadPlan& p, RequestMix m)
      : plan(p),
        schedule(p.arrival, p.rate, p.seed),
        mix(std::move(m)),
        send_timer(io),
        sweep_timer(io) {}

  uint64_t id = 0;
  LoadPlan plan;
  ArrivalSchedule schedule;
  RequestMix mix;
  Clock::time_point start, window_start, window_end;
  Clock::time_point next_due;
  Clock::duration timeout{};
  bool sending_done = false;
  std::unordered_map<std::string, Pending> pending;
  std::deque<std::pair<Clock::time_point, std::string>> deadlines;  // in deadline order
  uint32_t measured_outstanding = 0;
  LoadResult result;
  boost::asio::steady_timer send_timer;
  boost::asio::steady_timer sweep_timer;
};

LoadPlan make_load_plan(const schema::Scenario& scenario, const schema::Point& point,
                        std::vector<std::string> endpoints, uint64_t seed) {
  LoadPlan plan;
  plan.endpoints = std::move(endpoints);
  plan.mix.assign(scenario.mix().begin(), scenario.mix().end());
  plan.rate = point.request_rate();
  plan.arrival = scenario.arrival();
  plan.seed = seed;
  plan.warmup_s = scenario.warmup_s();
  plan.window_s = scenario.window_s();
  plan.request_timeout_s = scenario.request_timeout_s();
  return plan;
}

LoadGenerator::LoadGenerator(boost::asio::io_context& io, BusOptions options,
                             std::optional<GatewayClientOptions> gateway)
    : io_(io), options_(std::move(options)), gateway_options_(std::move(gateway)) {
  std::random_device entropy;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", entropy());
  ticket_prefix_ = std::string("lg-") + hex + "-";
  run_ticket_prefix_ = ticket_prefix_ + "r-";
}

LoadGenerator::~LoadGenerator() {
  run_.reset();
  gateway_.reset();
  node_watch_.reset();
  resender_.reset();
  route_.reset();
  redis_.reset();
}

void LoadGenerator::stop() {
  stop_requested_ = true;
  boost::asio::post(io_, [] {});  // wakes a blocking call's run_one
}

bool LoadGenerator::drive(const std::function<bool()>& done, Clock::time_point deadline,
                          std::chrono::milliseconds tick) {
  auto guard = boost::asio::make_work_guard(io_);
  if (io_.stopped()) io_.restart();  // left over from an io_context::run() that ran out of work
  while (!done()) {
    if (stop_requested_) return false;
    // With the work guard held the io_context only stops when someone calls
    // io_context::stop(): take that as a stop request too.
    if (io_.stopped()) {
      stop_requested_ = true;
      return false;
    }
    const auto now = Clock::now();
    if (now >= deadline) return false;
    io_.run_one_until(std::min(deadline, now + tick));
  }
  return true;
}

Status LoadGenerator::connect() {
  if (redis_)
    return make_error(ErrorKind::kInvalidArgument, "load generator: connect() called twice");
  io::RedisLinkOptions link;
  link.host = options_.host;
  link.port = options_.port;
  link.around_connect = options_.around_connect;
  redis_ = io::make_redis_client(io_, link, options_.cluster, &single_);
  bus::RequestRouteOptions route;
  route.mode = options_.mode;
  route.channels = options_.channels;
  route_ = std::make_unique<bus::RequestRoute>(*redis_, std::move(route));
  // A loss is ridden out: requests in flight are published again once both
  // links are back, those the bus refuses meanwhile fail, the run goes on.
  // (A cluster reports no link state: there, a node's death or return
  // alone repeats requests.)
  resender_ = std::make_unique<bus::LossResender>(
      io_, [this](const std::string& ticket) { resend(ticket); });
  if (single_) {
    single_->commands().set_state_handler(lifetime_.guard([this](bool up, const Status& why) {
      on_link_state(up);
      if (!up) single_->subscriber()->reconnect(why.error().message);
    }));
    single_->subscriber()->set_state_handler(
        lifetime_.guard([this](bool up, const Status&) { on_link_state(up); }));
  }
  redis_->set_message_handler(
      lifetime_.guard([this](std::string_view, std::string_view message) { on_message(message); }));

  bool pub_up = false, sub_up = false;
  auto up = std::make_shared<std::pair<bool*, bool*>>(&pub_up, &sub_up);
  // The flags live on this stack frame: a late callback (after a timeout
  // returned) must not touch them, so the callbacks go through `up`, which
  // is cleared before returning.
  redis_->start(lifetime_.guard([this, up](Status s) {
    if (!s) {
      if (!bus_error_)
        bus_error_ = make_error(ErrorKind::kIo,
                                "load generator: cannot connect to Redis: " + s.error().message);
      return;
    }
    if (up->first != nullptr) *up->first = true;
    const std::string_view channel = options_.channels.responses;
    redis_->subscribe({channel}, lifetime_.guard([this, up](Status subscribed) {
      if (!subscribed) {
        if (!bus_error_)
          bus_error_ = make_error(
              ErrorKind::kIo, "load generator: cannot subscribe: " + subscribed.error().message);
      } else if (up->second != nullptr) {
        *up->second = true;
      }
    }));
  }));
  const bool ok = drive([&] { return bus_error_.has_value() || (pub_up && sub_up); },
                        Clock::now() + options_.connect_timeout);
  *up = {nullptr, nullptr};
  if (bus_error_) return *bus_error_;
  if (!ok) {
    if (stop_requested_)
      return make_error(ErrorKind::kTimeout, "load generator: stopped while connecting");
    bus_error_ = make_error(ErrorKind::kTimeout, "load generator: Redis at " + options_.host + ":" +
                                                     std::to_string(options_.port) +
                                                     " did not answer in time");
    return *bus_error_;
  }
  node_watch_ = std::make_unique<bus::NodeWatch>(
      *redis_,
      [this](const std::string&, bus::NodeWatch::Event) { resender_->retry(tickets_in_flight()); });
  node_watch_->start();
  if (gateway_options_) {
    gateway_ = std::make_unique<GatewayClient>(io_, *gateway_options_);
    if (Status s = probe_gateway(); !s) {
      bus_error_ = s.error();
      return s;
    }
  }
  return {};
}

Status LoadGenerator::probe_gateway() {
  RestCall probe;
  probe.target = "/api/objectspecs";
  const auto deadline = Clock::now() + options_.connect_timeout;
  std::optional<GatewayReply> answer;
  auto slot = std::make_shared<std::optional<GatewayReply>*>(&answer);
  gateway_->call(std::move(probe), deadline, [slot](GatewayReply reply) {
    if (*slot != nullptr) **slot = std::move(reply);
  });
  drive([&] { return answer.has_value(); }, deadline + std::chrono::seconds(1));
  *slot = nullptr;  // a late answer must not touch this frame
  const std::string where = "load generator: gateway at " + gateway_options_->host + ":" +
                            std::to_string(gateway_options_->port);
  if (!answer) {
    if (stop_requested_)
      return make_error(ErrorKind::kTimeout, "load generator: stopped while connecting");
    return make_error(ErrorKind::kTimeout, where + " did not answer in time");
  }
  if (answer->status != 200)
    return make_error(ErrorKind::kIo, where + ": " + failure_reason(*answer));
  return {};
}

std::string LoadGenerator::next_ticket(std::string_view kind) {
  return ticket_prefix_ + std::string(kind) + "-" + std::to_string(++ticket_count_);
}

void LoadGenerator::publish(const bus::Request& request, std::string message,
                            std::function<void(const Error&)> on_failure) {
  route_->publish(request, std::move(message),
                  lifetime_.guard([on_failure = std::move(on_failure)](Status sent) {
                    if (!sent) on_failure(sent.error());
                  }));
}

// --- bus loss -----------------------------------------------------------------

std::vector<std::string> LoadGenerator::tickets_in_flight() const {
  std::vector<std::string> tickets;
  if (!run_ || gateway_) return tickets;
  tickets.reserve(run_->pending.size());
  for (const auto& [ticket, p] : run_->pending) tickets.push_back(ticket);
  return tickets;
}

void LoadGenerator::on_link_state(bool up) {
  if (!up) {
    if (!resender_->down()) resender_->lost(tickets_in_flight());
  } else if (redis_->up()) {
    resender_->recovered();  // both links up again
  }
}

void LoadGenerator::resend(const std::string& ticket) {
  if (!run_) return resender_->forget(ticket);
  auto it = run_->pending.find(ticket);
  if (it == run_->pending.end()) return resender_->forget(ticket);
  if (LoadSecond* second = second_at(it->second.scheduled)) ++second->resent;
  if (it->second.measured) ++run_->result.resent;
  // Broadcast: after a failure the owner may have changed. A refusal (the
  // bus down again) leaves it for the next recovery.
  route_->publish_broadcast(it->second.message, {});
}

std::optional<LoadGenerator::Pending> LoadGenerator::take_pending(const std::string& ticket) {
  if (!run_) return std::nullopt;
  auto it = run_->pending.find(ticket);
  if (it == run_->pending.end()) return std::nullopt;
  Pending p = std::move(it->second);
  run_->pending.erase(it);
  if (resender_) resender_->forget(ticket);
  return p;
}

LoadSecond* LoadGenerator::second_at(Clock::time_point t) {
  if (!run_ || !run_->plan.timeline || t < run_->start) return nullptr;
  const auto index = static_cast<size_t>(std::chrono::duration<double>(t - run_->start).count());
  auto& timeline = run_->result.timeline;
  if (index >= timeline.size()) timeline.resize(index + 1);
  return &timeline[index];
}

// One outcome into counts that have answered, err_replies, timed_out and
// latencies_us: the window's LoadResult and a LoadSecond alike.
template <class Counts>
void LoadGenerator::tally(Counts& c, Outcome outcome, uint32_t latency_us) {
  switch (outcome) {
    case Outcome::kAnswered:
      ++c.answered;
      c.latencies_us.push_back(latency_us);
      break;
    case Outcome::kErr:
      ++c.err_replies;
      break;
    case Outcome::kTimedOut:
      ++c.timed_out;
      break;
  }
}

void LoadGenerator::count(const Pending& p, Outcome outcome, Clock::time_point now) {
  Run& r = *run_;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - p.scheduled).count();
  const auto latency_us = static_cast<uint32_t>(std::clamp<int64_t>(us, 0, UINT32_MAX));
  if (p.measured) {
    --r.measured_outstanding;
    tally(r.result, outcome, latency_us);
  }
  if (LoadSecond* second = second_at(p.scheduled)) tally(*second, outcome, latency_us);
}

// --- replies ------------------------------------------------------------------

void LoadGenerator::on_message(std::string_view message) {
  const auto now = Clock::now();
  // Most of the channel is notifications and other clients' replies: their
  // head (ticket and type) is all that is read of them, as this process
  // shares the machine with the cluster it measures.
  auto head = bus::parse_reply_head(message);
  if (!head) return;
  if (head->type == bus::ReplyType::kAck) {
    if (resender_->unconfirmed() != 0) resender_->confirmed(head->ticket);
    return;
  }
  const bool rep = head->type == bus::ReplyType::kRep;

  if (run_) {
    Run& r = *run_;
    if (std::optional<Pending> taken = take_pending(head->ticket)) {
      const Pending& p = *taken;
      if (now - p.scheduled > r.timeout) {
        count(p, Outcome::kTimedOut, now);  // late: the sweep had not got to it yet
      } else if (rep) {
        count(p, Outcome::kAnswered, now);
      } else {
        count(p, Outcome::kErr, now);
        if (p.measured) count_reason(r.result.error_messages, error_message(message));
      }
      return;
    }
  }

  if (auto it = observes_.find(head->ticket); it != observes_.end()) {
    auto reply = bus::parse_reply(message);
    if (!reply || (rep && reply->body.contains("notification")))
      return;  // not the observe's own answer
    observes_.erase(it);
    if (!rep) {
      ++observe_result_.failed;
      count_reason(observe_result_.errors, error_message(message));
      return;
    }
    const std::string code = string_field(reply->body, "code");
    if (code.empty() || code == "CONTENT") {
      ++observe_result_.observed;
    } else {
      ++observe_result_.failed;
      count_reason(observe_result_.errors, code);
    }
    return;
  }

  // A notification (or a rep to another client); late reps to this
  // generator's own requests are not. Through the gateway the channel also
  // carries the gateway's replies to this load: only notifications count.
  if (!rep || !run_ || head->ticket.starts_with(run_ticket_prefix_)) return;
  if (gateway_ && message.find(kNotificationMark) == std::string_view::npos) return;
  if (now >= run_->window_start && now < run_->window_end) run_->result.notifications += 1;
  if (!run_->plan.timeline) return;
  if (LoadSecond* second = second_at(now)) ++second->notifications;
  const float at = std::chrono::duration<float>(now - run_->start).count();
  if (gateway_) {
    // The gateway's observe tickets are its own: the notification names its device.
    if (auto reply = bus::parse_reply(message); reply) {
      const std::string ep = string_field(reply->body, "ep");
      if (!ep.empty()) run_->result.notifications_by_device[ep].push_back(at);
    }
    return;
  }
  if (auto ep = observed_by_ticket_.find(head->ticket); ep != observed_by_ticket_.end())
    run_->result.notifications_by_device[ep->second].push_back(at);
}

// --- through the gateway -------------------------------------------------------

void LoadGenerator::send_via_gateway(const bus::Request& request, const std::string& ticket) {
  Run& r = *run_;
  auto call = make_rest_call(request, r.plan.request_timeout_s);
  if (!call) {
    // Cannot happen with a mix RequestMix accepted; never leave it uncounted.
    boost::asio::post(io_, lifetime_.guard([this, ticket, id = r.id, why = call.error().message] {
      on_gateway_reply(ticket, id, GatewayReply{0, why, std::nullopt});
    }));
    return;
  }
  const Pending& p = r.pending.at(ticket);
  gateway_->call(std::move(*call), p.scheduled + r.timeout,
                 lifetime_.guard([this, ticket, id = r.id](GatewayReply reply) {
                   on_gateway_reply(ticket, id, std::move(reply));
                 }));
}

void LoadGenerator::on_gateway_reply(const std::string& ticket, uint64_t run_id,
                                     GatewayReply reply) {
  const auto now = Clock::now();
  if (!run_ || run_->id != run_id) return;
  Run& r = *run_;
  auto it = r.pending.find(ticket);
  if (it == r.pending.end()) return;  // already counted as timed out
  const Pending p = it->second;
  r.pending.erase(it);
  if (now - p.scheduled > r.timeout) {
    count(p, Outcome::kTimedOut, now);
  } else if (reply.status == 200) {
    count(p, Outcome::kAnswered, now);
    if (p.measured && reply.bus_ms) {
      const double total_us = std::chrono::duration<double, std::micro>(now - p.scheduled).count();
      const double added_us = std::clamp(total_us - *reply.bus_ms * 1000, 0.0, double{UINT32_MAX});
      r.result.gateway_added_us.push_back(static_cast<uint32_t>(std::lround(added_us)));
    }
  } else {
    count(p, Outcome::kErr, now);
    if (p.measured) count_reason(r.result.error_messages, failure_reason(reply));
  }
}

Result<ObserveResult> LoadGenerator::observe_all_via_gateway(
    const std::vector<std::string>& endpoints, const lwm2m::Path& path,
    std::chrono::milliseconds timeout, size_t max_in_flight) {
  // Each observe's slot: outstanding until its answer or its deadline.
  struct Outstanding {
    Clock::time_point deadline;
  };
  auto outstanding = std::make_shared<std::unordered_map<uint64_t, Outstanding>>();
  auto result = std::make_shared<ObserveResult>();
  const double timeout_s = std::chrono::duration<double>(timeout).count();
  uint64_t sent = 0;
  size_t next = 0;
  bus::Request observe;
  observe.kind = bus::RequestKind::kObserve;
  observe.path = path;
  auto progress = [&] {
    const auto now = Clock::now();
    for (auto it = outstanding->begin(); it != outstanding->end();) {
      if (it->second.deadline <= now) {
        ++result->timed_out;
        it = outstanding->erase(it);
      } else {
        ++it;
      }
    }
    while (next < endpoints.size() && outstanding->size() < max_in_flight) {
      observe.endpoint = endpoints[next++];
      auto call = make_rest_call(observe, timeout_s);
      if (!call) {
        ++result->failed;
        count_reason(result->errors, call.error().message);
        continue;
      }
      const uint64_t id = ++sent;
      (*outstanding)[id] = Outstanding{now + timeout};
      gateway_->call(
          std::move(*call), now + timeout, [outstanding, result, id](GatewayReply reply) {
            if (outstanding->erase(id) == 0) return;  // timed out already
            if (reply.status != 200) {
              ++result->failed;
              count_reason(result->errors, failure_reason(reply));
              return;
            }
            boost::system::error_code ec;
            const json::value v = json::parse(reply.body, ec);
            const json::object* o = ec ? nullptr : v.if_object();
            const json::value* success = o ? o->if_contains("success") : nullptr;
            if (success && success->is_bool() && success->get_bool()) {
              ++result->observed;
            } else {
              ++result->failed;
              const std::string status = o ? string_field(*o, "status") : "";
              count_reason(result->errors, status.empty() ? "unreadable answer" : status);
            }
          });
    }
    return next == endpoints.size() && outstanding->empty();
  };
  drive(progress, Clock::time_point::max(), std::chrono::milliseconds(20));
  if (bus_error_) return *bus_error_;
  if (stop_requested_)
    return make_error(ErrorKind::kTimeout, "load generator: stopped while observing");
  return *result;
}

// --- observe_all --------------------------------------------------------------

Result<ObserveResult> LoadGenerator::observe_all(const std::vector<std::string>& endpoints,
                                                 const std::string& path,
                                                 std::chrono::milliseconds timeout,
                                                 size_t max_in_flight) {
  if (bus_error_) return *bus_error_;
  if (!redis_)
    return make_error(ErrorKind::kInvalidArgument,
                      "load generator: observe_all() before connect()");
  if (max_in_flight == 0) max_in_flight = 1;
  observes_.clear();
  observe_result_ = {};
  auto observed = lwm2m::Path::parse(path);
  if (!observed)
    return make_error(ErrorKind::kInvalidArgument,
                      "load generator: observe path: " + observed.error().message);
  if (gateway_) return observe_all_via_gateway(endpoints, *observed, timeout, max_in_flight);
  bus::Request observe;
  observe.kind = bus::RequestKind::kObserve;
  observe.path = *observed;
  observe.timeout_ms = timeout.count();  // the node answers before we give up
  size_t next = 0;
  auto progress = [&] {
    const auto now = Clock::now();
    for (auto it = observes_.begin(); it != observes_.end();) {
      if (it->second <= now) {
        ++observe_result_.timed_out;
        it = observes_.erase(it);
      } else {
        ++it;
      }
    }
    while (!bus_error_ && next < endpoints.size() && observes_.size() < max_in_flight) {
      observe.ticket = next_ticket("obs");
      observe.endpoint = endpoints[next++];
      observes_[observe.ticket] = now + timeout;
      observed_by_ticket_[observe.ticket] = observe.endpoint;
      publish(observe, bus::format_request(observe),
              lifetime_.guard([this, ticket = observe.ticket](const Error& e) {
                if (observes_.erase(ticket) == 0) return;
                ++observe_result_.failed;
                count_reason(observe_result_.errors, "bus: " + e.message);
              }));
    }
    return bus_error_.has_value() || (next == endpoints.size() && observes_.empty());
  };
  drive(progress, Clock::time_point::max(), std::chrono::milliseconds(20));
  observes_.clear();
  if (bus_error_) return *bus_error_;
  if (stop_requested_)
    return make_error(ErrorKind::kTimeout, "load generator: stopped while observing");
  return observe_result_;
}

// --- run ----------------------------------------------------------------------

void LoadGenerator::send_due() {
  Run& r = *run_;
  const auto now = Clock::now();
  while (!r.sending_done && r.next_due <= now && !bus_error_) {
    if (r.next_due >= r.window_end) break;
    const std::string ticket = next_ticket("r");
    const bool measured = r.next_due >= r.window_start;
    Pending& pending = r.pending.emplace(ticket, Pending{r.next_due, measured, {}}).first->second;
    r.deadlines.emplace_back(r.next_due + r.timeout, ticket);
    if (measured) {
      ++r.result.sent;
      ++r.measured_outstanding;
    }
    r.result.max_send_lag_ms =
        std::max(r.result.max_send_lag_ms,
                 std::chrono::duration<double, std::milli>(now - r.next_due).count());
    if (LoadSecond* second = second_at(r.next_due)) ++second->sent;
    bus::Request request = r.mix.next();
    request.ticket = ticket;
    // How long we wait: the node gives the device up before that and
    // answers with an error, never leaving us to time out in silence.
    request.timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.timeout).count();
    if (gateway_) {
      send_via_gateway(request, ticket);
    } else {
      // A request the bus would not take (Redis away) is an error at once.
      pending.message = bus::format_request(request);
      publish(request, pending.message, lifetime_.guard([this, ticket, id = r.id](const Error& e) {
        if (!run_ || run_->id != id) return;
        std::optional<Pending> taken = take_pending(ticket);
        if (!taken) return;
        const Pending& p = *taken;
        count(p, Outcome::kErr, Clock::now());
        if (p.measured) count_reason(run_->result.error_messages, "bus: " + e.message);
      }));
      resender_->sent(ticket);
    }
    r.next_due = r.start + std::chrono::duration_cast<Clock::duration>(r.schedule.next());
  }
  if (r.next_due >= r.window_end) r.sending_done = true;
  if (r.sending_done || bus_error_) return;
  r.send_timer.expires_at(r.next_due);
  r.send_timer.async_wait(lifetime_.guard([this, id = r.id](boost::system::error_code ec) {
    if (ec || !run_ || run_->id != id) return;
    send_due();
  }));
}

void LoadGenerator::sweep_timeouts() {
  Run& r = *run_;
  const auto now = Clock::now();
  while (!r.deadlines.empty() && r.deadlines.front().first <= now) {
    if (std::optional<Pending> p = take_pending(r.deadlines.front().second))
      count(*p, Outcome::kTimedOut, now);
    r.deadlines.pop_front();
  }
  // Often enough that a timeout is counted within a few percent of its time.
  const auto interval = std::clamp<Clock::duration>(r.timeout / 50, std::chrono::milliseconds(1),
                                                    std::chrono::milliseconds(50));
  r.sweep_timer.expires_after(interval);
  r.sweep_timer.async_wait(lifetime_.guard([this, id = r.id](boost::system::error_code ec) {
    if (ec || !run_ || run_->id != id) return;
    sweep_timeouts();
  }));
}

Result<LoadResult> LoadGenerator::run(const LoadPlan& plan) {
  if (bus_error_) return *bus_error_;
  if (!redis_)
    return make_error(ErrorKind::kInvalidArgument, "load generator: run() before connect()");
  if (!(plan.rate > 0) || !std::isfinite(plan.rate))
    return make_error(ErrorKind::kInvalidArgument, "load plan: rate must be > 0");
  if (!(plan.window_s > 0) || !(plan.warmup_s >= 0) || !(plan.request_timeout_s > 0))
    return make_error(ErrorKind::kInvalidArgument,
                      "load plan: window and timeout must be > 0, warm-up >= 0");
  // The picks get their own stream, so changing the arrival process does
  // not change which device is asked what.
  auto mix = RequestMix::make(plan.mix, plan.endpoints, plan.seed ^ 0x9e3779b97f4a7c15ULL);
  if (!mix) return mix.error();

  run_ = std::make_unique<Run>(io_, plan, std::move(*mix));
  Run& r = *run_;
  r.id = ++run_count_;
  r.timeout = seconds(plan.request_timeout_s);
  r.start = Clock::now();
  r.window_start = r.start + seconds(plan.warmup_s);
  r.window_end = r.window_start + seconds(plan.window_s);
  r.next_due = r.start + std::chrono::duration_cast<Clock::duration>(r.schedule.next());
  r.result.window_s = plan.window_s;
  r.result.via_gateway = gateway_ != nullptr;

  sweep_timeouts();
  send_due();
  const bool done = drive(
      [&] { return bus_error_.has_value() || (r.sending_done && r.measured_outstanding == 0); },
      r.window_end + r.timeout + std::chrono::seconds(5));
  LoadResult result = std::move(r.result);
  if (stop_requested_) {
    result.interrupted = true;
  } else if (!done && !bus_error_) {
    // Cannot happen while the sweep runs; never leave a request uncounted.
    result.timed_out += r.measured_outstanding;
  }
  run_.reset();
  if (bus_error_) return *bus_error_;
  return result;
}

}  // namespace fogm2m::runner
