#include "io/redis_asio.h"

// hiredis 0.14's sds.h lacks the extern "C" its other headers have; included
// first, so hiredis.h's own include of it is a no-op.
extern "C" {
#include <hiredis/sds.h>
}
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <utility>

#include "io/fd_ready.h"

// Exported by hiredis 0.14 but declared only in the headers of 1.0 and
// later (same signature): runs the callbacks of the replies already read.
extern "C" void redisProcessCallbacks(redisAsyncContext* ac);

namespace fogm2m::io {

namespace {

// What redisBufferRead reads per call (hiredis 0.14 and 1.x: 16 KiB).
constexpr size_t kHiredisReadChunk = 16 * 1024;
// An emptied output buffer up to this size is kept for the next commands.
constexpr size_t kKeptOutputBuffer = 64 * 1024;
// Unawaited replies (command_unawaited) are read once this many are
// outstanding, or this long after reads were deferred.
constexpr size_t kUnawaitedBacklog = 256;
constexpr std::chrono::milliseconds kUnawaitedDelay{100};

Error error_from_reply_text(std::string_view text) {
  ErrorKind kind = ErrorKind::kInvalidArgument;
  if (text.starts_with("WRONGTYPE")) {
    kind = ErrorKind::kTypeMismatch;
  } else if (text.starts_with("NOSCRIPT")) {
    kind = ErrorKind::kNotFound;
  }
  return make_error(kind, "redis: " + std::string(text));
}

// Copies a hiredis reply tree; see RedisReply for nested error replies.
RedisReply copy_reply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    case REDIS_REPLY_NIL:
    default:
      out.type = RedisReply::Type::kNil;
      break;
  }
  return out;
}

// "*3\r\n" (array of 3) or "$5\r\n" (bulk string of 5 bytes).
void append_resp_header(std::string& out, char kind, size_t n) {
  char buf[24];
  buf[0] = kind;
  const auto end = std::to_chars(buf + 1, buf + sizeof buf - 2, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  out.append(buf, end + 2);
}

std::string_view element_text(const redisReply* r, size_t i) {
  if (r->type != REDIS_REPLY_ARRAY || i >= r->elements) return {};
  const redisReply* e = r->element[i];
  if (e->type != REDIS_REPLY_STRING && e->type != REDIS_REPLY_STATUS) return {};
  return std::string_view(e->str, e->len);
}

// Why a connection ended or never started, from hiredis' error fields.
std::string context_error(const redisAsyncContext* ac, std::string_view fallback) {
  if (ac != nullptr && ac->c.err != 0 && ac->c.errstr[0] != '\0') return ac->c.errstr;
  if (ac != nullptr && ac->errstr != nullptr && ac->errstr[0] != '\0') return ac->errstr;
  return std::string(fallback);
}

}  // namespace

// ---------------------------------------------------------------------------
// Connection state
// ---------------------------------------------------------------------------

// Shared by the RedisConnection (the owner), the io_context's queued handlers
// (weak references) and hiredis itself: while a redisAsyncContext exists,
// `hiredis_ref` keeps the state alive, because hiredis calls back into it
// (hooks, reply callbacks, onDisconnect) until the context is freed, possibly
// after the owner is gone. The reference is dropped by a handler posted from
// the cleanup hook, i.e. after hiredis has finished with the context.
struct RedisConnection::State : std::enable_shared_from_this<RedisConnection::State> {
  explicit State(boost::asio::io_context& io_context)
      : io(io_context), descriptor(io_context), unawaited_timer(io_context) {}

  boost::asio::io_context& io;
  boost::asio::posix::stream_descriptor descriptor;  // never closes: hiredis owns the socket
  redisAsyncContext* ac = nullptr;                   // null before connect and once freed
  std::shared_ptr<State> hiredis_ref;
  int fd = -1;

