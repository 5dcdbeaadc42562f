#include "emulated_clients/anyip_device_group.h"

#include <boost/asio/post.hpp>

#include "emulated_clients/callback_chain.h"
#include "io/address_range.h"

namespace fogm2m::emulated {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

// Whether a socket can be bound to `address` (it is local).
Status check_local(const asio::ip::address& address) {
  asio::io_context io;
  udp::socket probe(io);
  boost::system::error_code ec;
  probe.open(address.is_v4() ? udp::v4() : udp::v6(), ec);
  if (!ec) probe.bind(udp::endpoint(address, 0), ec);
  if (!ec) return {};
  return make_error(ErrorKind::kIo, "device address " + address.to_string() + " is not local (" +
                                        ec.message() +
                                        "): make the range local with `ip route add local "
                                        "<range> dev lo` in the fleet's namespace, or use "
                                        "127.0.0.0/8");
}

}  // namespace

// The group's socket, sending from device k's address.
class AnyIpDeviceGroup::Sink final : public DatagramSink {
 public:
  Sink(io::AnyIpUdpSocket& socket, asio::ip::address source) : socket_(socket), source_(source) {}
  bool send(std::span<const uint8_t> bytes, const udp::endpoint& peer) override {
    return socket_.send_from(source_, peer, bytes);
  }

 private:
  io::AnyIpUdpSocket& socket_;
  asio::ip::address source_;
};

AnyIpDeviceGroup::AnyIpDeviceGroup(asio::io_context& io, udp::endpoint server,
                                   AnyIpDeviceGroupOptions options)
    : io_(io),
      server_(server),
      options_(std::move(options)),
      socket_(io),
      wheel_(Clock::now()),
      os_timer_(io) {}

AnyIpDeviceGroup::~AnyIpDeviceGroup() {
  socket_.close();
}

size_t AnyIpDeviceGroup::add(Device device, uint64_t transport_seed) {
  members_.emplace_back(std::move(device), options_, transport_seed);
  members_.back().layer.set_server(server_);
  return members_.size() - 1;
}

asio::ip::address AnyIpDeviceGroup::address(size_t k) const {
  return io::address_plus(options_.first_address, k);
}

std::optional<size_t> AnyIpDeviceGroup::index_of(const asio::ip::address& local) const {
  const auto k = io::address_offset(options_.first_address, local);
  if (!k || *k >= members_.size()) return std::nullopt;
  return static_cast<size_t>(*k);
}

Status AnyIpDeviceGroup::open() {
  if (members_.empty()) return make_error(ErrorKind::kInvalidArgument, "an empty device group");
  if (options_.first_address.is_v4() != server_.address().is_v4())
    return make_error(ErrorKind::kInvalidArgument,
                      "device addresses and the server must be of one IP family");
  if (Status s = check_local(address(0)); !s) return s;
  if (Status s = check_local(address(members_.size() - 1)); !s) return s;
  return socket_.open(server_.protocol(), options_.port, options_.socket_buffer_bytes,
                      [this](const io::AnyIpDatagram& d) { on_datagram(d); });
}

void AnyIpDeviceGroup::start(size_t k) {
  Member& m = members_[k];
  if (m.running || !socket_.is_open()) return;
  m.running = true;
  m.stopping = false;
  const TimePoint now = Clock::now();
  m.device.start(now, options_.register_on_start);
  service(k, now);
}

void AnyIpDeviceGroup::stop(std::function<void()> on_stopped) {
  append_callback(on_stopped_, std::move(on_stopped));
  if (stopping_all_) return;
  stopping_all_ = true;
  const TimePoint now = Clock::now();
  std::vector<lwm2m::CoapMessage> messages;
  for (size_t k = 0; k < members_.size(); ++k) {
    Member& m = members_[k];
    if (!m.running || m.stopping) continue;
    m.stopping = true;
    ++stopping_count_;
    m.layer.drop_notification_exchanges();
    if (auto dereg = m.device.deregister(now)) {
      messages.push_back(std::move(*dereg));
      Sink sink(socket_, address(k));
      m.layer.send_all(messages, now, sink);
      arm(k);
    } else {
      finish(k);
    }
  }
  if (stopping_count_ == 0) finish(members_.size());  // nothing was running
}

// Device k is done stopping (k == size(): none was running); the last one
// closes the socket and reports.
void AnyIpDeviceGroup::finish(size_t k) {
  if (k < members_.size()) {
    Member& m = members_[k];
    m.running = false;
    m.stopping = false;
    wheel_.cancel(m.timer);
    m.timer = {};
    m.armed = TimePoint::max();
    m.layer.reset();
    if (stopping_count_ > 0) --stopping_count_;
  }
  if (!stopping_all_ || stopping_count_ > 0) return;
  stopping_all_ = false;
  socket_.close();
  os_timer_.cancel();
  os_armed_ = TimePoint::max();
  if (on_stopped_) asio::post(io_, std::exchange(on_stopped_, nullptr));
}

void AnyIpDeviceGroup::on_datagram(const io::AnyIpDatagram& d) {
  const auto k = index_of(d.local);
  if (!k || !members_[*k].running || d.truncated) {
    ++stray_;
    return;
  }
  Member& m = members_[*k];
  const TimePoint now = Clock::now();
  Sink sink(socket_, d.local);
  m.layer.on_datagram(m.device, d.data, d.sender, now, sink);
  if (m.running) service(*k, now);
}

void AnyIpDeviceGroup::service(size_t k, TimePoint now) {
  Member& m = members_[k];
  Sink sink(socket_, address(k));
  m.layer.service(m.device, m.stopping, now, sink);
  if (m.stopping && m.device.registration_state() != RegistrationState::kDeregistering) {
    finish(k);
    return;
  }
  arm(k);
}

void AnyIpDeviceGroup::arm(size_t k) {
  Member& m = members_[k];
  const TimePoint due = m.layer.next_due(m.device, m.stopping);
  if (due == m.armed) return;
  wheel_.cancel(m.timer);
  m.armed = due;
  if (due == TimePoint::max()) {
    m.timer = {};
    return;
  }
  m.timer = wheel_.schedule(due, [this, k] {
    Member& member = members_[k];
    member.timer = {};
    member.armed = TimePoint::max();
    if (member.running) service(k, Clock::now());
  });
  if (due < os_armed_ && !in_wheel_) arm_os_timer();
}

// One OS timer for the whole wheel, moved only when the wheel's next
// wakeup comes before the armed one (a later wakeup lets it fire early).
void AnyIpDeviceGroup::arm_os_timer() {
  const auto next = wheel_.next_wakeup();
  if (!next) return;
  os_armed_ = *next;
  os_timer_.expires_at(*next);
  os_timer_.async_wait(lifetime_.guard([this](const boost::system::error_code& ec) {
    if (ec) return;
    on_os_timer();
  }));
}

void AnyIpDeviceGroup::on_os_timer() {
  os_armed_ = TimePoint::max();
  in_wheel_ = true;  // the callbacks' arm() calls leave the OS timer to us
  wheel_.run_until(Clock::now());
  in_wheel_ = false;
  arm_os_timer();
}

}  // namespace fogm2m::emulated
