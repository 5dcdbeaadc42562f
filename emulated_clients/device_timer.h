// What a device endpoint (UdpDevice, DtlsDevice) needs of time and of its
// watcher, apart from moving messages:
//   DeviceTimer       one steady_timer for "service the device at T",
//                     re-armed only when T moves
//   RegistrationWatch posts the device's registration state to an observer
//                     whenever it differs from the last one posted
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "emulated_clients/device.h"
#include "io/lifetime.h"

namespace fogm2m::emulated {

class DeviceTimer {
 public:
  // `on_due` runs with the time it fired at; never after the timer is gone.
  DeviceTimer(boost::asio::io_context& io, std::function<void(TimePoint now)> on_due)
      : timer_(io), on_due_(std::move(on_due)) {}

  // Fires at `due` (at once when it has passed); TimePoint::max() disarms.
  void arm(TimePoint due) {
    if (due == armed_) return;
    armed_ = due;
    if (due == TimePoint::max()) {
      timer_.cancel();
      return;
    }
    timer_.expires_at(due);
    timer_.async_wait(lifetime_.guard([this](const boost::system::error_code& ec) {
      if (ec) return;
      armed_ = TimePoint::max();
      on_due_(Clock::now());
    }));
  }
  void cancel() { arm(TimePoint::max()); }

 private:
  boost::asio::steady_timer timer_;
  TimePoint armed_ = TimePoint::max();
  std::function<void(TimePoint)> on_due_;
  io::Lifetime lifetime_;  // last: ends first
};

class RegistrationWatch {
 public:
  RegistrationWatch(boost::asio::io_context& io, std::function<void(RegistrationState)> observer)
      : io_(io), observer_(std::move(observer)) {}

  // Posts `state` to the observer when it changed since the last call.
  void report(RegistrationState state) {
    if (state == reported_) return;
    reported_ = state;
    if (observer_) boost::asio::post(io_, [observer = observer_, state] { observer(state); });
  }

 private:
  boost::asio::io_context& io_;
  std::function<void(RegistrationState)> observer_;
  RegistrationState reported_ = RegistrationState::kStopped;
};

}  // namespace fogm2m::emulated
