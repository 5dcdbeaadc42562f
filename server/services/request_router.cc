#include "server/services/request_router.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bus/reply.h"
#include "lwm2m/hex.h"
#include "server/node_metrics.h"

namespace fogm2m::server {

using bus::RequestKind;
using bus::SecInfoAction;
using Outcome = NodeMetrics::Outcome;

void RequestRouter::publish_reply(std::string reply) {
  ctx_.bus.publish(ctx_.channels.responses, std::move(reply));
}

void RequestRouter::answer(RequestKind kind, bool ok, std::string reply) {
  if (ctx_.metrics) ctx_.metrics->answered(kind, ok ? Outcome::kOk : Outcome::kError);
  publish_reply(std::move(reply));
}

void RequestRouter::on_message(std::string_view message) {
  ++ctx_.counters.bus_requests;
  bus::ParsedRequest parsed = bus::parse_request(message);
  if (!parsed.request) {
    ++ctx_.counters.bus_malformed;
    if (ctx_.metrics) ctx_.metrics->received_malformed();
    // The owner of a readable endpoint, else the fallback node, answers.
    const bool mine = parsed.endpoint && ctx_.devices.by_endpoint(*parsed.endpoint);
    const bool owned_elsewhere =
        false;  // unknown without a store lookup; the fallback answers instead
    if (parsed.ticket && (mine || (membership_.is_fallback() && !owned_elsewhere))) {
      if (ctx_.metrics) ctx_.metrics->answered_malformed();
      publish_reply(bus::format_err(*parsed.ticket, parsed.request.error().message));
    } else if (!parsed.ticket && membership_.is_fallback() && malformed_logged_++ < 100) {
      spdlog::warn("dropping bus message without ticket: {}", parsed.request.error().message);
    }
    return;
  }
  const bus::Request& request = *parsed.request;
  if (ctx_.metrics) ctx_.metrics->received(request.kind);
  if (request.kind == RequestKind::kSecInfo) return handle_sec_info(request);

  const LocalDevice* device = ctx_.devices.by_endpoint(request.endpoint);
  if (!device) return answer_unowned(request);
  serve(*device, request);
}

void RequestRouter::on_routed_message(std::string_view message) {
  ++ctx_.counters.bus_requests;
  ++ctx_.counters.bus_requests_routed;
  bus::ParsedRequest parsed = bus::parse_request(message);
  if (!parsed.request) {
    // No other node saw it: this one answers what carries a ticket.
    ++ctx_.counters.bus_malformed;
    if (ctx_.metrics) ctx_.metrics->received_malformed();
    if (!parsed.ticket) return;
    if (ctx_.metrics) ctx_.metrics->answered_malformed();
    return publish_reply(bus::format_err(*parsed.ticket, parsed.request.error().message));
  }
  const bus::Request& request = *parsed.request;
  if (request.kind != RequestKind::kSecInfo) {
    if (const LocalDevice* device = ctx_.devices.by_endpoint(request.endpoint)) {
      if (ctx_.metrics) ctx_.metrics->received(request.kind);
      return serve(*device, request);
    }
  }
  // Counted as received when it comes back on the broadcast channel.
  ++ctx_.counters.bus_requests_rerouted;
  ctx_.bus.publish(ctx_.channels.requests, std::string(message));
}

// This node holds the device: ack, ask it (or, when it sleeps in queue
// mode, keep the request until it wakes), reply. A sleeping device's
// request is acked at once: its answer will take a while.
void RequestRouter::serve(const LocalDevice& device, const bus::Request& request) {
  if (answer_repeat(request)) return;
  ++ctx_.counters.bus_requests_owned;
  const bool sleeping = device.registration.queue_mode && presence_ &&
                        presence_->sleeping(device.registration.endpoint);
  if (ctx_.bus_ack_delay.count() <= 0 || sleeping)
    publish_reply(bus::format_ack(request.ticket));
  else
    defer_ack(request.ticket);
  if (sleeping) return presence_->hold(device, request);
  dispatch(device, request);
}

bool RequestRouter::answer_repeat(const bus::Request& request) {
  const std::string* reply = nullptr;
  switch (served_.admit(request.ticket, &reply)) {
    case ServedRequests::Seen::kNew:
      return false;
    case ServedRequests::Seen::kInProgress:
      ++ctx_.counters.bus_repeats;
      // Its ack may have been lost, or not sent yet (a deferred ack): one now.
      publish_reply(bus::format_ack(request.ticket));
      return true;
    case ServedRequests::Seen::kAnswered:
      ++ctx_.counters.bus_repeats;
      publish_reply(*reply);
      return true;
  }
  return false;
}

void RequestRouter::dispatch(const LocalDevice& device, const bus::Request& request) {
  const uint64_t key = ServedRequests::key_of(request.ticket);
  if (ctx_.bus_ack_delay.count() <= 0) {
    device_manager_.perform(device, request, lifetime_.guard([this, key](std::string reply) {
      served_.answered(key, reply);
      publish_reply(std::move(reply));
    }));
    return;
  }
  device_manager_.perform(device, request,
                          lifetime_.guard([this, key, ticket = request.ticket](std::string reply) {
                            served_.answered(key, reply);
                            // Answered before its ack went out: the reply alone.
                            if (acks_unsent_.erase(ticket) != 0) ++ctx_.counters.bus_acks_skipped;
                            publish_reply(std::move(reply));
                          }));
}

void RequestRouter::defer_ack(const std::string& ticket) {
  // A ticket already owed an ack (a requester reusing it) keeps its place.
  if (!acks_unsent_.insert(ticket).second) return;
  acks_due_.push_back({std::chrono::steady_clock::now() + ctx_.bus_ack_delay, ticket});
  arm_ack_timer();
}

void RequestRouter::publish_due_acks() {
  const auto now = std::chrono::steady_clock::now();
  while (!acks_due_.empty() && acks_due_.front().due <= now) {
    if (acks_unsent_.erase(acks_due_.front().ticket) != 0)
      publish_reply(bus::format_ack(acks_due_.front().ticket));
    acks_due_.pop_front();
  }
  arm_ack_timer();
}

void RequestRouter::arm_ack_timer() {
  if (ack_timer_armed_ || acks_due_.empty()) return;
  ack_timer_armed_ = true;
  // At most one wakeup per delay: under load the next ack is due a request
  // later, and a wakeup per request would cost more than the acks saved.
  // An ack so goes out between one and two delays after its request.
  ack_timer_.expires_at(
      std::max(acks_due_.front().due, std::chrono::steady_clock::now() + ctx_.bus_ack_delay));
  ack_timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    ack_timer_armed_ = false;
    if (!ec) publish_due_acks();
  }));
}

