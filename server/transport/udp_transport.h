// The server node's plain CoAP/UDP transport (port 5683): the CoAP message
// layer of RFC 7252 section 4 on one Boost.Asio UDP socket, with our own
// codec (lwm2m/coap_message.h). libcoap is not used here: it scans all its
// sessions on every datagram (bench/libcoap_sessions.md); this transport
// does O(1) work per datagram whatever the number of peers.
//
// What it does, per peer (source address:port, in a hash map):
// - Incoming requests (CON/NON) go to Handlers::on_request once; the answer
//   is cached for duplicate detection: a retransmitted request is answered
//   again with the same bytes, a duplicate arriving before the answer exists
//   is dropped.
// - CON requests are answered piggy-backed in the ACK when the Responder is
//   called within `separate_response_after` (default 1 s, half the default
//   ACK_TIMEOUT) of the request's arrival. Otherwise the transport sends an empty ACK at
//   that moment (so the device stops retransmitting) and the answer goes later
//   as a separate CON response with the request's token, retransmitted until
//   the device ACKs it (RFC 7252 5.2.2). NON requests get a NON answer.
// - Outgoing requests (send_request) go as CON with a fresh message id,
//   retransmitted with exponential back-off until ACKed; the response is
//   matched by token (piggy-backed or separate, CON or NON), a matching RST
//   fails the request with kIo, `timeout` bounds the whole exchange.
// - Responses whose token matches no outstanding request are notifications
//   (Handlers::on_notification): ACKed (when CON) if the handler returns true,
//   answered with RST if it returns false. A CoAP ping (empty CON) gets an RST.
//   An RST matching none of our CONs is ignored; Handlers::on_reset is never
//   called, since this transport sends no notifications.
// - Malformed datagrams are counted and dropped (debug log, at most one line
//   per second); one whose 4-byte header reads as a CON gets an RST with its
//   message id (RFC 7252 4.2: a CON with a message format error is rejected).
//
// Memory stays bounded: peers with nothing outstanding and no live
// duplicate-detection or message-id memory are forgotten; every such memory
// lives EXCHANGE_LIFETIME in one global FIFO capped at `max_dedup_entries`
// (oldest evicted first) and at most `max_dedup_entries_per_peer` entries per
// peer. A known peer costs about 250 bytes. All timers (retransmissions,
// request timeouts, late answers, expiry) live in one io::TimerWheel behind
// one asio steady_timer; a request answered at once sets no timer.
//
// Cost (tests/server/udp_transport_test.cc, UdpTransportPerf, loopback, one
// core of the 2-core dev VM, quiet machine): ~6.1 us CPU per CON
// request/piggy-backed answer with 1k peers, ~6.7 us with 10k; ~6.5/6.8 us
// for a request from a new peer and for a server->device request. The bare
// recvfrom/sendto pair costs ~4.8 us of that; recvmmsg reads up to 32
// datagrams per wakeup (see "Receiving" in udp_transport.cc).
//
// Threading: everything, including Responders and send_request, runs on the
// one thread that runs the io_context (the node's single event loop). The
// receive path relies on that (see udp_transport.cc).
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "lwm2m/coap_reliability.h"
#include "lwm2m/result.h"
#include "server/transport/coap_transport.h"

