// The server node's CoAP-over-DTLS 1.2 transport with pre-shared keys
// (LwM2M security mode PSK, port 5684), on libcoap 4.3.1 with its OpenSSL
// backend, driven by the node's io_context through io::CoapAsioDriver.
//
// What it does for the LwM2M logic above it (see CoapTransport):
// - Handshakes: the client's PSK identity is looked up synchronously through
//   DtlsTransportOptions::psk_lookup from inside libcoap's handshake
//   callback; an unknown identity or a wrong key fails the handshake, and no
//   request of that client ever reaches on_request.
// - Requests from devices (every method, every path except libcoap's own
//   /.well-known/core) go to on_request with PeerInfo{address, secure=true,
//   psk_identity}. A response given before on_request returns goes back
//   piggy-backed on the ACK. A response given later (after a store round
//   trip) goes back as a separate response: the request is parked with
//   libcoap's async support (coap_register_async, delay 0, which ACKs a CON
//   request at once), and respond() triggers it (coap_async_trigger); libcoap
//   then re-runs the request handler, which answers with the stored message
//   as a CON (or NON for a NON request) of its own.
// - Duplicates (a device retransmitting a CON whose ACK was lost) are
//   answered from a small per-peer cache of recent message ids; on_request
//   sees every request once.
// - Requests to devices go over the device's DTLS session, which the
//   transport learns from the device's own requests (a server cannot start a
//   DTLS session towards a device). The response is matched by token; the
//   request's timer, libcoap's NACK (retries exhausted, RST, DTLS failure)
//   or stop() complete it.
// - Responses whose token has no request outstanding are notifications:
//   on_notification's answer makes libcoap ACK (true) or RST (false) them.
//
// Limits (libcoap 4.3.1): sessions live in one libcoap context, whose
// per-datagram cost grows with the session count (bench/libcoap_sessions.md),
// so keep a node's DTLS devices to a few thousand. libcoap has no call to
// cancel one confirmable message, so after a request's timeout libcoap may
// still retransmit it until its own retry budget (about 93 s) runs out; a
// late answer is then reported as a notification. Block-wise transfers are
// not reassembled: Block1/Block2 options pass through as they are.
//
// Threading: everything runs on the io_context's thread; call every member
// function there (or before run()).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "io/coap_asio.h"
#include "lwm2m/coap_reliability.h"
#include "lwm2m/result.h"
#include "server/transport/coap_transport.h"

namespace fogm2m::server {

struct DtlsTransportOptions {
  // Local address to listen on, an IPv4 or IPv6 literal ("::" takes both
  // families on a dual-stack host).
  std::string address = "0.0.0.0";
  // UDP port; 0 picks an ephemeral one (see DtlsTransport::local_port()).
  uint16_t port = 5684;
  // The key of a PSK identity, nullopt when the identity is unknown (the
  // handshake then fails). Called synchronously inside the DTLS handshake, on
  // the io_context's thread, once per handshake: it must not block for long
  // (the node backs it with a PskCache). Required.
  std::function<std::optional<std::string>(std::string_view identity)> psk_lookup;
  // PSK identity hint sent in the handshake; empty sends none (LwM2M does not
  // use hints).
  std::string psk_hint;
  // A device's DTLS session is kept this long after the last datagram from
  // it, so that the server can still send it requests; should be at least
  // the longest registration lifetime.
  std::chrono::seconds session_timeout{std::chrono::hours(25)};
  // RFC 7252 4.8 transmission parameters: of the requests to devices (on
  // libcoap's timer) and of duplicate detection (exchange_lifetime).
  lwm2m::CoapTransmission transmission;
  // Where libcoap's log lines go (installed process-wide by start(), see
  // io::set_coap_log_sink); empty leaves the current sink. start() also sets
  // libcoap's log levels to warning: at debug levels libcoap would print
  // handshake details, and keys must never reach a log.
  io::CoapLogSink log_sink;
};

class DtlsTransport final : public CoapTransport {
 public:
  // Does nothing on the network until start().
  DtlsTransport(boost::asio::io_context& io, DtlsTransportOptions options);
  // Stops (see stop()).
  ~DtlsTransport() override;
  DtlsTransport(const DtlsTransport&) = delete;
  DtlsTransport& operator=(const DtlsTransport&) = delete;

  // Binds the DTLS endpoint and starts serving. Errors: kInvalidArgument for
  // a bad address, a missing psk_lookup or a second start(); kUnsupported
  // when libcoap lacks DTLS; kIo when the port cannot be bound.
  Status start();

  // The UDP port the endpoint is bound to (the ephemeral one when
  // options.port was 0); 0 before start().
  uint16_t local_port() const;

  void set_handlers(Handlers handlers) override;
  void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                    std::chrono::milliseconds timeout, ResponseHandler done) override;
  // Stops receiving, frees the libcoap context (closing every DTLS session
  // without notice to the devices) and completes outstanding requests with
  // kIo. Deferred responders called afterwards do nothing. Idempotent; safe
  // to call from inside a handler.
  void stop() override;

  // Drops what the transport holds for `peer` (its session reference and
  // recent exchanges), e.g. when its registration ends; libcoap then frees
  // the session after session_timeout. Requests to it fail with kIo until it
  // sends a request again.
  void forget_peer(const lwm2m::PeerAddress& peer);

  // Number of devices the transport can send requests to.
  size_t peer_count() const;

  // The cipher suite negotiated with `peer` (OpenSSL's name, e.g.
  // "PSK-AES128-CCM8"), nullopt when there is no session with it.
  std::optional<std::string> cipher_suite(const lwm2m::PeerAddress& peer) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fogm2m::server
