// How the node's LwM2M logic talks CoAP to devices, whatever carries it
// (libcoap over UDP and DTLS, or the simulator's model). Transports move
// messages and own the CoAP message layer: message ids, CON retransmission
// with exponential back-off, ACKs, duplicate detection, piggy-backed and
// separate responses. The LwM2M logic sees requests, responses and
// notifications as lwm2m::CoapMessage values.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "lwm2m/coap_message.h"
#include "lwm2m/result.h"
#include "store/registration.h"

namespace fogm2m::server {

// The device end of a CoAP conversation.
struct PeerInfo {
  lwm2m::PeerAddress address;
  bool secure = false;       // over DTLS
  std::string psk_identity;  // DTLS PSK identity the peer used (secure only)
};

// Answers one incoming request; call it exactly once, now or later. The
// transport fills in type, message id and token.
using Responder = std::function<void(lwm2m::CoapMessage response)>;
// Completion of an outgoing request: the response, or an error
// (kTimeout when the device never answered, kIo when the peer reset it or
// the transport could not send).
using ResponseHandler = std::function<void(Result<lwm2m::CoapMessage>)>;

class CoapTransport {
 public:
  struct Handlers {
    // A request from a device (LwM2M Registration interface).
    std::function<void(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond)>
        on_request;
    // A response carrying a token with no request outstanding: an Observe
    // notification. Return false for a token nobody observes any more: the
    // transport then answers with RST (reactive cancel), else with ACK.
    std::function<bool(const PeerInfo& peer, const lwm2m::CoapMessage& notification)>
        on_notification;
    // A peer answered a notification with RST (it cancels the observation).
    std::function<void(const PeerInfo& peer, const std::string& token)> on_reset;
  };

  virtual ~CoapTransport() = default;

  // Installs the handlers; call before start().
  virtual void set_handlers(Handlers handlers) = 0;

  // Sends `request` (its token set by the caller, unique among outstanding
  // requests and observations of this peer) as CON. `done` runs exactly once,
  // on the io_context thread, with the response or an error after
  // `timeout` (which bounds retransmissions too).
  virtual void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                            std::chrono::milliseconds timeout, ResponseHandler done) = 0;

  // The device at `from` now talks from `to` (NAT rebinding): requests
  // still awaiting its answer go on to `to` at once, and its answers are
  // taken from there. By default nothing moves (a DTLS session ends with its
  // address, and its requests with it).
  virtual void readdress(const PeerInfo& from, const PeerInfo& to) {
    (void)from;
    (void)to;
  }

  // Stops receiving; outstanding requests complete with kIo.
  virtual void stop() = 0;
};

}  // namespace fogm2m::server
