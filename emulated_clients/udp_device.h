// One emulated device on its own Asio UDP socket (its own source port), in
// plain CoAP (RFC 7252) towards one LwM2M server. It only moves datagrams:
// the CoAP message layer is DeviceMessageLayer's (device_message_layer.h:
// retransmissions, duplicate detection, observers), the LwM2M logic
// Device's (device.h).
//
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
#include "emulated_clients/device_message_layer.h"
#include "emulated_clients/device_timer.h"
#include "io/lifetime.h"
#include "lwm2m/coap_message.h"
#include "lwm2m/coap_reliability.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

struct UdpDeviceOptions : DeviceMessageOptions {
  // Local address; default: the unspecified address of the server's family.
  std::optional<boost::asio::ip::address> bind_address;
  uint16_t bind_port = 0;  // 0: an ephemeral port
  bool register_on_start = true;
  uint64_t seed = 0;  // 0: derived from the device's seed
  // Posted to the io_context whenever the device's registration state
  // changes (registered, updating, register-due after a failure, ...).
  std::function<void(RegistrationState)> on_registration_state;
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

  // NAT rebinding: the device goes on from a new ephemeral port (the socket
  // is closed and another one opened), knowing nothing of it; exchanges
  // under way go on from the new port. kIo when no socket can be opened;
  // kInvalidArgument when not running.
  Status rebind();

  bool running() const { return running_; }
  bool stopping() const { return stopping_; }
  // The bound address and port (valid while running).
  boost::asio::ip::udp::endpoint local_endpoint() const;
  const boost::asio::ip::udp::endpoint& server() const { return layer_.server(); }

  Device& device() { return device_; }
  const Device& device() const { return device_; }
  const UdpDeviceStats& stats() const { return layer_.stats(); }

 private:
  Status open_socket(uint16_t port);
  class SocketSink;
  void do_receive();
  void service(TimePoint now);
  void finish_stop();
  void report_state();
  void arm_timer();

  boost::asio::io_context& io_;
  Device device_;
  UdpDeviceOptions options_;
  DeviceMessageLayer layer_;  // refers to options_
  boost::asio::ip::udp::socket socket_;
  DeviceTimer timer_;
  RegistrationWatch watch_;
  bool running_ = false;
  bool stopping_ = false;
  std::function<void()> on_stopped_;
  uint64_t sockets_opened_ = 0;  // a receive of an earlier socket is dropped

  boost::asio::ip::udp::endpoint sender_;
  std::array<uint8_t, 1536> rx_{};
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::emulated