namespace fogm2m::server {

struct UdpTransportOptions {
  // IPv4 or IPv6 literal. "::" binds dual-stack (IPv4 peers then appear with
  // their plain IPv4 address in PeerInfo).
  std::string bind_address = "0.0.0.0";
  uint16_t port = 5683;  // 0: an ephemeral port, see local_port()
  // RFC 7252 4.8 transmission parameters; exchange_lifetime is how long a
  // received message id is remembered and one we used is kept from reuse.
  lwm2m::CoapTransmission transmission;
  // A CON request still unanswered this long after it arrived gets an empty
  // ACK, and its answer goes as a separate CON response.
  std::chrono::milliseconds separate_response_after{1000};
  // Caps on remembered message ids (received and used): the whole transport
  // (oldest dropped first; >= 1), and per peer for received ids. An entry
  // costs about 70-120 bytes (more with large cached answers), so the default
  // bounds this memory near 40-60 MB; it covers the full exchange lifetime
  // up to ~2k messages/s and ~50 s (MAX_TRANSMIT_SPAN is 45 s) at 10k/s.
  size_t max_dedup_entries = size_t{1} << 19;
  size_t max_dedup_entries_per_peer = 32;
  // SO_RCVBUF / SO_SNDBUF in bytes; 0 keeps the system default. With
  // CAP_NET_ADMIN the size is forced past net.core.rmem_max/wmem_max;
  // without it the kernel caps it there (see receive_buffer_bytes()).
  int socket_buffer_bytes = 0;
  // Seeds the message-id starts and retransmission jitter; 0 = random.
  uint64_t seed = 0;
};

// Counters since start (the first group) and current sizes (the second).
struct UdpTransportStats {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t malformed = 0;           // undecodable datagrams and reserved code classes
  uint64_t duplicates = 0;          // CON/NON message ids seen before
  uint64_t retransmissions = 0;     // CON copies we sent again
  uint64_t timeouts = 0;            // outgoing requests completed with kTimeout
  uint64_t send_errors = 0;         // sendto failures (incl. full socket buffer)
  uint64_t wakeups = 0;             // receive handler runs (datagrams_in / wakeups = batch)
  uint64_t requests_in = 0;         // new requests passed to on_request
  uint64_t responses_in = 0;        // responses that completed our requests
  uint64_t notifications_in = 0;    // responses passed to on_notification
  uint64_t resets_in = 0;           // RSTs matching a message we sent
  uint64_t separate_responses = 0;  // answers sent as separate CON responses
  uint64_t dedup_evictions = 0;     // remembered ids dropped early by a cap
  uint64_t mid_collisions = 0;      // requests resent: the peer had seen their message id
  uint64_t readdressed = 0;         // requests moved to their device's new address
  size_t peers = 0;
  size_t dedup_entries = 0;    // remembered received message ids
  size_t outstanding = 0;      // our CONs awaiting ACK / response
  size_t pending_answers = 0;  // requests awaiting their Responder
  size_t timers = 0;           // timing-wheel entries

  // "in=12/1.2KB out=12/0.9KB malformed=0 dup=1 ..." on one line.
  std::string to_string() const;
};

class UdpTransport final : public CoapTransport {
 public:
  // Ownership: does not own `io`, which must outlive this object (asio
  // handlers still queued in `io` keep the internals alive until they ran
  // or `io` is destroyed).
  UdpTransport(boost::asio::io_context& io, UdpTransportOptions options = {});
  // Stops (see stop()).
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  // Opens and binds the socket and starts receiving. kInvalidArgument for a
  // bad bind address or options, kIo when the socket cannot be opened or
  // bound (address in use), or when started twice / after stop().
  Status start();

  // The bound port (the ephemeral one when options.port was 0); 0 before
  // start() and after stop().
  uint16_t local_port() const;
  // The socket's receive buffer as the kernel reports it (twice the size
  // set, for its bookkeeping); 0 when not started.
  int receive_buffer_bytes() const;

  void set_handlers(Handlers handlers) override;

  // Any peer address may be used, known or not. A peer address of the other
  // IP family than the socket, an unparsable address or an unencodable
  // message complete `done` with an error (posted, never called from inside
  // send_request). `timeout` is measured from now.
  void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                    std::chrono::milliseconds timeout, ResponseHandler done) override;

  // Moves our requests outstanding at `from` (not separate responses, which
  // were answers to the old address) to `to` and sends each there at once;
  // their retransmissions and deadlines run on. Nothing happens for an
  // unknown `from` or an unparsable `to`.
  void readdress(const PeerInfo& from, const PeerInfo& to) override;

  // Closes the socket, completes every outstanding request with kIo (its
  // `done` runs inside stop()) and drops all state; Responders called later
  // do nothing. Idempotent. May be called from inside any handler.
  void stop() override;

  UdpTransportStats stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fogm2m::server
