// Reads LWM2M_REQ and decides who answers: the owner of the endpoint acts
// (ack, CoAP request to the device, reply); the cluster's fallback node
// answers what nobody owns (unknown endpoint, owner down), malformed
// messages that carry a ticket, and sec_info requests. Every node keeps its
// PSK cache current from the sec_info requests it sees.
//
// Routed mode (bus/request_route.h): a requester that found this node as
// the endpoint's owner publishes on this node's own channel
// (Channels::node_requests), which no other node reads. What this node
// holds it serves as above. Anything else, a device it no longer holds (the
// requester's view of the owner was stale: the device moved, or this node
// restarted) or a sec_info request, it publishes again, unchanged, on the
// broadcast channel, where every node sees it and the rules above answer
// it: the new owner serves, the fallback answers for nobody or for a dead
// owner. So a routed request is never dropped here, and its answer is the
// one a broadcast request would have got.
//
// The ack. The reference study's owner publishes {"ticket","ack":true} as
// soon as it takes a request, then the reply: two publishes per request.
// With NodeContext::bus_ack_delay above zero the ack waits that long for the
// device's answer and is dropped when the reply comes first, so a device
// that answers in time costs one publish; a requester still sees an ack
// before the reply of a device that is slow to answer. Pending acks sit in a
// queue in deadline order (the delay is one value) behind one timer that
// wakes at most once per delay, so an ack goes out one to two delays after
// its request.
//
// Repeats. After a bus loss a requester publishes again what it still waits
// for (bus/loss_resender.h). The owner serves a ticket once
// (served_requests.h): a repeat of a request it is still serving gets an
// ack at once, a repeat of one it answered gets the same reply again.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "io/lifetime.h"
#include "server/services/cluster_membership.h"
#include "server/services/device_manager.h"
#include "server/services/presence.h"
#include "server/services/psk_cache.h"
#include "server/services/served_requests.h"

namespace fogm2m::server {

class RequestRouter {
 public:
  RequestRouter(NodeContext& ctx, DeviceManager& devices, ClusterMembership& membership,
                PskCache& psk, ServedRequests served = ServedRequests())
      : ctx_(ctx),
        device_manager_(devices),
        membership_(membership),
        psk_(psk),
        served_(std::move(served)),
        ack_timer_(ctx.io) {}

  // A message from the requests channel.
  void on_message(std::string_view message);
  // A message from this node's own request channel (routed mode).
  void on_routed_message(std::string_view message);

  // Queue mode: requests for a sleeping device of `presence` wait there
  // (after the ack) instead of going out; nullptr: none wait.
  void set_presence(Presence* presence) { presence_ = presence; }
  // Sends `request` to `device` and publishes the final reply (no ack):
  // what serve() does after the ack, and what a request that waited for a
  // sleeping device gets when it wakes.
  void dispatch(const LocalDevice& device, const bus::Request& request);

 private:
  void handle_sec_info(const bus::Request& request);
  void serve(const LocalDevice& device, const bus::Request& request);
  // A repeat of a ticket this node served: true when it was answered here.
  bool answer_repeat(const bus::Request& request);
  void answer_unowned(const bus::Request& request);
  void look_again_later(const bus::Request& request, const std::string& owner);
  void answer_for_dead_owner(const bus::Request& request, const std::string& owner);
  void publish_reply(std::string reply);
  // Deferred acks (above): queues the ack of `ticket`; publishes those
  // whose delay is over and whose reply has not gone out.
  void defer_ack(const std::string& ticket);
  void publish_due_acks();
  void arm_ack_timer();  // for the first due ack, unless armed
  // Publishes the final reply to a request of `kind` this node answers
  // itself (not from a device), counted as ok or error in the metrics.
  void answer(bus::RequestKind kind, bool ok, std::string reply);

  NodeContext& ctx_;
  DeviceManager& device_manager_;
  ClusterMembership& membership_;
  PskCache& psk_;
  Presence* presence_ = nullptr;
  ServedRequests served_;
  uint64_t malformed_logged_ = 0;
  struct PendingAck {
    std::chrono::steady_clock::time_point due;
    std::string ticket;
  };
  std::deque<PendingAck> acks_due_;              // deadline order
  std::unordered_set<std::string> acks_unsent_;  // tickets still owed an ack
  boost::asio::steady_timer ack_timer_;
  bool ack_timer_armed_ = false;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::server
