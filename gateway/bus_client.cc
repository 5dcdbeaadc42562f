#include "gateway/bus_client.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <random>

namespace fogm2m::gateway {

BusClient::BusClient(boost::asio::io_context& io, BusClientOptions options)
    : io_(io), options_(std::move(options)) {
  std::random_device entropy;
  char hex[13];
  std::snprintf(hex, sizeof hex, "%06x%06x", entropy() & 0xffffff, entropy() & 0xffffff);
  ticket_prefix_ = std::string("gw-") + hex + "-";
  redis_ = io::make_redis_client(io_, options_.redis, options_.redis_cluster, &single_);
  bus_ = std::make_unique<bus::RedisBus>(*redis_);
  bus::RequestRouteOptions route;
  route.mode = options_.mode;
  route.channels = options_.channels;
  route_ = std::make_unique<bus::RequestRoute>(*redis_, std::move(route));
  resender_ = std::make_unique<bus::LossResender>(io_, [this](const std::string& ticket) {
    auto it = pending_.find(ticket);
    if (it == pending_.end()) return resender_->forget(ticket);
    ++counters_.resent;
    // Broadcast: after a failure the owner may have changed.
    route_->publish_broadcast(it->second.message, {});
  });
}

std::vector<std::string> BusClient::tickets_in_flight() const {
  std::vector<std::string> tickets;
  tickets.reserve(pending_.size());
  for (const auto& [ticket, p] : pending_) tickets.push_back(ticket);
  return tickets;
}

// A link lost: every request in flight may have been swallowed. Both back:
// they go out again until confirmed.
void BusClient::on_links_changed() {
  if (!up()) {
    if (!resender_->down()) resender_->lost(tickets_in_flight());
  } else {
    resender_->recovered();
  }
}

BusClient::~BusClient() = default;

void BusClient::start(std::function<void(Status)> ready) {
  if (single_) {
    auto on_link_state = [this](bool link_up, const Status& why) {
      if (!link_up) {
        spdlog::warn("gateway: redis link down: {}", why ? "" : why.error().message);
        // A subscriber has no commands to time out: follow the command link.
        if (single_->subscriber()->up()) single_->subscriber()->reconnect("command link lost");
      }
      on_links_changed();
      if (state_) state_(up());
    };
    single_->commands().set_state_handler(lifetime_.guard(on_link_state));
    single_->subscriber()->set_state_handler(lifetime_.guard([this](bool, const Status&) {
      on_links_changed();
      if (state_) state_(up());
    }));
  }
  redis_->start(lifetime_.guard([this, ready = std::move(ready)](Status s) mutable {
    if (!s) return ready(s);
    node_watch_ = std::make_unique<bus::NodeWatch>(
        *redis_, [this](const std::string&, bus::NodeWatch::Event) {
          resender_->retry(tickets_in_flight());
        });
    node_watch_->start();
    const auto& ch = options_.channels;
    bus_->subscribe({ch.responses, ch.registration_new, ch.registration_update,
                     ch.registration_delete, ch.events},
                    lifetime_.guard([this](std::string_view channel, std::string_view message) {
                      on_message(channel, message);
                    }),
                    std::move(ready));
  }));
}

void BusClient::stop() {
  // Every request still waiting is answered, so no caller hangs.
  std::vector<std::string> tickets;
  for (const auto& [ticket, p] : pending_) tickets.push_back(ticket);
  for (const auto& t : tickets) finish(t, make_error(ErrorKind::kIo, "gateway: stopping"));
  node_watch_.reset();
  redis_->disconnect();
}

std::string BusClient::send(bus::Request request, std::chrono::milliseconds timeout,
                            ReplyHandler on_reply) {
  request.ticket = ticket_prefix_ + std::to_string(++ticket_count_);
  // How long a sleeping queue-mode device's request may wait on its node.
  if (!request.timeout_ms) request.timeout_ms = timeout.count();
  const std::string ticket = request.ticket;
  ++counters_.sent;
  if (!(single_ ? single_->commands().up() : redis_->up())) {
    ++counters_.refused;
    if (on_reply)
      boost::asio::post(io_, lifetime_.guard([on_reply = std::move(on_reply)] {
        on_reply(make_error(ErrorKind::kIo, "bus unavailable: Redis is unreachable"), true);
      }));
    return ticket;
  }
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, timeout);
  timer->async_wait(
      lifetime_.guard([this, ticket, timeout, ep = request.endpoint](boost::system::error_code ec) {
        if (ec) return;
        route_->forget(ep);  // its owner may have changed: look it up again
        finish(ticket, make_error(ErrorKind::kTimeout,
                                  "no reply within " + std::to_string(timeout.count()) + " ms"));
      }));
  Pending& pending =
      pending_.emplace(ticket, Pending{std::move(on_reply), std::move(timer), {}, false})
          .first->second;
  pending.message = bus::format_request(request);
  route_->publish(request, pending.message, lifetime_.guard([this, ticket](Status sent) {
    if (sent) return;
    ++counters_.refused;
    finish(ticket, make_error(ErrorKind::kIo, "bus unavailable: " + sent.error().message));
  }));
  resender_->sent(ticket);
  return ticket;
}

