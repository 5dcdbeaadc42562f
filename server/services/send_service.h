// The LwM2M 1.1 Send operation (TS-Core 6.4.6) on a cluster node: a device
// reports values on its own.
//
//   POST /dp  Content-Format 110 (SenML JSON) or 112 (SenML CBOR), the
//             records of the resources it reports    -> 2.04 Changed
//
// The sender is the registration of the peer the request came from (this
// node's devices, else the store's by address, as the load balancer may
// have moved it here), with the same security as it registered with.
// Errors, each with a diagnostic payload naming the cause:
//   4.03 Forbidden    the peer has no registration (Register first), or it
//                     registered with other security (DTLS, PSK identity)
//   4.00 Bad Request  no or another Content-Format, a payload that does not
//                     decode (the codec's reason), no records
//   4.04 Not Found    a record of an object the device did not register
//                     ("Reported Object was not registered")
//   4.05              a method other than POST, a path below /dp
//   5.03 / 5.00       the registration store out of reach / failing
// Nothing is kept or published for a refused Send.
//
// An accepted Send is answered at once, then its values are written to the
// ValueStore as the device's last values (of several timestamped values of
// one resource the newest) and published on the events channel as a "send"
// event (bus/device_event.h) with the node's receive time.
#pragma once

#include <functional>

#include "io/lifetime.h"
#include "server/node_context.h"
#include "store/value_store.h"

namespace fogm2m::server {

class SendService {
 public:
  SendService(NodeContext& ctx, store::ValueStore& values) : ctx_(ctx), values_(values) {}

  // Handles a request under /dp; `respond` is called exactly once.
  void handle(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond);

  // Called with the sender of every accepted Send (queue mode: it is awake).
  std::function<void(const std::string& endpoint)> on_heard;

 private:
  void accept(const PeerInfo& peer, const store::Registration& reg,
              const lwm2m::CoapMessage& request, Responder respond);

  NodeContext& ctx_;
  store::ValueStore& values_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::server
