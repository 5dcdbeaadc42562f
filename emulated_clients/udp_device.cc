#include "emulated_clients/udp_device.h"

#include <boost/asio/post.hpp>

#include "emulated_clients/callback_chain.h"

namespace fogm2m::emulated {

namespace asio = boost::asio;
using asio::ip::udp;

// The device's own socket, as the message layer's way out.
class UdpDevice::SocketSink final : public DatagramSink {
 public:
  explicit SocketSink(udp::socket& socket) : socket_(socket) {}
  bool send(std::span<const uint8_t> bytes, const udp::endpoint& peer) override {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(bytes.data(), bytes.size()), peer, 0, ec);
    return !ec;
  }

 private:
  udp::socket& socket_;
};

UdpDevice::UdpDevice(asio::io_context& io, udp::endpoint server, Device device,
                     UdpDeviceOptions options)
    : io_(io),
      device_(std::move(device)),
      options_(std::move(options)),
      layer_(options_, options_.seed != 0 ? options_.seed : device_.seed() ^ 0xC0A9C0A9C0A9ull),
      socket_(io),
      timer_(io,
             [this](TimePoint now) {
               if (running_) service(now);
             }),
      watch_(io, options_.on_registration_state) {
  layer_.set_server(server);
}

UdpDevice::~UdpDevice() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

udp::endpoint UdpDevice::local_endpoint() const {
  boost::system::error_code ec;
  auto ep = socket_.local_endpoint(ec);
  return ec ? udp::endpoint() : ep;
}

Status UdpDevice::open_socket(uint16_t port) {
  const udp protocol = layer_.server().protocol();
  asio::ip::address bind = options_.bind_address.value_or(
      protocol == udp::v6() ? asio::ip::address(asio::ip::address_v6::any())
                            : asio::ip::address(asio::ip::address_v4::any()));
  boost::system::error_code ec;
  ++sockets_opened_;
  socket_.open(protocol, ec);
  if (!ec) socket_.bind(udp::endpoint(bind, port), ec);
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return make_error(ErrorKind::kIo, "UdpDevice " + device_.endpoint() + ": " + ec.message());
  }
  return {};
}

Status UdpDevice::start() {
  if (running_) return make_error(ErrorKind::kInvalidArgument, "UdpDevice already running");
  if (Status opened = open_socket(options_.bind_port); !opened) return opened;
  running_ = true;
  stopping_ = false;
  const TimePoint now = Clock::now();
  device_.start(now, options_.register_on_start);
  do_receive();
  service(now);
  return {};
}

Status UdpDevice::rebind() {
  if (!running_) return make_error(ErrorKind::kInvalidArgument, "UdpDevice not running");
  boost::system::error_code ignored;
  socket_.close(ignored);  // the pending receive ends with operation_aborted
  if (Status opened = open_socket(0); !opened) {
    finish_stop();
    return opened;
  }
  do_receive();
  return {};
}

void UdpDevice::stop(std::function<void()> on_stopped) {
  if (!running_) {
    if (on_stopped) asio::post(io_, std::move(on_stopped));
    return;
  }
  append_callback(on_stopped_, std::move(on_stopped));  // stop() again while stopping: call both
  if (stopping_) return;
  stopping_ = true;
  const TimePoint now = Clock::now();
  layer_.drop_notification_exchanges();
  if (auto dereg = device_.deregister(now)) {
    std::vector<lwm2m::CoapMessage> messages;
    messages.push_back(std::move(*dereg));
    SocketSink sink(socket_);
    layer_.send_all(messages, now, sink);
    report_state();
    arm_timer();
  } else {
    finish_stop();
  }
}

void UdpDevice::report_state() {
  watch_.report(device_.registration_state());
}

void UdpDevice::finish_stop() {
  report_state();
  running_ = false;
  stopping_ = false;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  layer_.reset();
  if (on_stopped_) asio::post(io_, std::exchange(on_stopped_, nullptr));
}

void UdpDevice::do_receive() {
  socket_.async_receive_from(asio::buffer(rx_), sender_,
                             lifetime_.guard([this, socket = sockets_opened_](
                                                 const boost::system::error_code& ec, size_t size) {
                               if (!running_ || !socket_.is_open() || socket != sockets_opened_)
                                 return;  // rebound
                               if (ec == asio::error::operation_aborted) return;
                               if (!ec) {
                                 const TimePoint now = Clock::now();
                                 SocketSink sink(socket_);
                                 layer_.on_datagram(device_,
                                                    std::span<const uint8_t>(rx_.data(), size),
                                                    sender_, now, sink);
                                 if (running_) service(now);
                               }
                               if (running_) do_receive();
                             }));
}

// Everything time-driven: retransmissions, the device's tick, the end of a
// stop, then the timer for whatever comes next.
void UdpDevice::service(TimePoint now) {
  SocketSink sink(socket_);
  layer_.service(device_, stopping_, now, sink);
  report_state();
  if (stopping_ && device_.registration_state() != RegistrationState::kDeregistering) {
    finish_stop();
    return;
  }
  arm_timer();
}

void UdpDevice::arm_timer() {
  timer_.arm(layer_.next_due(device_, stopping_));
}

}  // namespace fogm2m::emulated
