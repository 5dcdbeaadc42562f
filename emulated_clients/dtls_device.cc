#include "emulated_clients/dtls_device.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <netinet/in.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cmath>
#include <cstring>
#include <string_view>
#include <utility>

#include "emulated_clients/callback_chain.h"
#include "emulated_clients/splitmix.h"
#include "io/coap_pdu_convert.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/path.h"

namespace fogm2m::emulated {

namespace asio = boost::asio;
using asio::ip::udp;
using lwm2m::CoapMessage;
using lwm2m::CoapType;

namespace {

// Requests remembered for duplicate detection: the server has few requests
// in flight towards one device.
constexpr size_t kAnsweredKept = 4;

coap_address_t to_coap_address(const udp::endpoint& endpoint) {
  coap_address_t out;
  coap_address_init(&out);
  std::memcpy(&out.addr, endpoint.data(), endpoint.size());
  out.size = static_cast<socklen_t>(endpoint.size());
  return out;
}

udp::endpoint to_endpoint(const coap_address_t* address) {
  udp::endpoint out;
  if (address == nullptr) return out;
  const sockaddr* sa = &address->addr.sa;
  if (sa->sa_family == AF_INET) {
    std::memcpy(out.data(), &address->addr.sin, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(out.data(), &address->addr.sin6, sizeof(sockaddr_in6));
  }
  return out;
}

// The opaque value of a Security-object resource (/0/0/3 identity, /0/0/5 key).
std::string security_bytes(const Device& device, uint16_t resource, TimePoint now) {
  auto node = device.read_local(lwm2m::Path(0, 0, resource), now);
  if (!node) return {};
  const auto* r = std::get_if<lwm2m::Resource>(&*node);
  if (r == nullptr) return {};
  const auto* bytes = r->value.get_if<lwm2m::Opaque>();
  if (bytes == nullptr) return {};
  return std::string(bytes->begin(), bytes->end());
}

void wipe(std::string& secret) {
  volatile char* p = secret.data();
  for (size_t i = 0; i < secret.size(); ++i) p[i] = 0;
  secret.clear();
}

}  // namespace

// ---------------------------------------------------------------------------
// libcoap's callbacks: find the device of the session and hand over.
// ---------------------------------------------------------------------------

struct DtlsDevice::Callbacks {
  static DtlsDevice* of(const coap_session_t* session) {
    return session != nullptr ? static_cast<DtlsDevice*>(coap_session_get_app_data(session))
                              : nullptr;
  }

  static void request(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request,
                      const coap_string_t*, coap_pdu_t* response) {
    DtlsDevice* device = of(session);
    if (device == nullptr || !device->running_) {
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE);
      return;
    }
    CoapMessage answer;
    device->on_request(io::coap_message_from_pdu(request), answer);
    // The response carries the request's token and type already.
    if (!io::fill_pdu(answer, response).ok())
      coap_pdu_set_code(response, COAP_RESPONSE_CODE_INTERNAL_ERROR);
  }

  static coap_response_t response(coap_session_t* session, const coap_pdu_t*,
                                  const coap_pdu_t* received, const coap_mid_t) {
    DtlsDevice* device = of(session);
    if (device == nullptr || !device->running_) return COAP_RESPONSE_FAIL;
    return device->on_response(io::coap_message_from_pdu(received)) ? COAP_RESPONSE_OK
                                                                    : COAP_RESPONSE_FAIL;
  }

  static void nack(coap_session_t* session, const coap_pdu_t* sent, const coap_nack_reason_t reason,
                   const coap_mid_t) {
    DtlsDevice* device = of(session);
    if (device == nullptr || sent == nullptr || !device->running_) return;
    device->on_nack(io::coap_message_from_pdu(sent), static_cast<int>(reason));
  }

