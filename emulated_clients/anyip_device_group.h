// Many plain-CoAP emulated devices on one thread behind ONE UDP socket:
// device k sends from its own local address (first_address + k) and the
// socket's port, so the server and a load balancer see each device at its
// own address:port, as if each had a socket of its own, while the whole
// group costs one file descriptor, one receive buffer and one OS timer.
//
//   addresses  must be local to the host or namespace (io/anyip_udp_socket.h):
//              127.0.0.0/8 always is; elsewhere `ip route add local CIDR dev
//              lo` in the fleet's namespace makes a range local (AnyIP).
//   datagrams  are handed to the device whose address they were sent to;
//              a datagram for an address of no running device is dropped
//              and counted (stray).
//   protocol   each device has its DeviceMessageLayer (the same CoAP message
//              layer as UdpDevice: retransmissions, duplicates, observers).
//   time       all devices' deadlines live in one io::TimerWheel behind one
//              steady_timer; a device's timer moves only when its next
//              deadline does.
//   stop       stop() de-registers every running device (each waits for its
//              answer or CON timeout), then closes the socket.
//
// Per device: the Device (~380 bytes), its message layer (~250 bytes idle)
// and a timer slot; no socket and no receive buffer of its own. Not
// emulated here: DTLS (a DtlsDevice needs its own socket) and the
// per-device registration-state callback of UdpDeviceOptions.
//
// Threading: everything runs on the io_context's thread; add() before
// open(), the rest on that thread (or before run()). The group may be
// destroyed at any time on that thread: pending handlers then do nothing.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "emulated_clients/device.h"
#include "emulated_clients/device_message_layer.h"
#include "io/anyip_udp_socket.h"
#include "io/lifetime.h"
#include "io/timer_wheel.h"
#include "lwm2m/result.h"

namespace fogm2m::emulated {

struct AnyIpDeviceGroupOptions : DeviceMessageOptions {
  boost::asio::ip::address first_address;  // device k sends from first_address + k
  uint16_t port = 0;                       // the socket's port; 0: ephemeral
  int socket_buffer_bytes = 8 << 20;       // receive and send buffers
  bool register_on_start = true;
};

class AnyIpDeviceGroup {
 public:
  AnyIpDeviceGroup(boost::asio::io_context& io, boost::asio::ip::udp::endpoint server,
                   AnyIpDeviceGroupOptions options);
  ~AnyIpDeviceGroup();
  AnyIpDeviceGroup(const AnyIpDeviceGroup&) = delete;
  AnyIpDeviceGroup& operator=(const AnyIpDeviceGroup&) = delete;

  // Adds a device before open(); returns its index k. `transport_seed`
  // seeds its message ids and retransmission jitter.
  size_t add(Device device, uint64_t transport_seed);
  void reserve(size_t devices) { members_.reserve(devices); }

  // Opens the socket (server's family); kIo with the reason when it cannot.
  // Checks that the first and the last device address are local, so that a
  // range that is not gets a clear error here rather than silent devices.
  Status open();

  // Starts device k (registering when options.register_on_start). No-op
  // when it is running or the socket is not open.
  void start(size_t k);

  // De-registers every running device and closes the socket when the last
  // is done; `on_stopped` is posted to the io_context then (at once when
  // nothing runs).
  void stop(std::function<void()> on_stopped = {});

  size_t size() const { return members_.size(); }
  bool running(size_t k) const { return members_[k].running; }
  Device& device(size_t k) { return members_[k].device; }
  const Device& device(size_t k) const { return members_[k].device; }
  const UdpDeviceStats& stats(size_t k) const { return members_[k].layer.stats(); }
  boost::asio::ip::address address(size_t k) const;
  uint16_t port() const { return socket_.port(); }
  const boost::asio::ip::udp::endpoint& server() const { return server_; }
  const io::AnyIpSocketStats& socket_stats() const { return socket_.stats(); }
  // Datagrams to an address of no running device, and cut ones.
  uint64_t stray_datagrams() const { return stray_; }

 private:
  struct Member {
    Member(Device d, const DeviceMessageOptions& options, uint64_t seed)
        : device(std::move(d)), layer(options, seed) {}
    Device device;
    DeviceMessageLayer layer;
    io::TimerWheel::TimerId timer;
    TimePoint armed = TimePoint::max();
    bool running = false;
    bool stopping = false;
  };
  class Sink;

  std::optional<size_t> index_of(const boost::asio::ip::address& local) const;
  void on_datagram(const io::AnyIpDatagram& datagram);
  void service(size_t k, TimePoint now);
  void finish(size_t k);
  void arm(size_t k);
  void arm_os_timer();
  void on_os_timer();

  boost::asio::io_context& io_;
  boost::asio::ip::udp::endpoint server_;
  AnyIpDeviceGroupOptions options_;
  std::vector<Member> members_;
  io::AnyIpUdpSocket socket_;
  io::TimerWheel wheel_;
  boost::asio::steady_timer os_timer_;
  TimePoint os_armed_ = TimePoint::max();
  bool in_wheel_ = false;  // inside wheel_.run_until()
  size_t stopping_count_ = 0;
  bool stopping_all_ = false;
  std::function<void()> on_stopped_;
  uint64_t stray_ = 0;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::emulated
