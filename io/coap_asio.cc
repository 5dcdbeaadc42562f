#include "io/coap_asio.h"

#include <poll.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <mutex>
#include <string>

#include "io/fd_ready.h"

namespace fogm2m::io {

// ---------------------------------------------------------------------------
// Library lifetime and logging
// ---------------------------------------------------------------------------

namespace {

std::mutex& library_mutex() {
  static std::mutex m;
  return m;
}
int library_refs = 0;  // guarded by library_mutex()

std::mutex& sink_mutex() {
  static std::mutex m;
  return m;
}
// Guarded by sink_mutex(); held in a shared_ptr so the libcoap handler can
// call it without holding the mutex while another thread replaces it.
std::shared_ptr<const CoapLogSink>& current_sink() {
  static std::shared_ptr<const CoapLogSink> sink;
  return sink;
}
std::mutex& sink_call_mutex() {
  static std::mutex m;
  return m;
}

// libcoap's handler type is a plain function pointer; this forwards to the
// installed std::function. libcoap messages usually end in '\n'.
extern "C" void coap_log_trampoline(coap_log_t level, const char* message) {
  std::shared_ptr<const CoapLogSink> sink;
  {
    std::lock_guard lock(sink_mutex());
    sink = current_sink();
  }
  if (!sink || !*sink || message == nullptr) return;
  std::string_view text(message);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  int clamped = level < 0 ? 0 : (level > 7 ? 7 : level);  // COAP_LOG_CIPHERS is above debug
  std::lock_guard lock(sink_call_mutex());
  (*sink)(static_cast<CoapLogLevel>(clamped), text);
}

}  // namespace

CoapLibrary::CoapLibrary() {
  std::lock_guard lock(library_mutex());
  if (library_refs++ == 0) coap_startup();
}

CoapLibrary::~CoapLibrary() {
  std::lock_guard lock(library_mutex());
  if (--library_refs == 0) coap_cleanup();
}

void set_coap_log_sink(CoapLogSink sink) {
  std::shared_ptr<const CoapLogSink> next;
  if (sink) next = std::make_shared<const CoapLogSink>(std::move(sink));
  {
    std::lock_guard lock(sink_mutex());
    current_sink() = next;
  }
  // coap_set_log_handler(NULL) restores libcoap's built-in output.
  coap_set_log_handler(next ? &coap_log_trampoline : nullptr);
}

void set_coap_log_level(CoapLogLevel level) {
  coap_set_log_level(static_cast<coap_log_t>(level));
}

// ---------------------------------------------------------------------------
// CoapAsioDriver
// ---------------------------------------------------------------------------

// The state lives in a shared_ptr so the io_context's queued handlers can hold
// a weak_ptr to it: a handler that runs after the driver is gone finds nothing
// and returns. `generation` tells handlers of an earlier start() from current
// ones, so a cancelled wait that completes late cannot clear the flags of a
// newer one.
struct CoapAsioDriver::Impl : std::enable_shared_from_this<CoapAsioDriver::Impl> {
  Impl(boost::asio::io_context& io_context, coap_context_t* context)
      : io(io_context), ctx(context), descriptor(io_context), timer(io_context) {}

  boost::asio::io_context& io;
  coap_context_t* ctx;
  boost::asio::posix::stream_descriptor descriptor;  // wraps libcoap's epoll fd, never closes it
  boost::asio::steady_timer timer;
  int fd = -1;
  bool running = false;
  bool wait_armed = false;    // an async_wait on the descriptor is outstanding
  bool round_posted = false;  // a round() is queued by post
  bool timer_armed = false;
  std::chrono::steady_clock::time_point timer_deadline{};
  uint64_t generation = 0;
  uint64_t rounds = 0;

  // One processing pass: reads and handles what is ready, runs due timers,
  // then re-arms the descriptor wait and the timer. libcoap callbacks run in
  // here and may call stop() (or destroy the driver: the caller holds a
  // shared_ptr for the duration).
  void round() {
    if (!running) return;
    ++rounds;
    coap_io_process(ctx, COAP_IO_NO_WAIT);
    if (!running) return;
    arm_timer();
    arm_wait();
  }

