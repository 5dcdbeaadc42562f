#include "server/transport/dtls_transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_map>
#include <utility>

#include "io/coap_pdu_convert.h"
#include "lwm2m/coap_code.h"

namespace fogm2m::server {

using io::coap_message_from_pdu;
using io::fill_pdu;
using io::make_pdu;

namespace {

using Clock = std::chrono::steady_clock;

// Recent exchanges remembered per device for duplicate detection. A device
// has few requests in flight (LwM2M clients send one at a time).
constexpr size_t kRecentPerPeer = 8;

// Overwrites a key buffer in a way the optimiser cannot drop.
void wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

lwm2m::PeerAddress peer_address_of(const coap_address_t* address) {
  lwm2m::PeerAddress out;
  if (address == nullptr) return out;
  char text[INET6_ADDRSTRLEN] = {};
  const sockaddr* sa = &address->addr.sa;
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &address->addr.sin.sin_addr, text, sizeof(text));
    out.port = ntohs(address->addr.sin.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    const in6_addr& a6 = address->addr.sin6.sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
      // An IPv4 device seen through a dual-stack socket: name it as IPv4, the
      // way the load balancer and the UDP transport see it.
      ::inet_ntop(AF_INET, &a6.s6_addr[12], text, sizeof(text));
    } else {
      ::inet_ntop(AF_INET6, &a6, text, sizeof(text));
    }
    out.port = ntohs(address->addr.sin6.sin6_port);
  }
  out.address = text;
  return out;
}

PeerInfo peer_info_of(const coap_session_t* session) {
  PeerInfo peer;
  peer.address = peer_address_of(coap_session_get_addr_remote(session));
  peer.secure = true;
  if (const coap_bin_const_t* id = coap_session_get_psk_identity(session);
      id != nullptr && id->s != nullptr)
    peer.psk_identity.assign(reinterpret_cast<const char*>(id->s), id->length);
  return peer;
}

std::optional<coap_address_t> parse_listen_address(const std::string& text, uint16_t port) {
  coap_address_t address;
  coap_address_init(&address);
  if (::inet_pton(AF_INET, text.c_str(), &address.addr.sin.sin_addr) == 1) {
    address.addr.sin.sin_family = AF_INET;
    address.addr.sin.sin_port = htons(port);
    address.size = sizeof(sockaddr_in);
    return address;
  }
  if (::inet_pton(AF_INET6, text.c_str(), &address.addr.sin6.sin6_addr) == 1) {
    address.addr.sin6.sin6_family = AF_INET6;
    address.addr.sin6.sin6_port = htons(port);
    address.size = sizeof(sockaddr_in6);
    return address;
  }
  return std::nullopt;
}

// libcoap 4.3.1 has no accessor for an endpoint's bound address, but
// coap_endpoint_str() prints it after the bind ("127.0.0.1:50090 DTLS",
// "[::]:50167 DTLS"), ephemeral port included.
uint16_t bound_port_of(const coap_endpoint_t* endpoint) {
  std::string_view text = coap_endpoint_str(endpoint);
  text = text.substr(0, text.find(' '));
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return 0;
  uint16_t port = 0;
  std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  return port;
}

// The name of the cipher suite an OpenSSL DTLS session negotiated.
std::optional<std::string> openssl_cipher_name(const SSL* ssl) {
  if (ssl == nullptr) return std::nullopt;
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (cipher == nullptr) return std::nullopt;
  const char* name = SSL_CIPHER_get_name(cipher);
  if (name == nullptr) return std::nullopt;
  return std::string(name);
}