  bool owner_alive = true;  // false once the RedisConnection is destroyed: no more callbacks
  bool started = false;     // connect() was called
  bool connected = false;
  bool closing = false;      // disconnect() requested
  std::string abort_reason;  // set by abort(): the end is a loss
  bool closed = false;       // the hiredis context is gone
  bool subscriber = false;
  int in_hiredis = 0;  // depth of calls into hiredis that may call back
  size_t pending_commands = 0;
  uint64_t replies = 0;          // command replies received (replies())
  size_t unawaited_pending = 0;  // of pending_commands, sent by command_unawaited
  // Reads are deferred (no wait on the socket; the timer reads instead)
  // while unawaited commands were sent recently and no other reply is
  // awaited. Cleared by the timer once no unawaited reply is outstanding.
  bool unawaited_mode = false;
  bool unawaited_timer_armed = false;
  boost::asio::steady_timer unawaited_timer;
  std::string format_buffer;     // the command being queued, in RESP
  bool queuing_command = false;  // inside send(): hiredis is buffering a command

  bool want_read = false;
  bool want_write = false;
  bool read_scheduled = false;  // an async_wait or a posted handler is outstanding
  bool write_scheduled = false;

  ConnectHandler on_connect;
  DisconnectHandler on_disconnect;
  MessageHandler on_message;
  struct PendingSubscribe {
    size_t remaining;  // confirmations still expected
    SubscribeHandler handler;
  };
  std::deque<PendingSubscribe> pending_subscribes;

  // Counts a call into hiredis, so code reached from its callbacks knows not
  // to free or disconnect the context underneath it.
  struct HiredisCall {
    explicit HiredisCall(State& s) : state(s) { ++state.in_hiredis; }
    ~HiredisCall() { --state.in_hiredis; }
    State& state;
  };

  static State* from(const redisAsyncContext* c) { return static_cast<State*>(c->data); }

  // --- Readiness: hiredis asks for read/write interest through the hooks;
  // each direction has at most one outstanding wait or posted handler.
  //
  // Asio waits are edge-triggered, so a wait may only start once the socket
  // is known to be drained (reads) or full (writes); otherwise the handler is
  // posted to run at once. What is known decides whether the kernel must be
  // asked (fd_ready, one poll() syscall):
  //   kProbe     unknown: ask;
  //   kReady     known ready: post (hiredis just buffered a command on a
  //              connected socket, which is writable unless its send buffer
  //              is full; the write then finds EAGAIN and we probe);
  //   kDrained   our last read got less than it asked for: wait.
  enum class Readiness { kProbe, kReady, kDrained };

  void schedule(bool write, Readiness readiness = Readiness::kProbe) {
    bool& scheduled = write ? write_scheduled : read_scheduled;
    if (scheduled || ac == nullptr) return;
    if (!write && readiness != Readiness::kReady && reads_deferred()) {
      arm_unawaited_timer();  // it reads (or starts waiting) later
      return;
    }
    scheduled = true;
    std::weak_ptr<State> weak = weak_from_this();
    const bool ready = readiness == Readiness::kReady ||
                       (readiness == Readiness::kProbe && fd_ready(fd, write ? POLLOUT : POLLIN));
    if (ready) {
      boost::asio::post(io, [weak, write] {
        if (auto self = weak.lock()) self->on_ready(write, {});
      });
      return;
    }
    descriptor.async_wait(write ? boost::asio::posix::stream_descriptor::wait_write
                                : boost::asio::posix::stream_descriptor::wait_read,
                          [weak, write](const boost::system::error_code& ec) {
                            if (auto self = weak.lock()) self->on_ready(write, ec);
                          });
  }

  void on_ready(bool write, const boost::system::error_code& ec) {
    (write ? write_scheduled : read_scheduled) = false;
    if (ec || ac == nullptr) return;  // cancelled by the cleanup hook
    if (!(write ? want_write : want_read)) return;
    Readiness next = Readiness::kProbe;
    {
      auto keep = shared_from_this();  // hiredis may drop hiredis_ref's last peer
      HiredisCall call(*this);
      if (write) {
        write_output();
      } else if (read_and_process()) {
        next = Readiness::kDrained;
      }
    }
    if (ac != nullptr && (write ? want_write : want_read)) schedule(write, next);
  }

  // --- Unawaited replies (command_unawaited).

