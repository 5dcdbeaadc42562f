// A minimal LwM2M bootstrap server (TS-Core 1.1 5.2, 6.1): plain CoAP over
// UDP, configured by bootstrap_config.h.
//
// A client's Bootstrap-Request (POST /bs?ep=NAME) is answered 2.04 Changed
// when the configuration has an entry for NAME (its own or the default),
// 4.00 Bad Request otherwise (no ep, or an Endpoint Client Name the server
// does not know), with a diagnostic payload. After 2.04 the server sends the
// client, one confirmable request at a time, each after the previous one's
// 2.xx answer:
//   DELETE /0, DELETE /1      Bootstrap-Delete, when the entry says delete
//   PUT /0/1 (TLV)            Security: 0 URI, 1 Bootstrap-Server false,
//                             2 mode (0 PSK, 3 NoSec), 3 identity, 5 key,
//                             10 Short Server ID
//   PUT /1/0 (TLV)            Server: 0 Short Server ID, 1 lifetime,
//                             6 Notification Storing false, 7 binding "U"
//   POST /bs                  Bootstrap-Finish
// An answer other than 2.xx, an RST, or no answer after the CON
// retransmissions (RFC 7252 4.2) ends the session as failed. Every session's
// end is reported through on_done. A Bootstrap-Request repeated with the
// same message ID gets the same answer and starts nothing new; a new one
// from the same address restarts that address's session.
//
// Threading: everything on the io_context's thread.
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
#include <string>
#include <vector>

#include "lwm2m/coap_message.h"
#include "lwm2m/result.h"
#include "server/bootstrap/bootstrap_config.h"

namespace fogm2m::server {

// The requests a session sends for `entry`, in order (message ID and token
// left for the server to fill).
std::vector<lwm2m::CoapMessage> bootstrap_requests(const BootstrapEntry& entry);

struct BootstrapServerOptions {
  boost::asio::ip::address bind_address = boost::asio::ip::make_address("0.0.0.0");
  uint16_t port = 5783;  // 0: an ephemeral port
  std::chrono::milliseconds ack_timeout{2000};
  unsigned max_retransmit = 4;
};

struct BootstrapOutcome {
  std::string endpoint;
  bool ok = false;
  std::string message;  // what failed, or "finished"
};

class BootstrapServer {
 public:
  BootstrapServer(boost::asio::io_context& io, BootstrapConfig config,
                  BootstrapServerOptions options = {});
  ~BootstrapServer();
  BootstrapServer(const BootstrapServer&) = delete;
  BootstrapServer& operator=(const BootstrapServer&) = delete;

  // Binds and starts receiving; kIo when the socket cannot be bound.
  Status start();
  void stop();
  uint16_t local_port() const;

  // Called at the end of every session.
  std::function<void(const BootstrapOutcome&)> on_done;

 private:
  struct Session;
  void do_receive();
  void on_datagram(const boost::asio::ip::udp::endpoint& from, const lwm2m::CoapMessage& m);
  void on_bootstrap_request(const boost::asio::ip::udp::endpoint& from,
                            const lwm2m::CoapMessage& m);
  void on_answer(const boost::asio::ip::udp::endpoint& from, const lwm2m::CoapMessage& m);
  void send_step(const std::shared_ptr<Session>& s);
  void arm(const std::shared_ptr<Session>& s);
  void finish(const std::shared_ptr<Session>& s, bool ok, std::string message);
  void send(const boost::asio::ip::udp::endpoint& to, const lwm2m::CoapMessage& m);

  boost::asio::io_context& io_;
  BootstrapConfig config_;
  BootstrapServerOptions options_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint sender_;
  std::array<uint8_t, 1536> rx_{};
  std::map<boost::asio::ip::udp::endpoint, std::shared_ptr<Session>> sessions_;
  uint16_t next_mid_ = 1;
  uint32_t next_token_ = 1;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace fogm2m::server
