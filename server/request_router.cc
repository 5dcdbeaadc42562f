#include "server/request_router.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "lwm2m/hex.h"

namespace fogm2m::server {

namespace json = boost::json;

void RequestRouter::reply(const std::string& ticket, Result<json::object> result) {
  if (result) ctx_.bus.publish(ctx_.channels.responses, format_rep(ticket, std::move(*result)));
  else ctx_.bus.publish(ctx_.channels.responses, format_err(ticket, result.error().message));
}

void RequestRouter::on_message(std::string_view message) {
  ++ctx_.counters.bus_requests;
  ParsedRequest parsed = parse_bus_request(message);
  if (!parsed.request) {
    ++ctx_.counters.bus_malformed;
    // The owner of a readable endpoint, else the fallback node, answers.
    const bool mine = parsed.endpoint && ctx_.devices.by_endpoint(*parsed.endpoint);
    const bool owned_elsewhere = false;  // unknown without a store lookup; the fallback answers instead
    if (parsed.ticket && (mine || (membership_.is_fallback() && !owned_elsewhere))) {
      ctx_.bus.publish(ctx_.channels.responses, format_err(*parsed.ticket, parsed.request.error().message));
    } else if (!parsed.ticket && membership_.is_fallback() && malformed_logged_++ < 100) {
      spdlog::warn("dropping bus message without ticket: {}", parsed.request.error().message);
    }
    return;
  }
  const BusRequest& request = *parsed.request;
  if (request.kind == RequestKind::kSecInfo) return handle_sec_info(request);

  const LocalDevice* device = ctx_.devices.by_endpoint(request.endpoint);
  if (!device) return answer_unowned(request);
  ++ctx_.counters.bus_requests_owned;
  ctx_.bus.publish(ctx_.channels.responses, format_ack(request.ticket));
  device_manager_.perform(*device, request, [this, ticket = request.ticket](Result<json::object> result) {
    reply(ticket, std::move(result));
  });
}

void RequestRouter::answer_unowned(const BusRequest& request) {
  if (!membership_.is_fallback()) return;
  ctx_.registrations.owner_of(request.endpoint, [this, request](Result<std::optional<std::string>> owner) {
    if (!owner) {
      ++ctx_.counters.store_errors;
      return reply(request.ticket, make_error(ErrorKind::kIo, "registration store unavailable: " + owner.error().message));
    }
    if (!*owner)
      return reply(request.ticket, make_error(ErrorKind::kNotFound, "unknown endpoint " + request.endpoint +
                                                                        ": no registration"));
    if (**owner == ctx_.node_id) return;  // registered here a moment ago: this node's device path answers
    // A live node owns it and answers; the cached view may lag a node that
    // just joined, so a node missing from it is asked about afresh.
    membership_.check_alive(**owner, [this, request, owner = **owner](bool alive) {
      if (alive) return;
      reply(request.ticket, make_error(ErrorKind::kNotFound, "endpoint " + request.endpoint + " is owned by node " +
                                                                 owner + ", which is not running"));
    });
  });
}

void RequestRouter::handle_sec_info(const BusRequest& request) {
  // Every node mirrors the change in its PSK cache; the fallback node alone
  // writes the store and answers.
  if (request.sec_action == SecInfoAction::kAdd) {
    if (auto key = from_hex(request.key_hex); key && !key->empty() && !request.identity.empty())
      psk_.put(store::SecurityInfo{request.endpoint, request.identity, *key});
  } else if (request.sec_action == SecInfoAction::kDelete) {
    psk_.erase_endpoint(request.endpoint);
  }
  if (!membership_.is_fallback()) return;
  ctx_.bus.publish(ctx_.channels.responses, format_ack(request.ticket));
  const std::string ticket = request.ticket;
  switch (request.sec_action) {
    case SecInfoAction::kAdd: {
      auto key = from_hex(request.key_hex);
      if (!key) return reply(ticket, make_error(ErrorKind::kMalformed, "sec_info key: " + key.error().message));
      store::SecurityInfo info{request.endpoint, request.identity, std::move(*key)};
      ctx_.security.put(info, [this, ticket, info](Result<bool> r) {
        if (!r) return reply(ticket, r.error());
        reply(ticket, json::object{{"code", "CREATED"}, {"secInfo", store::to_public_json(info)}});
      });
      return;
    }
    case SecInfoAction::kGet:
      ctx_.security.get_by_endpoint(request.endpoint, [this, ticket, ep = request.endpoint](
                                                          Result<std::optional<store::SecurityInfo>> r) {
        if (!r) return reply(ticket, r.error());
        if (!*r) return reply(ticket, make_error(ErrorKind::kNotFound, "no security info for " + ep));
        reply(ticket, json::object{{"code", "CONTENT"}, {"secInfo", store::to_public_json(**r)}});
      });
      return;
    case SecInfoAction::kDelete:
      ctx_.security.remove(request.endpoint, [this, ticket, ep = request.endpoint](Result<bool> r) {
        if (!r) return reply(ticket, r.error());
        if (!*r) return reply(ticket, make_error(ErrorKind::kNotFound, "no security info for " + ep));
        reply(ticket, json::object{{"code", "DELETED"}});
      });
      return;
  }
}

}  // namespace fogm2m::server