  static int event(coap_session_t* session, const coap_event_t event) {
    DtlsDevice* device = of(session);
    if (device != nullptr && device->session_ == session) device->on_event(static_cast<int>(event));
    return 0;
  }
};

// ---------------------------------------------------------------------------
// DtlsClientContext
// ---------------------------------------------------------------------------

DtlsClientContext::DtlsClientContext(asio::io_context& io) : io_(io) {}

DtlsClientContext::~DtlsClientContext() {
  if (driver_) driver_->stop();
  driver_.reset();
  if (ctx_ != nullptr) coap_free_context(ctx_);
}

Result<std::unique_ptr<DtlsClientContext>> DtlsClientContext::create(asio::io_context& io) {
  std::unique_ptr<DtlsClientContext> self(new DtlsClientContext(io));
  if (coap_dtls_is_supported() == 0)
    return make_error(ErrorKind::kUnsupported, "DTLS devices: libcoap was built without DTLS");
  self->ctx_ = coap_new_context(nullptr);
  if (self->ctx_ == nullptr)
    return make_error(ErrorKind::kIo, "DTLS devices: cannot create a libcoap context");
  coap_set_app_data(self->ctx_, self.get());
  coap_register_response_handler(self->ctx_, &DtlsDevice::Callbacks::response);
  coap_register_nack_handler(self->ctx_, &DtlsDevice::Callbacks::nack);
  coap_register_event_handler(self->ctx_, &DtlsDevice::Callbacks::event);

  // Every request of a server, whatever its method and path, goes to the
  // device of the session it came on.
  coap_resource_t* any = coap_resource_unknown_init2(&DtlsDevice::Callbacks::request, 0);
  if (any == nullptr)
    return make_error(ErrorKind::kIo, "DTLS devices: cannot create the request resource");
  for (coap_request_t method :
       {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_PUT, COAP_REQUEST_DELETE,
        COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH})
    coap_register_request_handler(any, method, &DtlsDevice::Callbacks::request);
  coap_add_resource(self->ctx_, any);

  self->driver_ = std::make_unique<io::CoapAsioDriver>(io, self->ctx_);
  if (Status st = self->driver_->start(); !st.ok()) return st.error();
  return self;
}

void DtlsClientContext::kick() {
  if (driver_) driver_->kick();
}

// ---------------------------------------------------------------------------
// DtlsDevice: life cycle
// ---------------------------------------------------------------------------

DtlsDevice::DtlsDevice(DtlsClientContext& context, udp::endpoint server, Device device,
                       DtlsDeviceOptions options)
    : context_(context),
      server_(server),
      device_(std::move(device)),
      options_(std::move(options)),
      timer_(context.io(),
             [this](TimePoint now) {
               if (running_) service(now);
             }),
      watch_(context.io(), options_.on_registration_state),
      rng_(options_.seed != 0 ? options_.seed : device_.seed() ^ 0xD715D715D715ull),
      answered_(kAnsweredKept) {
  ++context_.devices_;
}

DtlsDevice::~DtlsDevice() {
  running_ = false;
  release_session();
  --context_.devices_;
}

udp::endpoint DtlsDevice::local_endpoint() const {
  if (session_ == nullptr) return {};
  return to_endpoint(coap_session_get_addr_local(session_));
}

Status DtlsDevice::start() {
  if (running_) return make_error(ErrorKind::kInvalidArgument, "DtlsDevice already running");
  running_ = true;
  stopping_ = false;
  if (Status st = open_session(); !st.ok()) {
    running_ = false;
    return st;
  }
  const TimePoint now = Clock::now();
  device_.start(now, options_.register_on_start);
  service(now);
  return {};
}

Status DtlsDevice::open_session() {
  const TimePoint now = Clock::now();
  std::string identity = security_bytes(device_, 3, now);
  std::string key = security_bytes(device_, 5, now);
  if (identity.empty() || key.empty()) {
    wipe(key);
    return make_error(ErrorKind::kInvalidArgument,
                      "DtlsDevice " + device_.endpoint() + ": no PSK identity and key");
  }
  const asio::ip::address bind = options_.bind_address.value_or(
      server_.protocol() == udp::v6() ? asio::ip::address(asio::ip::address_v6::any())
                                      : asio::ip::address(asio::ip::address_v4::any()));
  // libcoap binds its client sockets with SO_REUSEADDR, and Linux then may
  // hand out an ephemeral port that another such socket already holds (two
  // devices on one source port; libcoap refuses the second session). So the
  // port is picked by a socket without SO_REUSEADDR, which only gets a port
  // no socket holds, and passed to libcoap right after that socket closes.
  boost::system::error_code ec;
  udp::socket probe(context_.io());
  probe.open(server_.protocol(), ec);
  if (!ec) probe.bind(udp::endpoint(bind, 0), ec);
  const uint16_t port = ec ? 0 : probe.local_endpoint(ec).port();
  probe.close();
  if (ec || port == 0) {
    wipe(key);
    return make_error(ErrorKind::kIo, "DtlsDevice " + device_.endpoint() + ": cannot bind " +
                                          bind.to_string() + ": " + ec.message());
  }
  const coap_address_t local = to_coap_address(udp::endpoint(bind, port));
  const coap_address_t remote = to_coap_address(server_);

  coap_dtls_cpsk_t setup;
  std::memset(&setup, 0, sizeof(setup));
  setup.version = COAP_DTLS_CPSK_SETUP_VERSION;
  setup.psk_info.identity = {identity.size(), reinterpret_cast<const uint8_t*>(identity.data())};
  setup.psk_info.key = {key.size(), reinterpret_cast<const uint8_t*>(key.data())};
  // libcoap copies identity and key; the handshake starts here.
  coap_session_t* session =
      coap_new_client_session_psk2(context_.ctx_, &local, &remote, COAP_PROTO_DTLS, &setup);
  wipe(key);
  if (session == nullptr)
    return make_error(ErrorKind::kIo, "DtlsDevice " + device_.endpoint() +
                                          ": libcoap cannot create a DTLS session from " +
                                          bind.to_string() + " to " +
                                          server_.address().to_string() + ":" +
                                          std::to_string(server_.port()));
  coap_session_set_app_data(session, this);
  // One retransmission of libcoap's, then the timeout is reported (libcoap
  // ignores 0; see the header).
  coap_session_set_max_retransmit(session, 1);
  coap_session_set_ack_random_factor(session, coap_fixed_point_t{1, 0});
  session_ = session;
  connected_ = false;
  session_failed_ = false;
  request_timeouts_ = 0;
  handshake_deadline_ = Clock::now() + options_.handshake_timeout;
  context_.kick();
  return {};
}

// Releases the session without letting its last callbacks reach the device,
// and settles what it still carried: requests fail, observations end.
void DtlsDevice::release_session() {
  if (session_ != nullptr) {
    coap_session_set_app_data(session_, nullptr);
    coap_session_release(session_);
    session_ = nullptr;
  }
  connected_ = false;
  session_failed_ = false;
  handshake_deadline_ = TimePoint::max();
  std::vector<Pending> lost = std::exchange(pending_, {});
  answered_.clear();
  if (!running_) return;
  const TimePoint now = Clock::now();
  for (Pending& p : lost) {
    ++stats_.timeouts;
    device_.on_timeout(p.token, now);
  }
}

void DtlsDevice::stop(std::function<void()> on_stopped) {
  if (!running_) {
    if (on_stopped) asio::post(context_.io(), std::move(on_stopped));
    return;
  }
  append_callback(on_stopped_, std::move(on_stopped));  // stop() again while stopping: call both
  if (stopping_) return;
  stopping_ = true;
  const TimePoint now = Clock::now();
  // The observations end with the registration; so do their retransmissions.
  std::erase_if(pending_, [](const Pending& p) { return p.notification; });
  outgoing_.clear();
  auto dereg = device_.deregister(now);
  if (dereg && connected_) {
    outgoing_.push_back(std::move(*dereg));
    send_all(outgoing_, now);
    report_state();
    arm_timer();
    return;
  }
  // No session to carry the De-register (it failed since registering): the
  // request counts as timed out rather than waiting for a new handshake.
  if (dereg) device_.on_timeout(dereg->token, now);
  finish_stop();
}

void DtlsDevice::finish_stop() {
  running_ = false;  // before the release: nothing is reported to Device any more
  stopping_ = false;
  release_session();
  pending_.clear();
  outgoing_.clear();
  timer_.cancel();
  report_state();
  if (on_stopped_) asio::post(context_.io(), std::exchange(on_stopped_, nullptr));
}

void DtlsDevice::report_state() {
  watch_.report(device_.registration_state());
}

// ---------------------------------------------------------------------------
// Sending and time
// ---------------------------------------------------------------------------

// Sends one message on the session, a CON with the ACK timeout of
// `retransmission`; `again` resends one with its message ID kept. False when
// libcoap refused it.
bool DtlsDevice::send(CoapMessage& m, const lwm2m::ConRetransmission& retransmission, bool again) {
  if (session_ == nullptr) return false;
  if (!again) m.message_id = static_cast<uint16_t>(coap_new_message_id(session_));
  if (m.type == CoapType::kCon)
    coap_session_set_ack_timeout(session_, io::to_coap_fixed_point(retransmission.timeout()));
  coap_pdu_t* pdu = io::make_pdu(m, coap_session_max_pdu_size(session_));
  if (pdu == nullptr) return false;
  if (coap_send(session_, pdu) == COAP_INVALID_MID) return false;
  ++stats_.datagrams_out;
  return true;
}

void DtlsDevice::send_all(std::vector<CoapMessage>& messages, TimePoint now) {
  if (session_ == nullptr && running_ && !messages.empty()) {
    if (!open_session().ok()) {
      // Cannot reach the server at all: the requests fail like timeouts.
      for (const CoapMessage& m : messages) {
        ++stats_.timeouts;
        device_.on_timeout(m.token, now);
      }
      messages.clear();
      return;
    }
  }
  std::vector<std::string> failed;
  for (CoapMessage& m : messages) {
    const bool notification = m.is_response();
    if (m.type == CoapType::kCon && notification) {
      // A newer CON notification replaces an unacknowledged older one
      // (RFC 7641 4.5.2); the older one's verdict is ignored.
      std::erase_if(pending_,
                    [&](const Pending& p) { return p.notification && p.token == m.token; });
    }
    // Only a CON is retransmitted: a NON (most notifications) draws no jitter.
    const double jitter = m.type == CoapType::kCon ? uniform01(rng_) : 0.0;
    const lwm2m::ConRetransmission retransmission(options_.transmission, jitter);
    if (!send(m, retransmission, /*again=*/false)) {
      if (m.type == CoapType::kCon) failed.push_back(m.token);
      continue;
    }
    if (m.type == CoapType::kCon)
      pending_.push_back(
          Pending{m.message_id, notification, false, retransmission, m.token, std::nullopt});
  }
  messages.clear();
  context_.kick();
  for (const std::string& token : failed) {
    ++stats_.timeouts;
    device_.on_timeout(token, now);
  }
}

// Everything that must not run inside a libcoap callback: releasing a failed
// session, retransmissions, the device's tick, the end of a stop, then the
// timer for whatever comes next.
void DtlsDevice::service(TimePoint now) {
  if (!running_) return;
  if (session_ != nullptr && !connected_ && !session_failed_ && now >= handshake_deadline_) {
    ++stats_.handshake_failures;
    session_failed_ = true;
  }
  if (session_failed_) {
    release_session();
    if (std::exchange(update_after_release_, false)) device_.request_update();
  }
  bool resent = false;
  for (Pending& p : pending_) {
    if (!p.resend) continue;
    CoapMessage m = std::move(*p.resend);
    p.resend.reset();
    if (send(m, p.retransmission, /*again=*/true)) {
      ++stats_.retransmissions;
      resent = true;
    } else {
      p.failed = true;  // settled below
    }
  }
  std::vector<std::string> given_up;
  std::erase_if(pending_, [&](Pending& p) {
    if (!p.failed) return false;
    given_up.push_back(std::move(p.token));
    return true;
  });
  for (const std::string& token : given_up) {
    ++stats_.timeouts;
    device_.on_timeout(token, now);
  }
  if (resent) context_.kick();
  if (!stopping_ && device_.next_deadline() <= now) {
    device_.tick(now, outgoing_);
    send_all(outgoing_, now);
  }
  // Acknowledged CON notifications are not reported by libcoap; their
  // entries go with their observation.
  std::erase_if(pending_, [&](const Pending& p) {
    return p.notification && !device_.has_observation(p.token);
  });
  report_state();
  if (stopping_ && device_.registration_state() != RegistrationState::kDeregistering) {
    finish_stop();
    return;
  }
  arm_timer();
}

void DtlsDevice::post_service() {
  if (service_posted_) return;
  service_posted_ = true;
  asio::post(context_.io(), lifetime_.guard([this] {
    service_posted_ = false;
    service(Clock::now());
  }));
}

void DtlsDevice::arm_timer() {
  TimePoint due = stopping_ ? TimePoint::max() : device_.next_deadline();
  if (session_ != nullptr && !connected_) due = std::min(due, handshake_deadline_);
  timer_.arm(due);
}

// ---------------------------------------------------------------------------
// From libcoap (inside coap_io_process: no libcoap calls on the session here)
// ---------------------------------------------------------------------------

void DtlsDevice::on_request(const CoapMessage& request, CoapMessage& response) {
  ++stats_.datagrams_in;
  const TimePoint now = Clock::now();
  if (const CoapMessage* answer = answered_.find(request.message_id, now)) {
    ++stats_.duplicates;
    response = *answer;
    return;
  }
  response = device_.handle_request(request, now);
  if (request.type == CoapType::kCon)
    answered_.remember(request.message_id, now + options_.transmission.exchange_lifetime) =
        response;
  ++stats_.datagrams_out;
  post_service();  // an observation may have started: the deadline moved
}

bool DtlsDevice::on_response(const CoapMessage& response) {
  ++stats_.datagrams_in;
  request_timeouts_ = 0;
  std::erase_if(pending_,
                [&](const Pending& p) { return !p.notification && p.token == response.token; });
  const bool mine = device_.handle_response(response, Clock::now());
  post_service();
  return mine;
}

void DtlsDevice::on_nack(const CoapMessage& sent, int reason) {
  const bool timed_out = reason == COAP_NACK_TOO_MANY_RETRIES;
  if (timed_out) ++stats_.retransmissions;  // libcoap's one (see the header)
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.message_id == sent.message_id; });
  // Silence on an established session (see "silence" in the header): a
  // notification's timeout (of one still pending, or of one a newer one
  // replaced), or a request's second in a row. The release settles what
  // the session carried.
  if (timed_out && connected_ && !session_failed_) {
    const bool request = it != pending_.end() && !it->notification;
    if (!request || ++request_timeouts_ >= 2) return abandon_session();
  }
  if (it == pending_.end()) return;  // superseded, or not a CON of ours
  if (timed_out && !session_failed_ && it->retransmission.next()) {
    it->resend = sent;
    post_service();
    return;
  }
  const std::string token = std::move(it->token);
  pending_.erase(it);
  if (reason == COAP_NACK_RST) {
    ++stats_.resets_in;
    device_.on_reset(token, Clock::now());
  } else {
    ++stats_.timeouts;
    device_.on_timeout(token, Clock::now());
  }
  post_service();
}