void RequestRouter::answer_unowned(const bus::Request& request) {
  if (!membership_.is_fallback()) return;
  ctx_.registrations.owner_of(
      request.endpoint, lifetime_.guard([this, request](Result<std::optional<std::string>> owner) {
        if (!owner) {
          ++ctx_.counters.store_errors;
          return answer(request.kind, false,
                        bus::format_err(request.ticket, "registration store unavailable: " +
                                                            owner.error().message));
        }
        if (!*owner)
          return answer(request.kind, false,
                        bus::format_err(request.ticket, "unknown endpoint " + request.endpoint +
                                                            ": no registration"));
        if (**owner == ctx_.node_id)
          return;  // registered here a moment ago: this node's device path answers
        // A live node owns it and answers; the cached view may lag a node that
        // just joined, so a node missing from it is asked about afresh.
        membership_.check_alive(**owner,
                                lifetime_.guard([this, request, owner = **owner](bool alive) {
                                  if (alive) return look_again_later(request, owner);
                                  answer_for_dead_owner(request, owner);
                                }));
      }));
}

// The owner looked alive, but may have died a moment ago without its
// heartbeats showing it yet: once they would, ask again, so a request to a
// dead node's device gets an answer before its requester gives up, never
// silence.
void RequestRouter::look_again_later(const bus::Request& request, const std::string& owner) {
  const auto liveness = membership_.liveness();
  if (liveness.count() <= 0) return;
  auto timer = std::make_shared<boost::asio::steady_timer>(ctx_.io, liveness);
  timer->async_wait(lifetime_.guard([this, timer, request, owner](boost::system::error_code ec) {
    if (ec) return;
    membership_.check_alive_now(owner, lifetime_.guard([this, request, owner](bool alive) {
      if (!alive) answer_for_dead_owner(request, owner);
    }));
  }));
}