  bool reads_deferred() const {
    return unawaited_mode && pending_commands == unawaited_pending && !subscriber;
  }

  void arm_unawaited_timer() {
    if (unawaited_timer_armed) return;
    unawaited_timer_armed = true;
    unawaited_timer.expires_after(kUnawaitedDelay);
    std::weak_ptr<State> weak = weak_from_this();
    unawaited_timer.async_wait([weak](const boost::system::error_code& ec) {
      if (auto self = weak.lock()) self->on_unawaited_timer(ec);
    });
  }

  void on_unawaited_timer(const boost::system::error_code& ec) {
    unawaited_timer_armed = false;
    if (ec || ac == nullptr || !want_read) return;
    if (unawaited_pending == 0) {
      // Nothing outstanding: back to waiting on the socket, which costs
      // nothing while idle and notices a closed connection at once.
      unawaited_mode = false;
      schedule(false, Readiness::kProbe);
    } else {
      schedule(false, Readiness::kReady);  // read what has come; defers again after
    }
  }

  // hiredis' redisAsyncHandleWrite on a connected context, except that a
  // fully written output buffer is emptied rather than freed and allocated
  // anew: hiredis would otherwise grow it again through realloc for every
  // batch of commands. Errors are left to hiredis, which disconnects.
  void write_output() {
    redisContext* c = &ac->c;
    if ((c->flags & REDIS_CONNECTED) == 0 || c->err != 0) {
      redisAsyncHandleWrite(ac);  // connect in progress, or already failed
      return;
    }
    if (const size_t len = sdslen(c->obuf); len > 0) {
      const ssize_t n = ::send(c->fd, c->obuf, len, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        // Recorded as redisBufferWrite records it; hiredis' own handler then
        // sees the error without writing again and disconnects the context.
        c->err = REDIS_ERR_IO;
        const std::string why = std::strerror(errno);
        std::snprintf(c->errstr, sizeof c->errstr, "%s", why.c_str());
        redisAsyncHandleWrite(ac);
        return;
      }
      if (n > 0 && static_cast<size_t>(n) == len) {
        if (sdsalloc(c->obuf) > kKeptOutputBuffer) {
          sdsfree(c->obuf);  // after a burst: give the memory back
          c->obuf = sdsempty();
        } else {
          sdsclear(c->obuf);
        }
      } else if (n > 0) {
        sdsrange(c->obuf, static_cast<int>(n), -1);
      }
    }
    want_write = sdslen(c->obuf) > 0;  // hiredis: _EL_ADD_WRITE or _EL_DEL_WRITE
    hook_add_read(this);               // hiredis: always read after writing
  }

  // hiredis' redisAsyncHandleRead, split so we learn how much was read: one
  // read() of at most kHiredisReadChunk bytes, then the replies. True when
  // that read got less than it asked for, i.e. the socket is drained.
  bool read_and_process() {
    redisContext* c = &ac->c;
    if ((c->flags & REDIS_CONNECTED) == 0 || c->reader == nullptr) {
      redisAsyncHandleRead(ac);  // connect still in progress: hiredis' own path
      return false;
    }
    const size_t before = c->reader->len;
    if (redisBufferRead(c) != REDIS_OK) {
      // Lost or closed: c->err is set, so hiredis' own read handler returns
      // at once and disconnects the context exactly as it would have.
      redisAsyncHandleRead(ac);
      return false;
    }
    const size_t got = c->reader->len - before;  // the feed appends to len
    want_read = true;                            // hiredis re-adds read interest here
    redisProcessCallbacks(ac);
    return got < kHiredisReadChunk;
  }

  // --- hiredis event hooks (ev.data is the State).

