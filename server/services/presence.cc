#include "server/services/presence.h"

#include <spdlog/spdlog.h>

#include "bus/device_event.h"
#include "bus/reply.h"
#include "server/node_metrics.h"

namespace fogm2m::server {

Presence::Presence(NodeContext& ctx, PresenceOptions options, Dispatch dispatch)
    : ctx_(ctx),
      options_(options),
      dispatch_(std::move(dispatch)),
      queue_(options.max_queued_per_device),
      timer_(ctx.io) {}

void Presence::heard_endpoint(const std::string& endpoint) {
  if (const LocalDevice* device = ctx_.devices.by_endpoint(endpoint)) heard(*device);
}

void Presence::heard(const LocalDevice& device) {
  const std::string& ep = device.registration.endpoint;
  if (!device.registration.queue_mode) {
    if (devices_.empty()) return;
    auto it = devices_.find(ep);
    if (it == devices_.end()) return;
    // Registered again without queue mode: what waited goes out now.
    if (!it->second.sleeping) awake_until_.erase(it->second.expiry);
    devices_.erase(it);
    for (SleepingQueue::Waiting& w : queue_.take(ep)) dispatch_(device, w.request);
    return;
  }
  const Clock::time_point until = Clock::now() + options_.awake_time;
  auto [it, fresh] = devices_.try_emplace(ep);
  State& state = it->second;
  const bool woke = !fresh && state.sleeping;
  if (!fresh && !state.sleeping) awake_until_.erase(state.expiry);
  state.sleeping = false;
  state.expiry = awake_until_.emplace(until, ep);
  if (woke) {
    spdlog::debug("{} is awake; {} requests waited for it", ep, queue_.size(ep));
    ctx_.bus.publish(ctx_.channels.events,
                     bus::format_presence_event(bus::DeviceEventKind::kAwake, ep, ctx_.now_ms()));
  }
  // The requests that waited, in the order they came (they may run into
  // this device's sleep again if it dozes off first: then they time out at
  // the device, as any request to an absent device).
  for (SleepingQueue::Waiting& w : queue_.take(ep)) dispatch_(device, w.request);
  arm();
}

bool Presence::sleeping(const std::string& endpoint) const {
  auto it = devices_.find(endpoint);
  return it != devices_.end() && it->second.sleeping;
}

void Presence::hold(const LocalDevice& device, const bus::Request& request) {
  const std::string& ep = device.registration.endpoint;
  const auto timeout = request.timeout_ms ? std::chrono::milliseconds(*request.timeout_ms)
                                          : options_.default_request_timeout;
  if (!queue_.push(ep, request, Clock::now() + timeout))
    return answer_err(ep, request, false,
                      "device " + ep + " is sleeping and " + std::to_string(queue_.size(ep)) +
                          " requests already wait for it");
  arm();
}

void Presence::forget(const std::string& endpoint) {
  auto it = devices_.find(endpoint);
  if (it == devices_.end()) return;
  if (!it->second.sleeping) awake_until_.erase(it->second.expiry);
  devices_.erase(it);
  for (SleepingQueue::Waiting& w : queue_.drop(endpoint))
    answer_err(endpoint, w.request, false,
               "device " + endpoint + " sleeping, registration ended before it woke");
}

void Presence::answer_err(const std::string& endpoint, const bus::Request& request, bool timeout,
                          const std::string& why) {
  (void)endpoint;
  if (timeout) ++ctx_.counters.device_timeouts;
  if (ctx_.metrics)
    ctx_.metrics->answered(request.kind,
                           timeout ? NodeMetrics::Outcome::kTimeout : NodeMetrics::Outcome::kError);
  ctx_.bus.publish(ctx_.channels.responses, bus::format_err(request.ticket, why));
}

// The timer is set for the earliest of: an awake device's end of awake
// time, a waiting request's deadline. It is moved only earlier here; when
// it fires for a moment that no longer counts it just sets itself again.
void Presence::arm() {
  Clock::time_point next = Clock::time_point::max();
  if (!awake_until_.empty()) next = awake_until_.begin()->first;
  if (auto d = queue_.next_deadline(); d && *d < next) next = *d;
  if (next == Clock::time_point::max() || next >= armed_for_) return;
  armed_for_ = next;
  timer_.expires_at(next);
  timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (ec) return;  // moved earlier: a newer wait is pending
    armed_for_ = Clock::time_point::max();
    on_timer();
  }));
}

void Presence::on_timer() {
  const Clock::time_point now = Clock::now();
  while (!awake_until_.empty() && awake_until_.begin()->first <= now) {
    const std::string ep = awake_until_.begin()->second;
    awake_until_.erase(awake_until_.begin());
    auto it = devices_.find(ep);
    if (it == devices_.end()) continue;
    it->second.sleeping = true;
    spdlog::debug("{} is sleeping", ep);
    ctx_.bus.publish(ctx_.channels.events, bus::format_presence_event(
                                               bus::DeviceEventKind::kSleeping, ep, ctx_.now_ms()));
  }
  for (SleepingQueue::Waiting& w : queue_.expire(now))
    answer_err(w.endpoint, w.request, true,
               "device " + w.endpoint + " sleeping, request timed out");
  arm();
}

}  // namespace fogm2m::server