// The owner is gone: a survivor that has taken the device over meanwhile
// (its notifications or an Update came here) serves the request; otherwise
// it is answered with an error.
void RequestRouter::answer_for_dead_owner(const bus::Request& request, const std::string& owner) {
  if (const LocalDevice* device = ctx_.devices.by_endpoint(request.endpoint))
    return serve(*device, request);
  answer(request.kind, false,
         bus::format_err(request.ticket, "endpoint " + request.endpoint + " is owned by node " +
                                             owner + ", which is not running"));
}

void RequestRouter::handle_sec_info(const bus::Request& request) {
  // Every node mirrors the change in its PSK cache; the fallback node alone
  // writes the store and answers.
  if (request.sec_action == SecInfoAction::kAdd) {
    if (auto key = from_hex(request.key_hex); key && !key->empty() && !request.identity.empty())
      psk_.put(store::SecurityInfo{request.endpoint, request.identity, *key});
  } else if (request.sec_action == SecInfoAction::kDelete) {
    psk_.erase_endpoint(request.endpoint);
  }
  if (!membership_.is_fallback()) return;
  publish_reply(bus::format_ack(request.ticket));
  const std::string ticket = request.ticket;
  switch (request.sec_action) {
    case SecInfoAction::kAdd: {
      auto key = from_hex(request.key_hex);
      if (!key)
        return answer(RequestKind::kSecInfo, false,
                      bus::format_err(ticket, "sec_info key: " + key.error().message));
      store::SecurityInfo info{request.endpoint, request.identity, std::move(*key)};
      ctx_.security.put(info, lifetime_.guard([this, ticket, info](Result<bool> r) {
        answer(RequestKind::kSecInfo, r.ok(),
               r ? bus::format_sec_info(ticket, "CREATED", &info)
                 : bus::format_err(ticket, r.error().message));
      }));
      return;
    }
    case SecInfoAction::kGet:
      ctx_.security.get_by_endpoint(
          request.endpoint, lifetime_.guard([this, ticket, ep = request.endpoint](
                                                Result<std::optional<store::SecurityInfo>> r) {
            if (!r)
              return answer(RequestKind::kSecInfo, false,
                            bus::format_err(ticket, r.error().message));
            if (!*r)
              return answer(RequestKind::kSecInfo, false,
                            bus::format_err(ticket, "no security info for " + ep));
            answer(RequestKind::kSecInfo, true, bus::format_sec_info(ticket, "CONTENT", &**r));
          }));
      return;
    case SecInfoAction::kDelete:
      ctx_.security.remove(
          request.endpoint, lifetime_.guard([this, ticket, ep = request.endpoint](Result<bool> r) {
            if (!r)
              return answer(RequestKind::kSecInfo, false,
                            bus::format_err(ticket, r.error().message));
            if (!*r)
              return answer(RequestKind::kSecInfo, false,
                            bus::format_err(ticket, "no security info for " + ep));
            answer(RequestKind::kSecInfo, true, bus::format_sec_info(ticket, "DELETED", nullptr));
          }));
      return;
  }
}

}  // namespace fogm2m::server