lwm2m::CoapMessage bare_response(lwm2m::CoapCode code) {
  lwm2m::CoapMessage m;
  m.code = static_cast<uint8_t>(code);
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------

// Lives in a shared_ptr so that responders, timers and posted handlers can
// hold a weak_ptr to it and find nothing once the transport is gone.
struct DtlsTransport::Impl : std::enable_shared_from_this<DtlsTransport::Impl> {
  Impl(boost::asio::io_context& io_context, DtlsTransportOptions opts)
      : io(io_context), options(std::move(opts)), sweep_timer(io_context) {}

  // A request of a device answered recently: the answer again for a
  // duplicate, or an empty ACK when it went out as a separate response.
  struct Exchange {
    bool separate = false;
    lwm2m::CoapMessage response;  // when !separate
  };

  // A device the server can send requests to: the DTLS session it last used
  // (one reference held), and its recent exchanges.
  struct Peer {
    coap_session_t* session = nullptr;
    lwm2m::RecentMessageIds<Exchange> recent{kRecentPerPeer};
    Clock::time_point last_seen;
  };

  // The answer of one request, shared between its Responder and the
  // transport. `async` is set while the request is parked in libcoap.
  struct Slot {
    bool in_handler = true;
    bool answered = false;
    std::optional<lwm2m::CoapMessage> response;
    coap_async_t* async = nullptr;
  };

  // A request to a device waiting for its response.
  struct Outstanding {
    ResponseHandler done;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  using OutstandingKey = std::pair<std::string, std::string>;  // peer "addr:port", token

  boost::asio::io_context& io;
  const DtlsTransportOptions options;
  io::CoapLibrary library;  // before ctx: coap_startup first, coap_cleanup last
  Handlers handlers;
  coap_context_t* ctx = nullptr;
  std::unique_ptr<io::CoapAsioDriver> driver;
  boost::asio::steady_timer sweep_timer;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;
  int callback_depth = 0;  // > 0 while libcoap is calling us

  // The key handed to libcoap by the identity callback; libcoap copies it
  // at once, and it is wiped right after the processing round.
  std::string key_buffer;
  coap_bin_const_t key_bin{0, nullptr};

  std::unordered_map<std::string, Peer> peers;  // by PeerAddress::to_string()
  std::unordered_map<coap_async_t*, std::shared_ptr<Slot>> parked;
  std::map<OutstandingKey, Outstanding> outstanding;

  // Marks a libcoap callback in progress; keeps the state alive through it
  // even if a handler destroys the transport.
  class CallbackScope {
   public:
    explicit CallbackScope(Impl& impl) : self_(impl.shared_from_this()) { ++self_->callback_depth; }
    ~CallbackScope() { --self_->callback_depth; }
    CallbackScope(const CallbackScope&) = delete;
    CallbackScope& operator=(const CallbackScope&) = delete;

   private:
    std::shared_ptr<Impl> self_;
  };

  static Impl* of(const coap_session_t* session) {
    coap_context_t* context = coap_session_get_context(session);
    if (context == nullptr) return nullptr;
    auto* impl = static_cast<Impl*>(coap_get_app_data(context));
    return impl != nullptr && !impl->stopped ? impl : nullptr;
  }

  // -------------------------------------------------------------------------
  // Start and stop
  // -------------------------------------------------------------------------

  Status start() {
    if (started || stopped)
      return make_error(ErrorKind::kInvalidArgument, "DTLS transport: already started");
    if (!options.psk_lookup)
      return make_error(ErrorKind::kInvalidArgument, "DTLS transport: no psk_lookup");
    std::optional<coap_address_t> listen = parse_listen_address(options.address, options.port);
    if (!listen)
      return make_error(ErrorKind::kInvalidArgument,
                        "DTLS transport: bad listen address '" + options.address + "'");
    if (coap_dtls_is_supported() == 0)
      return make_error(ErrorKind::kUnsupported, "DTLS transport: libcoap was built without DTLS");

    if (options.log_sink) io::set_coap_log_sink(options.log_sink);
    io::set_coap_log_level(io::CoapLogLevel::kWarning);
    coap_dtls_set_log_level(static_cast<int>(io::CoapLogLevel::kWarning));

    ctx = coap_new_context(nullptr);
    if (ctx == nullptr)
      return make_error(ErrorKind::kIo, "DTLS transport: cannot create a libcoap context");
    coap_set_app_data(ctx, this);
    // Sessions must outlive quiet registrations; none is evicted for being
    // idle (every UDP server session counts as idle between datagrams).
    coap_context_set_session_timeout(ctx, static_cast<unsigned>(std::clamp<int64_t>(
                                              options.session_timeout.count(), 1, 0x7fffffff)));
    coap_context_set_max_idle_sessions(ctx, 0);

    coap_dtls_spsk_t spsk;
    std::memset(&spsk, 0, sizeof(spsk));
    spsk.version = COAP_DTLS_SPSK_SETUP_VERSION;
    spsk.validate_id_call_back = &on_psk_identity;
    spsk.id_call_back_arg = this;
    if (!options.psk_hint.empty()) {
      spsk.psk_info.hint = {options.psk_hint.size(),
                            reinterpret_cast<const uint8_t*>(options.psk_hint.data())};
    }
    if (coap_context_set_psk2(ctx, &spsk) == 0) {
      free_context_now();
      return make_error(ErrorKind::kIo, "DTLS transport: libcoap refused the PSK setup");
    }

    coap_endpoint_t* endpoint = coap_new_endpoint(ctx, &*listen, COAP_PROTO_DTLS);
    if (endpoint == nullptr) {
      free_context_now();
      return make_error(ErrorKind::kIo, "DTLS transport: cannot bind " + options.address + ":" +
                                            std::to_string(options.port));
    }
    port = bound_port_of(endpoint);

    // One resource sees every request: the unknown-resource handler serves
    // every method it has a handler for (libcoap 4.3.1 handle_request), at
    // any path but /.well-known/core, which libcoap answers itself.
    coap_resource_t* all = coap_resource_unknown_init2(&on_request_pdu, 0);
    for (coap_request_t method : {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_DELETE,
                                  COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH}) {
      coap_register_request_handler(all, method, &on_request_pdu);
    }
    coap_add_resource(ctx, all);
    coap_register_response_handler(ctx, &on_response_pdu);
    coap_register_nack_handler(ctx, &on_nack);
    coap_register_event_handler(ctx, &on_event);

    driver = std::make_unique<io::CoapAsioDriver>(io, ctx);
    if (Status st = driver->start(); !st.ok()) {
      driver.reset();
      free_context_now();
      return st;
    }
    started = true;
    arm_sweep();
    return {};
  }

  void free_context_now() {
    if (ctx == nullptr) return;
    coap_set_app_data(ctx, nullptr);
    coap_free_context(ctx);
    ctx = nullptr;
  }

  void stop() {
    if (stopped) return;
    stopped = true;
    if (!started) return;
    if (driver) driver->stop();
    sweep_timer.cancel();

    auto pending = std::move(outstanding);
    outstanding.clear();
    for (auto& [key, o] : pending) {
      o.timer->cancel();
      post_done(std::move(o.done), make_error(ErrorKind::kIo, "DTLS transport stopped"));
    }
    for (auto& [async, slot] : parked) slot->async = nullptr;
    parked.clear();
    // coap_free_context frees endpoint sessions only when nobody holds them.
    for (auto& [key, peer] : peers) {
      if (peer.session != nullptr) coap_session_release(peer.session);
    }
    peers.clear();
    wipe(key_buffer);

    if (callback_depth > 0) {
      // Inside coap_io_process: libcoap still uses the context on the way
      // out, so it is freed once the current round has returned.
      coap_context_t* context = ctx;
      ctx = nullptr;
      coap_set_app_data(context, nullptr);
      boost::asio::post(io, [self = shared_from_this(), context] { coap_free_context(context); });
    } else {
      free_context_now();
    }
    driver.reset();
  }

  // -------------------------------------------------------------------------
  // Peers and their sessions
  // -------------------------------------------------------------------------

  // Records that `session` is how `key` is reached now, keeping one reference
  // to it so libcoap does not free it while the server may send requests.
  Peer& remember(const std::string& key, coap_session_t* session) {
    Peer& peer = peers[key];
    if (peer.session != session) {
      if (peer.session != nullptr) coap_session_release(peer.session);
      peer.session = coap_session_reference(session);
      peer.recent.clear();  // message ids of another session
      // Our requests to the device retransmit on libcoap's timer, with the
      // transport's parameters.
      const lwm2m::CoapTransmission& t = options.transmission;
      coap_session_set_ack_timeout(session, io::to_coap_fixed_point(t.ack_timeout));
      coap_session_set_ack_random_factor(
          session, io::to_coap_fixed_point(std::chrono::duration<double>(t.ack_random_factor)));
      coap_session_set_max_retransmit(session, std::min(t.max_retransmit, 255u));
    }
    peer.last_seen = Clock::now();
    return peer;
  }

  void forget(const std::string& key) {
    auto it = peers.find(key);
    if (it == peers.end()) return;
    if (it->second.session != nullptr) coap_session_release(it->second.session);
    peers.erase(it);
  }

  // Releases peers silent for longer than the session timeout (libcoap then
  // frees their sessions after the same time), and old exchanges.
  void sweep() {
    const auto now = Clock::now();
    for (auto it = peers.begin(); it != peers.end();) {
      Peer& peer = it->second;
      peer.recent.forget_expired(now);
      auto first = outstanding.lower_bound({it->first, std::string()});
      const bool busy = first != outstanding.end() && first->first.first == it->first;
      if (!busy && now - peer.last_seen > options.session_timeout) {
        if (peer.session != nullptr) coap_session_release(peer.session);
        it = peers.erase(it);
      } else {
        ++it;
      }
    }
  }

  void arm_sweep() {
    auto interval = std::clamp<std::chrono::seconds>(
        options.session_timeout / 4, std::chrono::seconds(1), std::chrono::seconds(300));
    sweep_timer.expires_after(interval);
    sweep_timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->stopped) return;
      self->sweep();
      self->arm_sweep();
    });
  }

  // -------------------------------------------------------------------------
  // Handshake
  // -------------------------------------------------------------------------

  // libcoap's identity callback: the key for `identity`, or nullptr to fail
  // the handshake. libcoap copies the key before the next call.
  static const coap_bin_const_t* on_psk_identity(coap_bin_const_t* identity, coap_session_t*,
                                                 void* arg) {
    auto* impl = static_cast<Impl*>(arg);
    if (impl == nullptr || impl->stopped || identity == nullptr) return nullptr;
    CallbackScope scope(*impl);
    wipe(impl->key_buffer);
    std::string_view id(reinterpret_cast<const char*>(identity->s),
                        identity->s != nullptr ? identity->length : 0);
    std::optional<std::string> key = impl->options.psk_lookup(id);
    if (!key || key->empty()) return nullptr;
    impl->key_buffer.assign(*key);
    wipe(*key);
    impl->key_bin = {impl->key_buffer.size(),
                     reinterpret_cast<const uint8_t*>(impl->key_buffer.data())};
    boost::asio::post(impl->io, [weak = impl->weak_from_this()] {
      if (auto self = weak.lock()) wipe(self->key_buffer);
    });
    return &impl->key_bin;
  }

  // -------------------------------------------------------------------------
  // Requests from devices
  // -------------------------------------------------------------------------

  static void on_request_pdu(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request,
                             const coap_string_t*, coap_pdu_t* response) {
    Impl* impl = of(session);
    if (impl == nullptr) {
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
      return;
    }
    CallbackScope scope(*impl);
    impl->handle_request(session, request, response);
  }

  // Writes `message` (code, options, payload) into libcoap's response PDU,
  // or 5.00 when it does not fit the session's PDU size.
  static void write_response(coap_session_t* session, const lwm2m::CoapMessage& message,
                             coap_pdu_t* response) {
    // The response carries the request's token, whatever `message` has.
    const size_t size = lwm2m::coap_encoded_size(message) - message.token.size() +
                        coap_pdu_get_token(response).length;
    if (size > coap_session_max_pdu_size(session) || !fill_pdu(message, response).ok()) {
      spdlog::warn("DTLS: response {} to {} does not fit a datagram; answering 5.00",
                   to_debug_string(message), coap_session_str(session));
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
    }
  }

  void handle_request(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response) {
    // A parked request coming back from coap_async_trigger: its answer is
    // ready and goes out as the separate response.
    if (coap_async_t* async = coap_find_async(session, coap_pdu_get_token(request))) {
      auto it = parked.find(async);
      if (it == parked.end()) return;
      std::shared_ptr<Slot> slot = it->second;
      parked.erase(it);
      slot->async = nullptr;
      if (slot->response) write_response(session, *slot->response, response);
      return;
    }

    PeerInfo peer = peer_info_of(session);
    const std::string key = peer.address.to_string();
    const uint16_t message_id = static_cast<uint16_t>(coap_pdu_get_mid(request));
    const auto now = Clock::now();
    {
      Peer& known = remember(key, session);
      if (const Exchange* dup = known.recent.find(message_id, now)) {
        // A retransmission: the same answer again, or an empty ACK when the
        // answer went out separately (an empty NON response is dropped).
        if (!dup->separate) write_response(session, dup->response, response);
        return;
      }
    }

    if (!handlers.on_request) {
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
      return;
    }

    auto slot = std::make_shared<Slot>();
    Responder respond = [weak = weak_from_this(), slot](lwm2m::CoapMessage answer) {
      if (slot->answered) return;
      slot->answered = true;
      slot->response = std::move(answer);
      if (slot->in_handler) return;  // the handler writes it into the ACK
      auto self = weak.lock();
      if (!self || self->stopped || slot->async == nullptr) return;
      // libcoap re-runs the request handler for this request on its next
      // round (coap_check_async), which answers from the slot.
      coap_async_trigger(slot->async);
      self->driver->kick();
    };
    handlers.on_request(peer, coap_message_from_pdu(request), std::move(respond));
    slot->in_handler = false;

    Exchange exchange;
    if (stopped) {
      slot->answered = true;
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
      return;
    }
    if (slot->answered) {
      write_response(session, *slot->response, response);
      exchange.response = *slot->response;
    } else if (coap_async_t* async = coap_register_async(session, request, 0)) {
      // Leaving the response empty makes libcoap send an empty ACK now.
      slot->async = async;
      parked.emplace(async, slot);
      exchange.separate = true;
    } else {
      spdlog::warn("DTLS: cannot park request {} from {}; answering 5.00",
                   to_debug_string(coap_message_from_pdu(request)), key);
      slot->answered = true;
      exchange.response = bare_response(lwm2m::CoapCode::kInternalServerError);
      write_response(session, exchange.response, response);
    }
    // on_request may have forgotten the peer; look it up again.
    if (auto it = peers.find(key); it != peers.end() && it->second.session == session)
      it->second.recent.remember(message_id, now + options.transmission.exchange_lifetime) =
          std::move(exchange);
  }

  // -------------------------------------------------------------------------
  // Requests to devices
  // -------------------------------------------------------------------------

  void post_done(ResponseHandler done, Result<lwm2m::CoapMessage> result) {
    if (!done) return;
    boost::asio::post(io, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  // Completes the request `key` with `result`, once.
  void complete(const OutstandingKey& key, Result<lwm2m::CoapMessage> result) {
    auto it = outstanding.find(key);
    if (it == outstanding.end()) return;
    Outstanding o = std::move(it->second);
    outstanding.erase(it);
    o.timer->cancel();
    post_done(std::move(o.done), std::move(result));
  }

  void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                    std::chrono::milliseconds timeout, ResponseHandler done) {
    if (!started || stopped)
      return post_done(std::move(done),
                       make_error(ErrorKind::kIo, "DTLS transport is not running"));
    const std::string key = peer.address.to_string();
    auto pit = peers.find(key);
    if (pit == peers.end() || pit->second.session == nullptr) {
      return post_done(std::move(done),
                       make_error(ErrorKind::kIo, "no DTLS session with " + key +
                                                      " (a device must send a request first)"));
    }
    coap_session_t* session = pit->second.session;
    if (request.token.size() > 8)
      return post_done(std::move(done),
                       make_error(ErrorKind::kInvalidArgument, "token longer than 8 bytes"));
    OutstandingKey okey{key, request.token};
    if (outstanding.count(okey) != 0) {
      return post_done(std::move(done), make_error(ErrorKind::kInvalidArgument,
                                                   "a request with this token is outstanding"));
    }
    request.type = lwm2m::CoapType::kCon;
    request.message_id = static_cast<uint16_t>(coap_new_message_id(session));
    coap_pdu_t* pdu = make_pdu(request, coap_session_max_pdu_size(session));
    if (pdu == nullptr) {
      return post_done(std::move(done), make_error(ErrorKind::kInvalidArgument,
                                                   "request " + to_debug_string(request) +
                                                       " does not fit a datagram"));
    }

    // Registered before coap_send: a failing send may report it through the
    // NACK handler at once.
    Outstanding o;
    o.done = std::move(done);
    o.timer = std::make_unique<boost::asio::steady_timer>(io);
    o.timer->expires_after(timeout);
    o.timer->async_wait([weak = weak_from_this(), okey,
                         timeout](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->complete(
          okey, make_error(ErrorKind::kTimeout, "device " + okey.first + " did not answer within " +
                                                    std::to_string(timeout.count()) + " ms"));
    });
    outstanding.emplace(okey, std::move(o));

    if (coap_send(session, pdu) == COAP_INVALID_MID) {
      complete(okey, make_error(ErrorKind::kIo, "cannot send to " + key));
      return;
    }
    driver->kick();
  }

  static coap_response_t on_response_pdu(coap_session_t* session, const coap_pdu_t*,
                                         const coap_pdu_t* received, const coap_mid_t) {
    Impl* impl = of(session);
    if (impl == nullptr) return COAP_RESPONSE_FAIL;
    CallbackScope scope(*impl);
    PeerInfo peer = peer_info_of(session);
    std::string key = peer.address.to_string();
    if (auto it = impl->peers.find(key); it != impl->peers.end())
      it->second.last_seen = Clock::now();
    lwm2m::CoapMessage message = coap_message_from_pdu(received);
    OutstandingKey okey{std::move(key), message.token};
    if (impl->outstanding.count(okey) != 0) {
      impl->complete(okey, std::move(message));
      return COAP_RESPONSE_OK;
    }
    if (!impl->handlers.on_notification) return COAP_RESPONSE_FAIL;
    return impl->handlers.on_notification(peer, message) ? COAP_RESPONSE_OK : COAP_RESPONSE_FAIL;
  }

  // libcoap gave up on a confirmable message. Only requests matter here: a
  // separate response the device did not acknowledge needs nothing more.
  static void on_nack(coap_session_t* session, const coap_pdu_t* sent,
                      const coap_nack_reason_t reason, const coap_mid_t) {
    Impl* impl = of(session);
    if (impl == nullptr || sent == nullptr) return;
    const auto code = static_cast<uint8_t>(coap_pdu_get_code(sent));
    if (code < 1 || code > 31) return;
    CallbackScope scope(*impl);
    const coap_bin_const_t token = coap_pdu_get_token(sent);
    OutstandingKey okey{
        peer_address_of(coap_session_get_addr_remote(session)).to_string(),
        std::string(reinterpret_cast<const char*>(token.s), token.s != nullptr ? token.length : 0)};
    switch (reason) {
      case COAP_NACK_TOO_MANY_RETRIES:
        impl->complete(
            okey, make_error(ErrorKind::kTimeout, "device " + okey.first + " did not acknowledge"));
        break;
      case COAP_NACK_RST:
        impl->complete(okey,
                       make_error(ErrorKind::kIo, "device " + okey.first + " reset the request"));
        break;
      case COAP_NACK_TLS_FAILED:
        impl->complete(okey,
                       make_error(ErrorKind::kIo, "DTLS session with " + okey.first + " failed"));
        break;
      default:
        impl->complete(okey, make_error(ErrorKind::kIo, "cannot deliver to " + okey.first));
        break;
    }
  }

  // A session that closed or failed can no longer carry requests.
  static int on_event(coap_session_t* session, const coap_event_t event) {
    Impl* impl = of(session);
    if (impl == nullptr || session == nullptr) return 0;
    switch (event) {
      case COAP_EVENT_DTLS_CLOSED:
      case COAP_EVENT_DTLS_ERROR:
      case COAP_EVENT_SESSION_CLOSED:
      case COAP_EVENT_SESSION_FAILED: {
        CallbackScope scope(*impl);
        const std::string key = peer_address_of(coap_session_get_addr_remote(session)).to_string();
        if (auto it = impl->peers.find(key);
            it != impl->peers.end() && it->second.session == session)
          impl->forget(key);
        break;
      }
      default:
        break;
    }
    return 0;
  }
};

