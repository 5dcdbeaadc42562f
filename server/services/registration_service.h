// The LwM2M Registration interface (LwM2M 1.1 section 6.2 / 1.0 section
// 5.3) on a cluster node: Register, Update, De-register and expiry.
//
//   POST   /rd?ep=&lt=&lwm2m=&b=&sms=&Q   -> 2.01 Created, Location-Path rd/<regId>
//   POST   /rd/<regId>?lt=&b=&sms=        -> 2.04 Changed
//   DELETE /rd/<regId>                    -> 2.02 Deleted
// Errors: 4.00 (bad parameters or payload), 4.03 (security mismatch),
// 4.04 (unknown regId or path), 4.05 (method), 4.12 (unsupported LwM2M
// version), 5.00 (store failure).
//
// Registrations are matched by regId, never by address alone: a device whose
// address changed (NAT rebinding) and whose Update lands on another node is
// taken over by that node, which becomes its owner.
#pragma once

#include <functional>

#include "io/lifetime.h"
#include "server/node_context.h"

namespace fogm2m::server {

class RegistrationService {
 public:
  explicit RegistrationService(NodeContext& ctx) : ctx_(ctx) {}

  // Handles a request under /rd; `respond` is called exactly once.
  void handle(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond);

  // Removes registrations expired for more than `grace_ms` (any node may
  // call this; each expired registration is handled by one node).
  void sweep_expired(int64_t grace_ms);

  // A registration event from the bus (ours or another node's): drops local
  // devices that another node took over or that were removed.
  void on_event(std::string_view channel, std::string_view message);

  // Called whenever a registration ends or is replaced (observations of it
  // are void).
  std::function<void(const store::Registration&)> on_removed;

 private:
  void do_register(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond);
  void do_update(const PeerInfo& peer, const std::string& reg_id, const lwm2m::CoapMessage& request,
                 Responder respond);
  void do_deregister(const PeerInfo& peer, const std::string& reg_id, Responder respond);
  void finish_register(const PeerInfo& peer, store::Registration reg, Responder respond);
  void publish_removed(const store::Registration& reg);

  NodeContext& ctx_;
  io::Lifetime lifetime_;  // last: ends first
};

// Response helpers shared by the node's handlers.
lwm2m::CoapMessage coap_response(lwm2m::CoapCode code, std::string diagnostic = {});

}  // namespace fogm2m::server
