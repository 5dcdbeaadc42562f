// The client side of LwM2M bootstrap (TS-Core 1.1 5.2.7, 6.1) for an
// emulated device: Bootstrap-Request, then the bootstrap server's writes,
// then Bootstrap-Finish. BootstrapClient is the protocol (no sockets, like
// Device); UdpBootstrap runs it over a UDP socket of its own.
//
//   start()              the Bootstrap-Request: CON POST /bs?ep=NAME
//   handle_response()    its answer: 2.04 -> waiting for the server; else failed
//   handle_request()     from the bootstrap server:
//     DELETE / , /0, /1, /0/i, /1/i      Bootstrap-Delete: 2.02
//     PUT /0/i, /1/i (any codec.h format, typed by the built-in models):
//                                        Bootstrap-Write, replaces the instance: 2.04
//     PUT /0/i/r, /1/i/r                 writes one resource: 2.04
//     POST /bs                           Bootstrap-Finish: 2.04 when the
//                                        objects hold a usable account, else
//                                        4.06 Not Acceptable with the reason
//     anything else                      4.05 (4.00 for a payload that does
//                                        not decode, 4.15 for an unknown format)
//
// A usable account: a Security instance with Bootstrap-Server false, a
// coap:// or coaps:// URI, Security Mode 0 (PSK: identity /3 and key /5 not
// empty) or 3 (NoSec), and a Short Server ID (/10) that a Server instance
// (/1/x/0) carries; that instance's lifetime (/1/x/1, default 300 s) is the
// registration's. result() gives it once finished.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "lwm2m/coap_message.h"
#include "lwm2m/node.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

// The LwM2M server account bootstrap gave the device.
struct BootstrapResult {
  std::string server_uri;
  bool psk = false;  // else NoSec
  std::string psk_identity;
  std::string psk_key;  // raw bytes
  uint16_t short_server_id = 0;
  uint32_t lifetime_s = 300;
};

class BootstrapClient {
 public:
  enum class State : uint8_t { kIdle, kRequesting, kWaiting, kFinished, kFailed };

  explicit BootstrapClient(std::string endpoint, uint64_t seed = 1);

  // The Bootstrap-Request (message ID 0: the transport assigns one).
  lwm2m::CoapMessage start();
  // The answer to the Bootstrap-Request; false when the token is not its.
  bool handle_response(const lwm2m::CoapMessage& response);
  // The answer to a request of the bootstrap server (ACK for CON, NON for NON).
  lwm2m::CoapMessage handle_request(const lwm2m::CoapMessage& request);
  // Gives up (the transport saw no answer): kFailed with `why`.
  void fail(std::string why);

  State state() const { return state_; }
  const std::string& error() const { return error_; }  // when kFailed
  // The account, once kFinished.
  const std::optional<BootstrapResult>& result() const { return result_; }
  // The instances written so far, by object (0 Security, 1 Server) and id.
  const std::map<uint16_t, lwm2m::ObjectInstance>& instances(uint16_t object) const {
    return object == 0 ? security_ : server_;
  }

 private:
  uint8_t apply_write(const lwm2m::CoapMessage& request, const lwm2m::Path& path,
                      std::string& diagnostic);
  Result<BootstrapResult> account() const;

  std::string endpoint_;
  uint64_t rng_;
  State state_ = State::kIdle;
  std::string token_;
  std::string error_;
  std::map<uint16_t, lwm2m::ObjectInstance> security_, server_;
  std::optional<BootstrapResult> result_;
};

struct UdpBootstrapOptions {
  std::optional<boost::asio::ip::address> bind_address;  // default: any of the server's family
  std::chrono::milliseconds ack_timeout{2000};           // Bootstrap-Request retransmission
  unsigned max_retransmit = 4;
  std::chrono::milliseconds timeout{60000};  // the whole exchange
};

// Runs BootstrapClient against the bootstrap server at `server` on a socket
// of its own; `done` is posted once with the account or the error, after
// which the socket is closed. Destroying it cancels (no callback).
class UdpBootstrap {
 public:
  UdpBootstrap(boost::asio::io_context& io, boost::asio::ip::udp::endpoint server,
               std::string endpoint, UdpBootstrapOptions options,
               std::function<void(Result<BootstrapResult>)> done);
  ~UdpBootstrap();
  UdpBootstrap(const UdpBootstrap&) = delete;
  UdpBootstrap& operator=(const UdpBootstrap&) = delete;

  Status start();
  const BootstrapClient& client() const { return client_; }

 private:
  void do_receive();
  void send(const lwm2m::CoapMessage& m, std::function<void()> then = {});
  void arm_retransmission();
  void complete(Result<BootstrapResult> r);

  boost::asio::io_context& io_;
  boost::asio::ip::udp::endpoint server_;
  UdpBootstrapOptions options_;
  std::function<void(Result<BootstrapResult>)> done_;
  BootstrapClient client_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer retransmit_, deadline_;
  lwm2m::CoapMessage request_;
  unsigned retransmissions_ = 0;
  uint16_t next_mid_;
  bool completed_ = false;
  boost::asio::ip::udp::endpoint sender_;
  std::array<uint8_t, 1536> rx_{};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Runs one UdpBootstrap on an io_context of its own until it is done (what
// `fogm2m fleet --bootstrap` does for each device before the fleet starts).
Result<BootstrapResult> bootstrap_blocking(const boost::asio::ip::udp::endpoint& server,
                                           const std::string& endpoint,
                                           UdpBootstrapOptions options = {});

}  // namespace fogm2m::emulated