  static void hook_add_read(void* p) {
    auto* s = static_cast<State*>(p);
    s->want_read = true;
    s->schedule(false);
  }
  static void hook_del_read(void* p) { static_cast<State*>(p)->want_read = false; }
  static void hook_add_write(void* p) {
    auto* s = static_cast<State*>(p);
    s->want_write = true;
    // Right after buffering a command (send()), a connected socket is
    // writable unless its send buffer is full (the write then finds EAGAIN
    // and we probe before waiting). Otherwise: ask the kernel.
    const bool up = s->ac != nullptr && (s->ac->c.flags & REDIS_CONNECTED) != 0;
    s->schedule(true, up && s->queuing_command ? Readiness::kReady : Readiness::kProbe);
  }
  static void hook_del_write(void* p) { static_cast<State*>(p)->want_write = false; }

  // Called by hiredis from __redisAsyncFree, before it closes the socket and
  // before onDisconnect. Stops watching the socket and releases hiredis'
  // reference to the state once the current handler has returned.
  static void hook_cleanup(void* p) {
    auto* s = static_cast<State*>(p);
    s->want_read = s->want_write = false;
    if (s->descriptor.is_open()) s->descriptor.release();  // cancels outstanding waits
    s->unawaited_timer.cancel();
    s->unawaited_timer_armed = false;
    s->ac = nullptr;
    s->fd = -1;
    s->closed = true;
    std::deque<PendingSubscribe> subscribes = std::move(s->pending_subscribes);
    s->pending_subscribes.clear();
    // A connect that never completed (disconnect() while connecting) still
    // owes its handler an answer; hiredis calls onConnect only on an outcome.
    ConnectHandler connect_handler = std::move(s->on_connect);
    s->on_connect = nullptr;
    if (s->owner_alive && connect_handler) {
      connect_handler(make_error(ErrorKind::kIo, "redis: connection closed before it was up"));
    }
    if (s->owner_alive) {
      for (auto& sub : subscribes) {
        if (sub.handler) sub.handler(make_error(ErrorKind::kIo, "redis: connection closed"));
      }
    }
    boost::asio::post(s->io, [ref = std::move(s->hiredis_ref)] {});
  }

  // --- hiredis connection callbacks.

  static void on_connect_cb(const redisAsyncContext* c, int status) noexcept {
    State* s = from(c);
    ConnectHandler handler = std::move(s->on_connect);
    s->on_connect = nullptr;
    if (status == REDIS_OK) {
      s->connected = true;
      if (s->owner_alive && handler) handler(Status{});
    } else {
      // hiredis frees the context right after this returns.
      if (s->owner_alive && handler) {
        handler(make_error(ErrorKind::kIo,
                           "redis: connect failed: " + context_error(c, "unknown error")));
      }
    }
  }

  static void on_disconnect_cb(const redisAsyncContext* c, int status) noexcept {
    State* s = from(c);
    s->connected = false;
    if (!s->owner_alive || !s->on_disconnect) return;
    DisconnectHandler handler = std::move(s->on_disconnect);
    s->on_disconnect = nullptr;
    if (!s->abort_reason.empty()) {
      // hiredis reports a context it was asked to free as a clean close.
      handler(make_error(ErrorKind::kIo, "redis: connection lost: " + s->abort_reason));
    } else if (status == REDIS_OK) {
      handler(Status{});
    } else {
      handler(make_error(ErrorKind::kIo,
                         "redis: connection lost: " + context_error(c, "unknown error")));
    }
  }

  // --- Reply callbacks.

  struct PendingCommand {
    State* state;
    ReplyHandler handler;
    bool unawaited;
  };

