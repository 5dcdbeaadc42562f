// libcoap driven by a Boost.Asio io_context.
//
// A libcoap 4.3 context built with epoll support (Debian's is) exposes one
// file descriptor, its internal epoll set, which becomes readable whenever any
// of its endpoint or session sockets has work, and also when libcoap's own
// timerfd (retransmissions, DTLS timers, session timeouts) expires.
// CoapAsioDriver watches that descriptor from the io_context and runs
// coap_io_process(ctx, COAP_IO_NO_WAIT) when it is readable, and keeps one
// steady_timer armed for the next wake-up libcoap asks for
// (coap_io_prepare_epoll), so timers fire even if the timerfd were missed.
// No second thread and no polling: an idle context costs no CPU.
//
// Threading: libcoap contexts are not thread-safe. Everything that touches a
// driven context (coap_send, session creation, coap_free_context) must run on
// the io_context's thread, e.g. inside a handler or before run().
#pragma once

#include <coap3/coap.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::io {

// Initialises libcoap (coap_startup) for as long as at least one CoapLibrary
// object exists; the last one to go calls coap_cleanup. Create one before any
// libcoap call and keep it alive until every context is freed. Reference
// counted and safe to construct from several threads.
class CoapLibrary {
 public:
  CoapLibrary();
  ~CoapLibrary();
  CoapLibrary(const CoapLibrary&) = delete;
  CoapLibrary& operator=(const CoapLibrary&) = delete;
};

// libcoap's log levels (syslog numbering, as libcoap 4.3 uses them).
enum class CoapLogLevel : int {
  kEmergency = 0,
  kAlert = 1,
  kCritical = 2,
  kError = 3,
  kWarning = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7,
};

// Receives one libcoap log line (trailing newline removed). Called on the
// thread that made the libcoap call that logged; calls are serialised.
using CoapLogSink = std::function<void(CoapLogLevel level, std::string_view message)>;

// Routes all libcoap logging of this process to `sink`; an empty sink
// restores libcoap's default (stdout/stderr). Process-wide, like libcoap's
// own handler. The sink must not call back into libcoap.
void set_coap_log_sink(CoapLogSink sink);

// Sets libcoap's process-wide log level; messages above it are not produced.
void set_coap_log_level(CoapLogLevel level);

// Drives one coap_context_t from one io_context.
//
// Ownership: owns neither the io_context nor the libcoap context. Both must
// outlive the driver, or at least stop() must be called before
// coap_free_context(). Destroying the driver stops it. Handlers left queued
// in the io_context after stop() do nothing.
class CoapAsioDriver {
 public:
  CoapAsioDriver(boost::asio::io_context& io, coap_context_t* ctx);
  ~CoapAsioDriver();
  CoapAsioDriver(const CoapAsioDriver&) = delete;
  CoapAsioDriver& operator=(const CoapAsioDriver&) = delete;

  // Starts watching the context and runs a first processing round soon.
  // Returns kUnsupported when libcoap was built without epoll (no single
  // descriptor to watch), kIo when the descriptor cannot be registered with
  // the io_context, kInvalidArgument when already started or ctx is null.
  Status start();

  // Stops watching: cancels the wait and the timer; the libcoap descriptor
  // stays open (libcoap owns it). Idempotent. start() may be called again.
  void stop();

  // Schedules a processing round on the io_context. Call after queuing work
  // on the context from outside the driver's own handlers (coap_send,
  // new sessions) so the timer is re-armed for its retransmissions at once;
  // libcoap's timerfd normally covers this too, so it is cheap insurance.
  void kick();

  bool running() const;

  // Number of coap_io_process rounds run so far (for tests and metrics).
  uint64_t rounds() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace fogm2m::io