// Released at the next service(); an Update then goes out on the new
// session.
void DtlsDevice::abandon_session() {
  ++stats_.sessions_abandoned;
  give_up_session();
}

Status DtlsDevice::rebind() {
  if (!running_) return make_error(ErrorKind::kInvalidArgument, "DtlsDevice not running");
  ++stats_.rebinds;
  if (session_ != nullptr && !session_failed_) give_up_session();  // else a new one comes anyway
  return {};
}

void DtlsDevice::give_up_session() {
  request_timeouts_ = 0;
  connected_ = false;
  session_failed_ = true;
  update_after_release_ = true;
  post_service();
}

void DtlsDevice::on_event(int event) {
  switch (event) {
    case COAP_EVENT_DTLS_CONNECTED:
      connected_ = true;
      handshake_deadline_ = TimePoint::max();
      ++stats_.handshakes;
      break;
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_DTLS_ERROR:
    case COAP_EVENT_SESSION_CLOSED:
    case COAP_EVENT_SESSION_FAILED:
      if (session_failed_) break;  // one failure, several events
      if (connected_) {
        // An established session lost (its node's port refused a datagram,
        // the peer closed it): announce the device again on a new one, as
        // after silence.
        ++stats_.session_failures;
        update_after_release_ = true;
      } else {
        ++stats_.handshake_failures;
      }
      connected_ = false;
      session_failed_ = true;
      post_service();
      break;
    default:
      break;
  }
}

}  // namespace fogm2m::emulated