  // Posts a round unless one is already queued.
  void post_round() {
    if (round_posted) return;
    round_posted = true;
    std::weak_ptr<Impl> weak = weak_from_this();
    uint64_t gen = generation;
    boost::asio::post(io, [weak, gen] {
      auto self = weak.lock();
      if (!self || self->generation != gen) return;
      self->round_posted = false;
      self->round();
    });
  }

  // Waits for the epoll descriptor to become readable. Asio registers
  // descriptors edge-triggered and a wait does not complete for readiness
  // that predates it, while libcoap reads one datagram per ready socket and
  // round: if the descriptor is still readable now, another round is posted
  // instead of waiting for an edge that may never come.
  void arm_wait() {
    if (wait_armed || round_posted) return;
    if (fd_ready(fd, POLLIN)) {
      post_round();
      return;
    }
    wait_armed = true;
    std::weak_ptr<Impl> weak = weak_from_this();
    uint64_t gen = generation;
    descriptor.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                          [weak, gen](const boost::system::error_code& ec) {
                            auto self = weak.lock();
                            if (!self || self->generation != gen) return;
                            self->wait_armed = false;
                            if (ec) return;  // cancelled by stop(), or descriptor gone
                            self->round();
                          });
  }

  // Arms the timer for libcoap's next deadline (retransmission, DTLS timer,
  // session timeout). coap_io_prepare_epoll also performs whatever is due
  // now and returns the milliseconds to the next event, 0 for none.
  void arm_timer() {
    coap_tick_t now;
    coap_ticks(&now);
    unsigned int wait_ms = coap_io_prepare_epoll(ctx, now);
    if (wait_ms == 0) {
      if (timer_armed) {
        timer.cancel();
        timer_armed = false;
      }
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    // Re-arming costs a cancel and a new operation; skip it when the
    // deadline has not moved by more than a millisecond.
    if (timer_armed && deadline >= timer_deadline &&
        deadline - timer_deadline < std::chrono::milliseconds(1)) {
      return;
    }
    timer_armed = true;
    timer_deadline = deadline;
    timer.expires_at(deadline);
    std::weak_ptr<Impl> weak = weak_from_this();
    uint64_t gen = generation;
    timer.async_wait([weak, gen, deadline](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (!self || self->generation != gen || ec) return;
      if (self->timer_deadline != deadline) return;  // superseded by a later arm
      self->timer_armed = false;
      self->round();
    });
  }

  Status start() {
    if (ctx == nullptr)
      return make_error(ErrorKind::kInvalidArgument, "CoapAsioDriver: null context");
    if (running) return make_error(ErrorKind::kInvalidArgument, "CoapAsioDriver: already started");
    int coap_fd = coap_context_get_coap_fd(ctx);
    if (coap_fd < 0) {
      return make_error(ErrorKind::kUnsupported,
                        "CoapAsioDriver: libcoap was built without epoll support "
                        "(coap_context_get_coap_fd returned -1)");
    }
    boost::system::error_code ec;
    descriptor.assign(coap_fd, ec);
    if (ec) {
      return make_error(ErrorKind::kIo,
                        "CoapAsioDriver: cannot watch libcoap descriptor: " + ec.message());
    }
    fd = coap_fd;
    ++generation;
    running = true;
    wait_armed = false;
    round_posted = false;
    timer_armed = false;
    post_round();
    return {};
  }

  void stop() {
    if (!running) return;
    running = false;
    ++generation;  // queued handlers of this run become no-ops
    wait_armed = false;
    round_posted = false;
    timer_armed = false;
    timer.cancel();
    if (descriptor.is_open()) descriptor.release();  // libcoap owns and closes the fd
    fd = -1;
  }
};

CoapAsioDriver::CoapAsioDriver(boost::asio::io_context& io, coap_context_t* ctx)
    : impl_(std::make_shared<Impl>(io, ctx)) {}

CoapAsioDriver::~CoapAsioDriver() {
  impl_->stop();
}

Status CoapAsioDriver::start() {
  return impl_->start();
}

void CoapAsioDriver::stop() {
  impl_->stop();
}

void CoapAsioDriver::kick() {
  if (impl_->running) impl_->post_round();
}

bool CoapAsioDriver::running() const {
  return impl_->running;
}

uint64_t CoapAsioDriver::rounds() const {
  return impl_->rounds;
}

}  // namespace fogm2m::io