void BusClient::watch(const std::string& ticket, NotificationHandler handler) {
  watched_[ticket] = std::move(handler);
}

void BusClient::unwatch(const std::string& ticket) {
  watched_.erase(ticket);
}

void BusClient::finish(const std::string& ticket, Result<BusReply> outcome) {
  auto it = pending_.find(ticket);
  if (it == pending_.end()) return;
  ReplyHandler handler = std::move(it->second.handler);
  pending_.erase(it);  // cancels the timer
  resender_->forget(ticket);
  if (!outcome) {
    if (outcome.error().kind == ErrorKind::kTimeout) ++counters_.timed_out;
  } else if (outcome->type == bus::ReplyType::kErr) {
    ++counters_.errors;
  } else {
    ++counters_.answered;
  }
  if (handler) handler(std::move(outcome), true);
}

void BusClient::on_message(std::string_view channel, std::string_view message) {
  if (channel == options_.channels.responses) return on_response(message);
  if (channel == options_.channels.events) {
    ++counters_.device_events;
    if (device_event_) device_event_(message);
    return;
  }
  const auto kind = options_.channels.registration_kind(channel);
  if (!kind) return;
  auto reg = bus::parse_registration_event(*kind, message);
  if (!reg) {
    ++counters_.malformed;
    return;
  }
  ++counters_.registration_events;
  if (registration_) registration_(*kind, *reg);
}

void BusClient::on_response(std::string_view message) {
  // Most traffic on the response channel is other clients' replies and
  // notifications: the head (ticket, type) decides before any parsing.
  auto head = bus::parse_reply_head(message);
  if (!head) {
    ++counters_.malformed;
    return;
  }
  const bool ours = head->ticket.compare(0, ticket_prefix_.size(), ticket_prefix_) == 0;
  if (ours) {
    if (auto it = pending_.find(head->ticket); it != pending_.end()) {
      auto reply = bus::parse_reply(message);
      if (!reply) {
        ++counters_.malformed;
        return;
      }
      BusReply r{reply->type, std::move(reply->body), std::string(message)};
      if (r.type == bus::ReplyType::kAck) {
        resender_->confirmed(head->ticket);
        if (it->second.acked) return;  // a repeat's
        it->second.acked = true;
        if (it->second.handler) it->second.handler(std::move(r), false);
        return;
      }
      return finish(head->ticket, std::move(r));
    }
  }
  // A notification: a rep with "notification":true. Parsed only when
  // someone listens.
  const auto watched = ours ? watched_.find(head->ticket) : watched_.end();
  const bool broadcast = notification_ && notifications_wanted_ && notifications_wanted_();
  if (head->type != bus::ReplyType::kRep || (!broadcast && watched == watched_.end())) return;
  if (message.find("\"notification\":true") == std::string_view::npos) return;
  auto reply = bus::parse_reply(message);
  if (!reply) {
    ++counters_.malformed;
    return;
  }
  ++counters_.notifications;
  BusReply r{reply->type, std::move(reply->body), std::string(message)};
  if (watched != watched_.end()) {
    NotificationHandler handler = watched->second;  // it may unwatch itself
    handler(r);
  }
  if (broadcast) notification_(r);
}

}  // namespace fogm2m::gateway