  static void on_command_reply(redisAsyncContext* c, void* reply, void* privdata) noexcept {
    std::unique_ptr<PendingCommand> p(static_cast<PendingCommand*>(privdata));
    State* s = p->state;
    --s->pending_commands;
    ++s->replies;
    if (p->unawaited) --s->unawaited_pending;
    if (!s->owner_alive || !p->handler) return;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr) {
      // The context is being freed: connection lost, refused or closed.
      p->handler(
          make_error(ErrorKind::kIo, "redis: connection closed: " + context_error(c, "no reply")));
    } else if (r->type == REDIS_REPLY_ERROR) {
      p->handler(error_from_reply_text(std::string_view(r->str, r->len)));
    } else {
      p->handler(copy_reply(r));
    }
  }

  // One callback for every subscription of the connection (hiredis keeps it
  // per channel); it sees confirmations and messages.
  static void on_subscription_reply(redisAsyncContext* c, void* reply, void*) noexcept {
    State* s = from(c);
    const auto* r = static_cast<const redisReply*>(reply);
    if (r == nullptr || !s->owner_alive || r->type != REDIS_REPLY_ARRAY) return;
    std::string_view kind = element_text(r, 0);
    if (kind == "message") {
      if (s->on_message) s->on_message(element_text(r, 1), element_text(r, 2));
    } else if (kind == "pmessage") {
      if (s->on_message) s->on_message(element_text(r, 2), element_text(r, 3));
    } else if (kind == "subscribe" || kind == "psubscribe") {
      if (s->pending_subscribes.empty()) return;
      if (--s->pending_subscribes.front().remaining == 0) {
        SubscribeHandler handler = std::move(s->pending_subscribes.front().handler);
        s->pending_subscribes.pop_front();
        if (handler) handler(Status{});
      }
    }
    // unsubscribe / punsubscribe confirmations need no action.
  }

  // --- Operations behind the public API.

  Status check_can_send(bool for_subscription) const {
    if (!started) return make_error(ErrorKind::kIo, "redis: not connected");
    if (closed || ac == nullptr) return make_error(ErrorKind::kIo, "redis: connection closed");
    if (closing) return make_error(ErrorKind::kIo, "redis: connection is disconnecting");
    if (subscriber && !for_subscription) {
      return make_error(ErrorKind::kInvalidArgument,
                        "redis: a subscriber connection cannot send commands");
    }
    return {};
  }

  // Queues a command; `on_reply` is moved from only when it is queued.
  Status send(std::span<const std::string_view> argv, ReplyHandler& on_reply,
              bool unawaited = false) {
    if (argv.empty()) return make_error(ErrorKind::kInvalidArgument, "redis: empty command");
    if (Status st = check_can_send(false); !st) return st;
    // The command in RESP, as redisAsyncCommandArgv would format it, built
    // in a reused buffer (hiredis copies it into its output buffer).
    format_buffer.clear();
    append_resp_header(format_buffer, '*', argv.size());
    for (std::string_view arg : argv) {
      append_resp_header(format_buffer, '$', arg.size());
      format_buffer.append(arg.data(), arg.size());
      format_buffer += "\r\n";
    }
    auto pending =
        std::make_unique<PendingCommand>(PendingCommand{this, std::move(on_reply), unawaited});
    queuing_command = true;
    const int queued = redisAsyncFormattedCommand(ac, &State::on_command_reply, pending.get(),
                                                  format_buffer.data(), format_buffer.size());
    queuing_command = false;
    if (queued != REDIS_OK) {
      on_reply = std::move(pending->handler);  // back to the caller, who reports the refusal
      return make_error(ErrorKind::kIo, "redis: command refused: " + context_error(ac, "closing"));
    }
    pending.release();  // owned by hiredis until on_command_reply
    ++pending_commands;
    if (unawaited) {
      ++unawaited_pending;
      unawaited_mode = true;
      if (unawaited_pending >= kUnawaitedBacklog) schedule(false, Readiness::kReady);
    } else if (want_read) {
      schedule(false);  // its reply is awaited: make sure the socket is watched
    }
    return {};
  }

  // Runs `handler` with `error` from a fresh handler, unless the owner is
  // gone by then: how a request that could not be queued is answered.
  template <class Handler>
  void fail_later(Handler handler, Error error) {
    if (!handler) return;
    std::weak_ptr<State> weak = weak_from_this();
    boost::asio::post(io, [weak, handler = std::move(handler), error = std::move(error)]() mutable {
      auto self = weak.lock();
      if (self && self->owner_alive) handler(std::move(error));
    });
  }

  // Queues a (un)subscription; `on_subscribed` is moved from only when queued.
  Status send_subscription(std::string_view verb, std::span<const std::string_view> channels,
                           SubscribeHandler& on_subscribed) {
    if (channels.empty()) return make_error(ErrorKind::kInvalidArgument, "redis: no channels");
    if (Status st = check_can_send(true); !st) return st;
    bool is_subscribe = verb == "SUBSCRIBE" || verb == "PSUBSCRIBE";
    if (!is_subscribe && !subscriber) {
      return make_error(ErrorKind::kInvalidArgument, "redis: not subscribed");
    }
    std::vector<const char*> args;
    std::vector<size_t> lengths;
    args.reserve(channels.size() + 1);
    lengths.reserve(channels.size() + 1);
    args.push_back(verb.data());
    lengths.push_back(verb.size());
    for (std::string_view ch : channels) {
      args.push_back(ch.data());
      lengths.push_back(ch.size());
    }
    if (redisAsyncCommandArgv(ac, &State::on_subscription_reply, nullptr,
                              static_cast<int>(args.size()), args.data(),
                              lengths.data()) != REDIS_OK) {
      return make_error(ErrorKind::kIo,
                        "redis: subscription refused: " + context_error(ac, "closing"));
    }
    if (is_subscribe) {
      subscriber = true;
      pending_subscribes.push_back(PendingSubscribe{channels.size(), std::move(on_subscribed)});
    }
    return {};
  }

  void connect(const std::string& host, uint16_t port, ConnectHandler handler) {
    if (started) {
      fail_later(std::move(handler),
                 make_error(ErrorKind::kInvalidArgument, "redis: connect() called twice"));
      return;
    }
    started = true;
    redisAsyncContext* c = redisAsyncConnect(host.c_str(), port);
    if (c == nullptr) {
      closed = true;
      fail_later(std::move(handler), make_error(ErrorKind::kIo, "redis: out of memory"));
      return;
    }
    if (c->err != 0) {
      std::string why = context_error(c, "unknown error");
      redisAsyncFree(c);  // no hooks attached yet: calls nothing of ours
      closed = true;
      fail_later(std::move(handler),
                 make_error(ErrorKind::kIo, "redis: connect to " + host + ":" +
                                                std::to_string(port) + " failed: " + why));
      return;
    }
    boost::system::error_code ec;
    descriptor.assign(c->c.fd, ec);
    if (ec) {
      redisAsyncFree(c);
      closed = true;
      fail_later(std::move(handler),
                 make_error(ErrorKind::kIo, "redis: cannot watch socket: " + ec.message()));
      return;
    }
    ac = c;
    fd = c->c.fd;
    hiredis_ref = shared_from_this();
    on_connect = std::move(handler);
    c->data = this;
    c->ev.data = this;
    c->ev.addRead = &State::hook_add_read;
    c->ev.delRead = &State::hook_del_read;
    c->ev.addWrite = &State::hook_add_write;
    c->ev.delWrite = &State::hook_del_write;
    c->ev.cleanup = &State::hook_cleanup;
    redisAsyncSetDisconnectCallback(c, &State::on_disconnect_cb);
    // Registers write interest: the first writable event completes the connect.
    redisAsyncSetConnectCallback(c, &State::on_connect_cb);
  }

  // Runs fn(ac) from a fresh io_context handler, so hiredis is never freed or
  // disconnected underneath one of its own callbacks.
  template <class Fn>
  void later_on_context(Fn fn) {
    boost::asio::post(io, [self = shared_from_this(), fn = std::move(fn)] {
      if (self->ac == nullptr) return;
      HiredisCall call(*self);
      fn(self->ac);
    });
  }

  void disconnect() {
    if (ac == nullptr || closing) return;
    closing = true;
    // Replies still outstanding are read as they come, not late: the
    // disconnect completes once they are in.
    unawaited_mode = false;
    if (want_read) schedule(false);
    later_on_context([](redisAsyncContext* c) { redisAsyncDisconnect(c); });
  }

  void abort(std::string_view why) {
    if (ac == nullptr) return;
    closing = true;
    abort_reason = std::string(why);
    // Recorded as hiredis records its own errors, so every pending callback
    // and the disconnect handler report this reason as a loss.
    ac->c.err = REDIS_ERR_OTHER;
    std::snprintf(ac->c.errstr, sizeof ac->c.errstr, "%.*s", static_cast<int>(why.size()),
                  why.data());
    ac->err = REDIS_ERR_OTHER;
    if (in_hiredis > 0) {
      later_on_context([](redisAsyncContext* c) { redisAsyncFree(c); });
    } else {
      auto keep = shared_from_this();
      HiredisCall call(*this);
      redisAsyncFree(ac);
    }
  }

  void owner_gone() {
    owner_alive = false;
    if (ac == nullptr) return;
    closing = true;
    if (in_hiredis > 0) {
      later_on_context([](redisAsyncContext* c) { redisAsyncFree(c); });
    } else {
      auto keep = shared_from_this();
      HiredisCall call(*this);
      redisAsyncFree(ac);  // calls the hooks and callbacks, which now do nothing
    }
  }
};

