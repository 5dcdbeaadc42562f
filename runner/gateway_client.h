// The load generator's way through the gateway (`via: gateway`): a bus
// request (bus/request.h, as RequestMix makes them) turned into the
// gateway's Leshan-compatible REST call (gateway/api_route.h), and an
// HTTP/1.1 client that sends those calls.
//
//   read              GET    /api/clients/{ep}{path}?format=F&timeout=T
//   discover          GET    /api/clients/{ep}{path}/discover?timeout=T
//   write             PUT    /api/clients/{ep}{path}?format=F&timeout=T[&replace=false]
//                            text/plain value for a single resource, else the node as JSON
//   execute           POST   /api/clients/{ep}{path}?timeout=T      (parameters as text/plain)
//   create            POST   /api/clients/{ep}{path}?timeout=T      (the node as JSON)
//   delete            DELETE /api/clients/{ep}{path}?timeout=T
//   observe           POST   /api/clients/{ep}{path}/observe?format=F&timeout=T
//   cancel_observe    DELETE /api/clients/{ep}{path}/observe?timeout=T
//   write_attributes  PUT
//   /api/clients/{ep}{path}/attributes?pmin=..&pmax=..&gt=..&lt=..&st=..&timeout=T
// The gateway answers 200 with Leshan's response JSON whenever the device
// answered (whatever its code: the bus' "rep"), another status with a text
// body otherwise (the bus' "err": 504 the device did not answer, 503 Redis
// unreachable, 400 unknown client); answers that went over the bus carry
// "Server-Timing: bus;dur=<ms>", the time the gateway waited for the cluster.
//
// GatewayClient: on the caller's io_context (single-threaded), a pool of up
// to max_connections keep-alive connections; a call waits in a FIFO queue
// while every connection is busy. A call still queued at its `expires` is
// not sent. A call that fails on a reused connection before any answer (the
// gateway closed it while idle) is sent once more on a fresh one.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bus/request.h"
#include "io/lifetime.h"
#include "lwm2m/result.h"

namespace fogm2m::runner {

struct GatewayClientOptions {
  std::string host = "127.0.0.1";  // numeric address of the gateway
  uint16_t port = 8080;
  std::string token;  // sent as "Authorization: Bearer <token>"
  size_t max_connections = 64;
  size_t max_body = 4 << 20;  // larger answers fail the call
  // How long a sent call may go unanswered beyond its own timeout (the
  // gateway answers 504 by then) before its connection is given up.
  std::chrono::milliseconds answer_grace{5000};
  std::chrono::milliseconds connect_timeout{5000};
  // Wraps the opening of every connection's socket (the testbed enters the
  // cluster's control namespace), as BusOptions::around_connect does.
  std::function<void(const std::function<void()>& open)> around_connect;
};

// One REST call to the gateway.
struct RestCall {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;        // "/api/clients/dev-1/3313/0/5702?format=TEXT&timeout=5"
  std::string body;          // empty: none
  std::string content_type;  // of the body
  std::chrono::milliseconds timeout{5000};  // the ?timeout= the gateway waits for the device
};

// The REST call that asks what `request` asks (table above); `timeout_s`
// (> 0) becomes ?timeout=. The endpoint is percent-encoded. Errors:
// kUnsupported for sec_info (not a device request), kInvalidArgument for a
// write without a node or write_attributes without attributes.
Result<RestCall> make_rest_call(const bus::Request& request, double timeout_s);

// What came back for one call.
struct GatewayReply {
  unsigned status = 0;           // HTTP status; 0: no answer (no connection, expired, cut off)
  std::string body;              // the answer's body; with status 0, why there was none
  std::optional<double> bus_ms;  // its Server-Timing "bus;dur", milliseconds
};

// The "dur" of the "bus" metric of a Server-Timing header value
// ("bus;dur=12.345", possibly among other metrics); nullopt without one.
std::optional<double> server_timing_bus_ms(std::string_view header);

// A failed call as the load generator counts its reason: "HTTP 504: <first
// line of the body>" (at most 120 characters of it), or "HTTP: <why>" with
// no answer.
std::string failure_reason(const GatewayReply& reply);

class GatewayClient {
 public:
  using Clock = std::chrono::steady_clock;
  using Done = std::function<void(GatewayReply)>;

  GatewayClient(boost::asio::io_context& io, GatewayClientOptions options);
  // Closes every connection; the `done` of calls not answered yet are not called.
  ~GatewayClient();
  GatewayClient(const GatewayClient&) = delete;
  GatewayClient& operator=(const GatewayClient&) = delete;

  // Sends `call` on an idle connection, on a new one (up to
  // max_connections), or queues it for the next connection free. `done`
  // runs once, on the io_context, never inside call(). Still queued at
  // `expires`: not sent, status 0 "expired waiting for a connection".
  void call(RestCall call, Clock::time_point expires, Done done);

  size_t connections() const { return connections_.size(); }
  size_t queued() const { return queue_.size(); }

 private:
  struct Item {
    RestCall call;
    Clock::time_point expires;
    Done done;
    bool retried = false;
  };
  struct Connection;
  using ConnectionPtr = std::shared_ptr<Connection>;

  void pump();
  void start(const ConnectionPtr& c, Item item);
  void connect(const ConnectionPtr& c);
  void write(const ConnectionPtr& c);
  void read(const ConnectionPtr& c);
  // The call on `c` is over: `c` goes back to the pool (keep) or is closed.
  void finish(const ConnectionPtr& c, GatewayReply reply, bool keep);
  // `c` failed: closed, and its call either sent again (once, when `c` was
  // reused and nothing came back) or failed with `why`.
  void fail(const ConnectionPtr& c, const std::string& why, bool may_retry);
  void drop(const ConnectionPtr& c);

  boost::asio::io_context& io_;
  GatewayClientOptions options_;
  std::string host_header_;
  std::string authorization_;
  std::vector<ConnectionPtr> connections_;
  std::deque<Item> queue_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::runner
