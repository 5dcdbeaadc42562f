// The LwM2M Registration interface (LwM2M 1.1 section 6.2 / 1.0 section
// 5.3) on a cluster node: Register, Update, De-register and expiry.
//
//   POST   /rd?ep=&lt=&lwm2m=&b=&sms=&Q   -> 2.01 Created, Location-Path rd/<regId>
//   POST   /rd/<regId>?lt=&b=&sms=        -> 2.04 Changed
//   DELETE /rd/<regId>                    -> 2.02 Deleted
// Errors: 4.00 (bad parameters or payload), 4.03 (security mismatch),
// 4.04 (unknown regId or path), 4.05 (method), 4.12 (unsupported LwM2M
// version), 5.03 with Max-Age (a store out of reach: Redis lost), 5.00
// (any other store failure).
//
// While the store is out of reach, an Update of a device this node owns is
// still answered 2.04 from the in-memory registration and written through
// when the store is back (unwritten_updates.h says in which order).
//
// Admission (a registration storm): at most max_in_flight_registrations
// Registers wait for the store at once; beyond that a Register is answered
// at once with 5.03 and a Max-Age spread over how long the node needs for
// the registrations it is turning away (about deferred / admitted per
// second, 1..60 s), so the devices come back spread out instead of all
// together and the node spends a few microseconds on each refusal instead
// of a store write. Updates and De-registers are always admitted.
//
// Registrations are matched by regId, never by address alone: a device whose
// address changed (NAT rebinding) and whose Update lands on another node is
// taken over by that node, which becomes its owner.
#pragma once

#include <functional>
#include <memory>

#include "io/lifetime.h"
#include "server/node_context.h"
#include "server/services/unwritten_updates.h"

namespace fogm2m::server {

class RegistrationService {
 public:
  explicit RegistrationService(NodeContext& ctx) : ctx_(ctx) {}

  // Handles a request under /rd; `respond` is called exactly once.
  void handle(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond);

  // Removes registrations expired for more than `grace_ms` (any node may
  // call this; each expired registration is handled by one node). A call
  // while the previous sweep is still waiting for the store does nothing.
  void sweep_expired(int64_t grace_ms);

  // Writes the Updates accepted from memory while the store was out of
  // reach; the node calls it when Redis is back.
  void write_through();
  size_t unwritten_updates() const { return unwritten_.size(); }

  // Admission (above); 0 admits everything.
  void set_max_in_flight_registrations(size_t n) { max_in_flight_ = n; }
  size_t registrations_in_flight() const { return *in_flight_; }
  uint64_t registrations_deferred() const { return deferred_total_; }

  // A registration event from the bus (ours or another node's): drops local
  // devices that another node took over or that were removed.
  void on_event(std::string_view channel, std::string_view message);

  // Called whenever a registration ends (De-register, expiry): its
  // observations are void.
  std::function<void(const store::Registration&)> on_removed;
  // Called when a Register replaced the endpoint's registration (a device
  // that restarted, or whose Update could not reach any node), with the
  // registration replaced and the device as this node now holds it: its
  // observations are to be asked for again.
  std::function<void(const store::Registration& previous, const LocalDevice&)> on_reregistered;
  // Called after every accepted Register and Update with the device as this
  // node now holds it (queue mode: it is awake).
  std::function<void(const LocalDevice&)> on_heard;
  // Called when an Update brought a device this node did not hold (its
  // former owner died, hung or was cut off): its observations are to be
  // re-established.
  std::function<void(const LocalDevice&)> on_taken_over;
  // Called when a DTLS device of this node updated from a new address (a
  // new session: NAT rebinding, or a session it gave up): the observations
  // it had ended with the old session and are to be asked for again.
  std::function<void(const LocalDevice&)> on_new_session;

 private:
  void do_register(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond);
  void do_update(const PeerInfo& peer, const std::string& reg_id, const lwm2m::CoapMessage& request,
                 Responder respond);
  void do_deregister(const PeerInfo& peer, const std::string& reg_id, Responder respond);
  void finish_register(const PeerInfo& peer, store::Registration reg, Responder respond);
  void publish_removed(const store::Registration& reg);
  void update_from_memory(const PeerInfo& peer, const store::RegistrationUpdate& update,
                          const Responder& respond);
  void write_one(const std::string& reg_id);
  // Counts `admitted` into the current second; false (and the Max-Age to
  // answer with in `max_age_s`) when a Register is to be deferred.
  bool admit(uint32_t& max_age_s);

  NodeContext& ctx_;
  UnwrittenUpdates unwritten_;
  size_t max_in_flight_ = 2000;
  std::shared_ptr<size_t> in_flight_ = std::make_shared<size_t>(0);
  int64_t second_ = 0;  // the Unix second admitted_ and deferred_ count
  uint64_t admitted_ = 0, deferred_ = 0;
  uint64_t admitted_before_ = 0, deferred_before_ = 0;  // the second before
  uint64_t deferred_total_ = 0;
  uint64_t rng_ = 0x9E3779B97F4A7C15ull;
  bool sweeping_ = false;
  io::Lifetime lifetime_;  // last: ends first
};

// Response helpers shared by the node's handlers.
lwm2m::CoapMessage coap_response(lwm2m::CoapCode code, std::string diagnostic = {});

}  // namespace fogm2m::server