// ---------------------------------------------------------------------------
// RedisConnection
// ---------------------------------------------------------------------------

RedisConnection::RedisConnection(boost::asio::io_context& io)
    : state_(std::make_shared<State>(io)) {}

RedisConnection::~RedisConnection() {
  state_->owner_gone();
}

void RedisConnection::connect(const std::string& host, uint16_t port, ConnectHandler on_connect) {
  state_->connect(host, port, std::move(on_connect));
}

void RedisConnection::set_disconnect_handler(DisconnectHandler handler) {
  state_->on_disconnect = std::move(handler);
}

void RedisConnection::command(std::span<const std::string_view> argv, ReplyHandler on_reply) {
  if (Status st = state_->send(argv, on_reply); !st)
    state_->fail_later(std::move(on_reply), st.error());
}

void RedisConnection::command(std::initializer_list<std::string_view> argv, ReplyHandler on_reply) {
  command(std::span<const std::string_view>(argv.begin(), argv.size()), std::move(on_reply));
}

void RedisConnection::command(const std::vector<std::string>& argv, ReplyHandler on_reply) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  command(std::span<const std::string_view>(views), std::move(on_reply));
}

void RedisConnection::command_unawaited(std::span<const std::string_view> argv,
                                        ReplyHandler on_reply) {
  if (Status st = state_->send(argv, on_reply, /*unawaited=*/true); !st)
    state_->fail_later(std::move(on_reply), st.error());
}

