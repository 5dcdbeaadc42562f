// Queue mode (LwM2M 1.1 TS-Core 6.5; 1.0's binding UQ) on the node that
// holds the device: whether a queue-mode device is awake, and the bus
// requests that wait for it while it sleeps.
//
// A device registered in queue mode (store::Registration::queue_mode) is
// awake from each message it sends (Register, Update, Send, a
// notification) until the awake time has passed without another (default
// 93 s, CoAP's MAX_TRANSMIT_WAIT; NodeOptions::awake_time); then it is
// sleeping, and a "sleeping" event goes out on the events channel
// (bus/device_event.h). Its next message makes it awake again (an "awake"
// event) and sends the requests that waited, in the order they came.
//
// A bus request for a sleeping device (acked by the router as any other)
// waits here, at most max_queued_per_device per device; beyond that it is
// answered at once with an err ("device <ep> is sleeping and <n> requests
// already wait for it"). Each waits until its deadline: the request's
// "timeout" (bus/request.h), else default_request_timeout, from when it
// came; then it is answered with the err "device <ep> sleeping, request
// timed out". When the registration ends the waiting requests are answered
// with an err at once. Requests for awake devices, and for devices not in
// queue mode, never wait here: the check is one bool of the registration.
//
// One steady timer for all devices; single-threaded, on the node's
// io_context.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>

#include "io/lifetime.h"
#include "server/node_context.h"
#include "server/services/sleeping_queue.h"

namespace fogm2m::server {

struct PresenceOptions {
  std::chrono::milliseconds awake_time{93000};
  size_t max_queued_per_device = 16;
  std::chrono::milliseconds default_request_timeout{5000};  // a request without "timeout"
};

class Presence {
 public:
  using Clock = std::chrono::steady_clock;
  // Sends a request that waited to its device now awake, and publishes the
  // reply (RequestRouter::dispatch).
  using Dispatch = std::function<void(const LocalDevice&, const bus::Request&)>;

  Presence(NodeContext& ctx, PresenceOptions options, Dispatch dispatch);

  // A message came from `device` (its registration as this node holds it
  // now). See the header comment; a device no longer in queue mode is
  // forgotten, its waiting requests sent.
  void heard(const LocalDevice& device);
  // The same for the local device of `endpoint` (nothing when there is none).
  void heard_endpoint(const std::string& endpoint);
  // Whether any queue-mode device is known: while not, heard() need not be
  // called per message.
  bool tracking() const { return !devices_.empty(); }
  bool sleeping(const std::string& endpoint) const;

  // Keeps `request` for `device` (sleeping) until it wakes or its deadline.
  void hold(const LocalDevice& device, const bus::Request& request);
  // The registration of `endpoint` ended: its waiting requests are answered
  // with an err, its state goes.
  void forget(const std::string& endpoint);

  size_t waiting() const { return queue_.size(); }
  const PresenceOptions& options() const { return options_; }

 private:
  struct State {
    bool sleeping = false;
    std::multimap<Clock::time_point, std::string>::iterator expiry;  // while awake
  };
  void answer_err(const std::string& endpoint, const bus::Request& request, bool timeout,
                  const std::string& why);
  void arm();
  void on_timer();

  NodeContext& ctx_;
  PresenceOptions options_;
  Dispatch dispatch_;
  std::unordered_map<std::string, State> devices_;             // queue-mode devices of this node
  std::multimap<Clock::time_point, std::string> awake_until_;  // of the awake ones
  SleepingQueue queue_;
  boost::asio::steady_timer timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::server
