// One emulated device on its own Asio UDP socket (its own source port), in
// plain CoAP (RFC 7252) towards one LwM2M server. It only moves messages; the
// LwM2M logic is Device's (device.h).
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
//   time       One steady_timer, armed for the earliest of Device's
//              next_deadline() and the retransmissions.
//   socket     Bound, not connected: any peer may send requests (a server,
//              coap-client); the server address is where requests go.
//   stop       De-register and wait for its answer or timeout, then close.
//              While a Register is still unanswered, stop() closes at once
//              (the server may keep that registration until it expires).
//
// All randomness (message IDs, retransmission jitter) comes from a seed.
// Threading: everything runs on the io_context's thread; call start(), stop()
// and device() from it (or before run()). The object may be destroyed at any
// time on that thread: pending handlers then do nothing.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "emulated_clients/device.h"
#include "emulated_clients/device_timer.h"
#include "io/lifetime.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/coap_reliability.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

struct UdpDeviceOptions {
  // RFC 7252 4.8 transmission parameters (defaults), shorter in tests; a
  // response stays in the duplicate cache for exchange_lifetime.
  lwm2m::CoapTransmission transmission;
  size_t duplicate_cache_size = 8;  // 0: no duplicate detection
  // After an empty ACK, how long to wait for the separate response.
  std::chrono::milliseconds separate_response_timeout{60000};
  // Local address; default: the unspecified address of the server's family.
  std::optional<boost::asio::ip::address> bind_address;
  uint16_t bind_port = 0;  // 0: an ephemeral port
  bool register_on_start = true;
  uint64_t seed = 0;  // 0: derived from the device's seed
  // Posted to the io_context whenever the device's registration state
  // changes (registered, updating, register-due after a failure, ...).
  std::function<void(RegistrationState)> on_registration_state;
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

class UdpDevice {
 public:
  UdpDevice(boost::asio::io_context& io, boost::asio::ip::udp::endpoint server, Device device,
            UdpDeviceOptions options = {});
  ~UdpDevice();
  UdpDevice(const UdpDevice&) = delete;
  UdpDevice& operator=(const UdpDevice&) = delete;

  // Opens and binds the socket, starts receiving and starts the device
  // (registering when options.register_on_start). kIo when the socket cannot
  // be opened or bound; kInvalidArgument when already running.
  Status start();

  // De-registers when registered (waiting for the response or the CON's
  // timeout), then closes the socket; `on_stopped` is posted to the
  // io_context afterwards (also when not running; every callback of
  // repeated calls runs). start() may be called again afterwards.
  void stop(std::function<void()> on_stopped = {});

  bool running() const { return running_; }
  bool stopping() const { return stopping_; }
  // The bound address and port (valid while running).
  boost::asio::ip::udp::endpoint local_endpoint() const;
  const boost::asio::ip::udp::endpoint& server() const { return server_; }

  Device& device() { return device_; }
  const Device& device() const { return device_; }
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
  struct RecentNon {
    uint16_t message_id = 0;
    std::string token;
  };

  void do_receive();
  void on_datagram(size_t size, TimePoint now);
  void on_request(const lwm2m::CoapMessage& msg, TimePoint now);
  void on_ack(const lwm2m::CoapMessage& msg, TimePoint now);
  void on_reset(const lwm2m::CoapMessage& msg, TimePoint now);
  void on_separate_response(const lwm2m::CoapMessage& msg, TimePoint now);
  void service(TimePoint now);
  void retransmit_due(TimePoint now);
  void send_all(std::vector<lwm2m::CoapMessage>& messages, TimePoint now);
  void send_empty(lwm2m::CoapType type, uint16_t message_id,
                  const boost::asio::ip::udp::endpoint& peer);
  void send_bytes(const std::string& bytes, const boost::asio::ip::udp::endpoint& peer);
  void arm_timer();
  void finish_stop();
  void report_state();
  lwm2m::ConRetransmission new_retransmission();

  boost::asio::io_context& io_;
  boost::asio::ip::udp::endpoint server_;
  Device device_;
  UdpDeviceOptions options_;
  boost::asio::ip::udp::socket socket_;
  DeviceTimer timer_;
  RegistrationWatch watch_;
  bool running_ = false;
  bool stopping_ = false;
  std::function<void()> on_stopped_;

  uint64_t rng_;
  uint16_t next_message_id_;
  std::vector<Exchange> exchanges_;
  lwm2m::RecentMessageIds<CachedResponse> cache_;  // every peer's requests
  std::vector<Observer> observers_;
  std::array<RecentNon, 8> recent_non_{};
  size_t recent_non_next_ = 0;
  std::vector<lwm2m::CoapMessage> outgoing_;  // reused by service()

  boost::asio::ip::udp::endpoint sender_;
  std::array<char, 1536> rx_{};
  UdpDeviceStats stats_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::emulated
