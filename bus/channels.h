// The channels of the bus. Configurable because the reference study and
// Leshan's cluster module spell them differently (LESHAN_REG_UPD vs
// LESHAN_REG_UP).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "bus/registration_event.h"

namespace fogm2m::bus {

struct Channels {
  std::string requests = "LWM2M_REQ";               // requests (request.h), from clients to nodes
  std::string responses = "LWM2M_RESP";             // acks, replies and notifications (reply.h)
  std::string registration_new = "LESHAN_REG_NEW";  // registration events (registration_event.h)
  std::string registration_update = "LESHAN_REG_UPD";
  std::string registration_delete = "LESHAN_REG_DEL";
  // What devices do on their own: Send, and queue mode's sleeping and awake
  // (device_event.h). Published by the node that holds the device.
  std::string events = "LWM2M_EVENT";

  // The request channel of node `node_id` alone (routed mode,
  // bus/request_route.h): "LWM2M_REQ:<node-id>". Every node on Redis reads
  // it beside `requests`; what comes in on it is served as a broadcast
  // request is, with the same replies on `responses`.
  std::string node_requests(std::string_view node_id) const {
    std::string channel;
    channel.reserve(requests.size() + 1 + node_id.size());
    return channel.append(requests).append(1, ':').append(node_id);
  }

  // The channel registration events of `kind` go out on.
  const std::string& registration(RegistrationEventKind kind) const;
  // The kind of registration event `channel` carries; nullopt for another channel.
  std::optional<RegistrationEventKind> registration_kind(std::string_view channel) const;
};

}  // namespace fogm2m::bus