// ---------------------------------------------------------------------------
// DtlsTransport
// ---------------------------------------------------------------------------

DtlsTransport::DtlsTransport(boost::asio::io_context& io, DtlsTransportOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(options))) {}

DtlsTransport::~DtlsTransport() {
  impl_->stop();
}

Status DtlsTransport::start() {
  return impl_->start();
}

uint16_t DtlsTransport::local_port() const {
  return impl_->port;
}

void DtlsTransport::set_handlers(Handlers handlers) {
  impl_->handlers = std::move(handlers);
}

void DtlsTransport::send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                                 std::chrono::milliseconds timeout, ResponseHandler done) {
  impl_->send_request(peer, std::move(request), timeout, std::move(done));
}

void DtlsTransport::stop() {
  impl_->stop();
}

void DtlsTransport::forget_peer(const lwm2m::PeerAddress& peer) {
  impl_->forget(peer.to_string());
}

size_t DtlsTransport::peer_count() const {
  return impl_->peers.size();
}

std::optional<std::string> DtlsTransport::cipher_suite(const lwm2m::PeerAddress& peer) const {
  auto it = impl_->peers.find(peer.to_string());
  if (it == impl_->peers.end() || it->second.session == nullptr) return std::nullopt;
  coap_tls_library_t library = COAP_TLS_LIBRARY_NOTLS;
  void* tls = coap_session_get_tls(it->second.session, &library);
  if (library != COAP_TLS_LIBRARY_OPENSSL) return std::nullopt;
  return openssl_cipher_name(static_cast<const SSL*>(tls));
}

}  // namespace fogm2m::server
