// The CoAP message layer (RFC 7252 section 4) of one plain-CoAP emulated
// device, without a socket or a timer: the one home of what UdpDevice (a
// socket per device) and AnyIpDeviceGroup (many devices on one socket) do
// with datagrams. The transport hands it each datagram and the time, and
// gives it a DatagramSink to send through; it asks next_due() when to call
// service() again.
//
//   outgoing   Device requests (Register, Update, De-register) go to the
//              server as CON and are retransmitted (ACK_TIMEOUT x a random
//              factor in [1, ACK_RANDOM_FACTOR), doubling, MAX_RETRANSMIT
//              times); the response is matched by token (piggy-backed in the
//              ACK, or separate after an empty ACK) and handed to
//              Device::handle_response; giving up calls Device::on_timeout.
//              Notifications go to the address that asked for the
//              observation (the server, or any CoAP client such as
//              coap-client), CON or NON as Device chose; a newer CON
//              notification of the same observation replaces an
//              unacknowledged older one (RFC 7641 4.5.2).
//   incoming   Requests from any peer are answered through
//              Device::handle_request: a piggy-backed ACK for CON, a NON for
//              NON. A duplicate (same peer and message ID within
//              EXCHANGE_LIFETIME) is answered again from a small cache of
//              recent responses without reaching Device. RST to a
//              notification or request calls Device::on_reset; a CoAP ping
//              (empty CON) gets RST; an unparsable CON gets RST.
//
// All randomness (message IDs, retransmission jitter) comes from a seed.
// Size: about 250 bytes while idle (a fleet holds a million of these); the
// options live once per transport and are referred to.
#pragma once

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "emulated_clients/device.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/coap_reliability.h"

namespace fogm2m::emulated {

struct DeviceMessageOptions {
  // RFC 7252 4.8 transmission parameters (defaults), shorter in tests; a
  // response stays in the duplicate cache for exchange_lifetime.
  lwm2m::CoapTransmission transmission;
  size_t duplicate_cache_size = 8;  // 0: no duplicate detection
  // After an empty ACK, how long to wait for the separate response.
  std::chrono::milliseconds separate_response_timeout{60000};
};

struct UdpDeviceStats {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_out = 0;
  uint64_t retransmissions = 0;
  uint64_t duplicates = 0;  // requests answered again from the cache
  uint64_t timeouts = 0;    // CONs given up
  uint64_t resets_in = 0;
  uint64_t malformed = 0;  // datagrams that are not CoAP
};

// Where a message layer's datagrams go: the transport's socket, from the
// device's own address.
class DatagramSink {
 public:
  // False when the datagram could not be sent (it counts as not sent).
  virtual bool send(std::span<const uint8_t> bytes, const boost::asio::ip::udp::endpoint& peer) = 0;

 protected:
  ~DatagramSink() = default;
};

class DeviceMessageLayer {
 public:
  // `options` must outlive the layer (the transport's copy).
  DeviceMessageLayer(const DeviceMessageOptions& options, uint64_t seed);

  // One datagram from `sender`: answers requests, matches ACKs, RSTs and
  // responses. The transport calls service() afterwards.
  void on_datagram(Device& device, std::span<const uint8_t> data,
                   const boost::asio::ip::udp::endpoint& sender, TimePoint now, DatagramSink& sink);

  // Everything time-driven: retransmissions and give-ups, the device's tick
  // (unless `stopping`), forgetting observers of ended observations.
  void service(Device& device, bool stopping, TimePoint now, DatagramSink& sink);

  // Sends the device's messages (requests to `server`, notifications to
  // their observer), assigning message ids; CONs are kept for
  // retransmission. Clears `messages`.
  void send_all(std::vector<lwm2m::CoapMessage>& messages, TimePoint now, DatagramSink& sink);

  // When service() next has work; TimePoint::max() when idle.
  TimePoint next_due(const Device& device, bool stopping) const;

  // The observations end with the registration (a stop): their
  // retransmissions go.
  void drop_notification_exchanges();
  // Forgets every exchange, cached response and observer (socket closed).
  void reset();

  const boost::asio::ip::udp::endpoint& server() const { return server_; }
  void set_server(const boost::asio::ip::udp::endpoint& server) { server_ = server; }
  const UdpDeviceStats& stats() const { return stats_; }

 private:
  struct Exchange {  // an outgoing CON awaiting its ACK or response
    uint16_t message_id = 0;
    bool notification = false;
    bool acked = false;  // empty ACK seen, waiting for a separate response
    lwm2m::ConRetransmission retransmission;
    std::string token;
    std::string bytes;
    boost::asio::ip::udp::endpoint peer;
    TimePoint next{};  // retransmit, or give up
  };
  struct CachedResponse {  // what a request of `peer` was answered with
    boost::asio::ip::udp::endpoint peer;
    std::string bytes;
  };
  struct Observer {
    std::string token;
    boost::asio::ip::udp::endpoint peer;
  };
  struct RecentNon {  // a NON notification an RST may answer
    uint16_t message_id = 0;
    uint8_t token_size = 0;  // 0: none
    std::array<char, 8> token{};
    std::string_view token_view() const { return {token.data(), token_size}; }
  };

  void on_request(Device& device, const lwm2m::CoapMessage& msg,
                  const boost::asio::ip::udp::endpoint& sender, TimePoint now, DatagramSink& sink);
  void on_ack(Device& device, const lwm2m::CoapMessage& msg,
              const boost::asio::ip::udp::endpoint& sender, TimePoint now);
  void on_reset(Device& device, const lwm2m::CoapMessage& msg,
                const boost::asio::ip::udp::endpoint& sender, TimePoint now);
  void on_separate_response(Device& device, const lwm2m::CoapMessage& msg,
                            const boost::asio::ip::udp::endpoint& sender, TimePoint now,
                            DatagramSink& sink);
  void retransmit_due(Device& device, TimePoint now, DatagramSink& sink);
  void send_bytes(std::span<const uint8_t> bytes, const boost::asio::ip::udp::endpoint& peer,
                  DatagramSink& sink);
  void send_empty(lwm2m::CoapType type, uint16_t message_id,
                  const boost::asio::ip::udp::endpoint& peer, DatagramSink& sink);
  lwm2m::ConRetransmission new_retransmission();

  const DeviceMessageOptions* options_;
  boost::asio::ip::udp::endpoint server_;
  uint64_t rng_;
  uint16_t next_message_id_;
  uint8_t recent_non_next_ = 0;
  std::vector<Exchange> exchanges_;
  lwm2m::RecentMessageIds<CachedResponse> cache_;  // every peer's requests
  std::vector<Observer> observers_;
  std::array<RecentNon, 8> recent_non_{};
  UdpDeviceStats stats_;
};

}  // namespace fogm2m::emulated