void RedisConnection::set_message_handler(MessageHandler handler) {
  state_->on_message = std::move(handler);
}

void RedisConnection::subscribe(std::span<const std::string_view> channels,
                                SubscribeHandler on_subscribed) {
  if (Status st = state_->send_subscription("SUBSCRIBE", channels, on_subscribed); !st)
    state_->fail_later(std::move(on_subscribed), st.error());
}

void RedisConnection::subscribe(std::initializer_list<std::string_view> channels,
                                SubscribeHandler on_subscribed) {
  subscribe(std::span<const std::string_view>(channels.begin(), channels.size()),
            std::move(on_subscribed));
}

void RedisConnection::psubscribe(std::span<const std::string_view> patterns,
                                 SubscribeHandler on_subscribed) {
  if (Status st = state_->send_subscription("PSUBSCRIBE", patterns, on_subscribed); !st)
    state_->fail_later(std::move(on_subscribed), st.error());
}

Status RedisConnection::unsubscribe(std::span<const std::string_view> channels) {
  SubscribeHandler none;
  return state_->send_subscription("UNSUBSCRIBE", channels, none);
}

Status RedisConnection::punsubscribe(std::span<const std::string_view> patterns) {
  SubscribeHandler none;
  return state_->send_subscription("PUNSUBSCRIBE", patterns, none);
}

void RedisConnection::disconnect() {
  state_->disconnect();
}

void RedisConnection::abort(std::string_view why) {
  state_->abort(why);
}

bool RedisConnection::connected() const {
  return state_->connected && !state_->closed;
}

bool RedisConnection::open() const {
  return state_->started && !state_->closed;
}

size_t RedisConnection::pending() const {
  return state_->pending_commands;
}

uint64_t RedisConnection::replies() const {
  return state_->replies;
}

}  // namespace fogm2m::io
