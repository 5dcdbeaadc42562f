#include "emulated_clients/bootstrap_client.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <functional>

#include "emulated_clients/device_objects.h"
#include "emulated_clients/splitmix.h"
#include "lwm2m/coap_code.h"
#include "lwm2m/coap_uri.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/object_ids.h"

namespace fogm2m::emulated {

using boost::asio::ip::udp;
using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ObjectInstance;
using lwm2m::Path;
using lwm2m::Resource;
using lwm2m::Value;

namespace {

using lwm2m::object_id::kSecurity;
using lwm2m::object_id::kServer;

const Value* value_of(const ObjectInstance& oi, uint16_t id) {
  const Resource* r = oi.find(id);
  return r && !r->multiple ? &r->value : nullptr;
}

// Replaces or adds `r` in `oi`, keeping resources sorted by id.
void put_resource(ObjectInstance& oi, Resource r) {
  auto it = oi.resources.begin();
  while (it != oi.resources.end() && it->id < r.id) ++it;
  if (it != oi.resources.end() && it->id == r.id)
    *it = std::move(r);
  else
    oi.resources.insert(it, std::move(r));
}

}  // namespace

BootstrapClient::BootstrapClient(std::string endpoint, uint64_t seed)
    : endpoint_(std::move(endpoint)), rng_(seed) {}

CoapMessage BootstrapClient::start() {
  state_ = State::kRequesting;
  error_.clear();
  const uint32_t t = static_cast<uint32_t>(splitmix64(rng_));
  token_.assign(reinterpret_cast<const char*>(&t), sizeof t);
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = coap_code(CoapCode::kPost);
  m.token = token_;
  m.set_uri_path("/bs");
  m.add_uri_query("ep=" + endpoint_);
  return m;
}

bool BootstrapClient::handle_response(const CoapMessage& response) {
  if (state_ != State::kRequesting || response.token != token_ || !response.is_response())
    return false;
  if (response.code == coap_code(CoapCode::kChanged)) {
    state_ = State::kWaiting;
  } else {
    fail("Bootstrap-Request answered " + lwm2m::coap_code_string(response.code) +
         (response.payload.empty() ? std::string() : ": " + response.payload));
  }
  return true;
}

void BootstrapClient::fail(std::string why) {
  state_ = State::kFailed;
  error_ = std::move(why);
}

uint8_t BootstrapClient::apply_write(const CoapMessage& request, const Path& path,
                                     std::string& diagnostic) {
  const auto number = request.content_format();
  const auto format = lwm2m::content_format_from_number(
      number.value_or(static_cast<uint32_t>(lwm2m::ContentFormat::kTlv)));
  if (!format) return coap_code(CoapCode::kUnsupportedContentFormat);
  const std::span<const uint8_t> payload(reinterpret_cast<const uint8_t*>(request.payload.data()),
                                         request.payload.size());
  auto node = lwm2m::decode(*format, path, payload, DeviceObjects::models());
  if (!node) {
    diagnostic = node.error().message;
    return coap_code(CoapCode::kBadRequest);
  }
  auto& instances = path.object_id() == kSecurity ? security_ : server_;
  if (path.is_object_instance()) {
    instances[path.instance_id()] = std::get<ObjectInstance>(*node);
  } else {
    ObjectInstance& oi = instances[path.instance_id()];
    oi.id = path.instance_id();
    put_resource(oi, std::get<Resource>(*node));
  }
  return coap_code(CoapCode::kChanged);
}

CoapMessage BootstrapClient::handle_request(const CoapMessage& request) {
  CoapMessage resp;
  resp.type = request.type == CoapType::kCon ? CoapType::kAck : CoapType::kNon;
  resp.message_id = request.type == CoapType::kCon ? request.message_id : 0;
  resp.token = request.token;
  resp.code = coap_code(CoapCode::kMethodNotAllowed);
  const std::string uri = request.uri_path();
  if (uri == "/bs" && request.code == coap_code(CoapCode::kPost)) {
    auto acc = account();
    if (!acc) {
      resp.code = coap_code(CoapCode::kNotAcceptable);
      resp.payload = acc.error().message;
      return resp;
    }
    result_ = std::move(*acc);
    state_ = State::kFinished;
    resp.code = coap_code(CoapCode::kChanged);
    return resp;
  }
  auto path = Path::parse(uri);
  if (!path) {
    resp.code = coap_code(CoapCode::kNotFound);
    return resp;
  }
  const bool ours =
      path->is_root() || path->object_id() == kSecurity || path->object_id() == kServer;
  if (!ours) return resp;  // 4.05: bootstrap writes only the Security and Server objects here
  if (request.code == coap_code(CoapCode::kDelete) && path->depth() <= 2) {
    if (path->is_root() || (path->is_object() && path->object_id() == kSecurity)) security_.clear();
    if (path->is_root() || (path->is_object() && path->object_id() == kServer)) server_.clear();
    if (path->is_object_instance())
      (path->object_id() == kSecurity ? security_ : server_).erase(path->instance_id());
    resp.code = coap_code(CoapCode::kDeleted);
    return resp;
  }
  if (request.code == coap_code(CoapCode::kPut) &&
      (path->is_object_instance() || path->is_resource())) {
    resp.code = apply_write(request, *path, resp.payload);
    return resp;
  }
  return resp;
}

Result<BootstrapResult> BootstrapClient::account() const {
  auto unusable = [](const std::string& why) {
    return make_error(ErrorKind::kInvalidArgument, "no usable LwM2M server account: " + why);
  };
  for (const auto& [id, sec] : security_) {
    const Value* bootstrap = value_of(sec, 1);
    if (bootstrap && bootstrap->is<bool>() && bootstrap->as<bool>()) continue;
    const Value* uri = value_of(sec, 0);
    if (!uri || !uri->is<std::string>())
      return unusable("/0/" + std::to_string(id) + " has no server URI");
    if (auto parsed = lwm2m::parse_coap_uri(uri->as<std::string>()); !parsed)
      return unusable(parsed.error().message);
    BootstrapResult r;
    r.server_uri = uri->as<std::string>();
    const Value* mode = value_of(sec, 2);
    const int64_t m = mode && mode->is<int64_t>() ? mode->as<int64_t>() : -1;
    if (m != 0 && m != 3)
      return unusable("security mode " + std::to_string(m) + " (only 0 PSK and 3 NoSec)");
    r.psk = m == 0;
    if (r.psk) {
      const Value* identity = value_of(sec, 3);
      const Value* key = value_of(sec, 5);
      if (!identity || !identity->is<lwm2m::Opaque>() || identity->as<lwm2m::Opaque>().empty() ||
          !key || !key->is<lwm2m::Opaque>() || key->as<lwm2m::Opaque>().empty())
        return unusable("PSK without identity or key");
      r.psk_identity.assign(identity->as<lwm2m::Opaque>().begin(),
                            identity->as<lwm2m::Opaque>().end());
      r.psk_key.assign(key->as<lwm2m::Opaque>().begin(), key->as<lwm2m::Opaque>().end());
    }
    const Value* ssid = value_of(sec, 10);
    if (!ssid || !ssid->is<int64_t>())
      return unusable("/0/" + std::to_string(id) + " has no Short Server ID");
    r.short_server_id = static_cast<uint16_t>(ssid->as<int64_t>());
    for (const auto& [sid, srv] : server_) {
      const Value* s = value_of(srv, 0);
      if (!s || !s->is<int64_t>() || s->as<int64_t>() != ssid->as<int64_t>()) continue;
      const Value* lifetime = value_of(srv, 1);
      if (lifetime && lifetime->is<int64_t>() && lifetime->as<int64_t>() > 0)
        r.lifetime_s = static_cast<uint32_t>(lifetime->as<int64_t>());
      return r;
    }
    return unusable("no Server instance with Short Server ID " + std::to_string(r.short_server_id));
  }
  return unusable("no Security instance of an LwM2M server");
}

// ---- UdpBootstrap ----------------------------------------------------------------

UdpBootstrap::UdpBootstrap(boost::asio::io_context& io, udp::endpoint server, std::string endpoint,
                           UdpBootstrapOptions options,
                           std::function<void(Result<BootstrapResult>)> done)
    : io_(io),
      server_(std::move(server)),
      options_(options),
      done_(std::move(done)),
      client_(endpoint, std::hash<std::string>{}(endpoint) | 1),
      socket_(io),
      retransmit_(io),
      deadline_(io),
      next_mid_(static_cast<uint16_t>(std::hash<std::string>{}(endpoint))) {}

UdpBootstrap::~UdpBootstrap() {
  *alive_ = false;
  boost::system::error_code ec;
  socket_.close(ec);
}

Status UdpBootstrap::start() {
  boost::system::error_code ec;
  socket_.open(server_.protocol(), ec);
  const auto local = options_.bind_address.value_or(
      server_.address().is_v4() ? boost::asio::ip::address(boost::asio::ip::address_v4::any())
                                : boost::asio::ip::address(boost::asio::ip::address_v6::any()));
  if (!ec) socket_.bind(udp::endpoint(local, 0), ec);
  if (ec) return make_error(ErrorKind::kIo, "bootstrap: cannot open a socket: " + ec.message());
  do_receive();
  request_ = client_.start();
  request_.message_id = next_mid_++;
  send(request_);
  arm_retransmission();
  deadline_.expires_after(options_.timeout);
  deadline_.async_wait([this, alive = alive_](const boost::system::error_code& e) {
    if (!*alive || e) return;
    client_.fail("no Bootstrap-Finish within the timeout");
    complete(make_error(ErrorKind::kTimeout, "bootstrap: " + client_.error()));
  });
  return {};
}

void UdpBootstrap::arm_retransmission() {
  retransmit_.expires_after(options_.ack_timeout * (1u << retransmissions_));
  retransmit_.async_wait([this, alive = alive_](const boost::system::error_code& e) {
    if (!*alive || e || client_.state() != BootstrapClient::State::kRequesting) return;
    if (retransmissions_ >= options_.max_retransmit) {
      client_.fail("the bootstrap server did not answer the Bootstrap-Request");
      complete(make_error(ErrorKind::kTimeout, "bootstrap: " + client_.error()));
      return;
    }
    ++retransmissions_;
    send(request_);
    arm_retransmission();
  });
}

void UdpBootstrap::send(const CoapMessage& m, std::function<void()> then) {
  auto bytes = lwm2m::encode_coap(m);
  if (!bytes) return;
  auto buf = std::make_shared<std::string>(std::move(*bytes));
  socket_.async_send_to(
      boost::asio::buffer(*buf), server_,
      [buf, then = std::move(then), alive = alive_](const boost::system::error_code&, size_t) {
        if (*alive && then) then();
      });
}

void UdpBootstrap::do_receive() {
  socket_.async_receive_from(
      boost::asio::buffer(rx_), sender_,
      [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
        if (!*alive || completed_ || ec == boost::asio::error::operation_aborted) return;
        if (!ec && sender_ == server_) {
          auto m = lwm2m::decode_coap(std::span<const uint8_t>(rx_.data(), n));
          if (m && m->is_request()) {
            CoapMessage resp = client_.handle_request(*m);
            if (resp.type == CoapType::kNon) resp.message_id = next_mid_++;
            if (client_.state() == BootstrapClient::State::kFinished) {
              // Answer Bootstrap-Finish, then hand the account over.
              send(resp, [this] { complete(*client_.result()); });
              return;
            }
            send(resp);
          } else if (m && m->is_response() && client_.handle_response(*m)) {
            retransmit_.cancel();
            if (client_.state() == BootstrapClient::State::kFailed) {
              complete(make_error(ErrorKind::kInvalidArgument, "bootstrap: " + client_.error()));
              return;
            }
          }
        }
        do_receive();
      });
}

void UdpBootstrap::complete(Result<BootstrapResult> r) {
  if (completed_) return;
  completed_ = true;
  retransmit_.cancel();
  deadline_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
  boost::asio::post(io_, [done = std::move(done_), r = std::move(r), alive = alive_]() mutable {
    if (*alive && done) done(std::move(r));
  });
}

Result<BootstrapResult> bootstrap_blocking(const udp::endpoint& server, const std::string& endpoint,
                                           UdpBootstrapOptions options) {
  boost::asio::io_context io;
  std::optional<Result<BootstrapResult>> outcome;
  UdpBootstrap b(io, server, endpoint, options,
                 [&outcome](Result<BootstrapResult> r) { outcome = std::move(r); });
  if (Status s = b.start(); !s) return s.error();
  io.run();
  if (!outcome) return make_error(ErrorKind::kTimeout, "bootstrap: no outcome");
  return std::move(*outcome);
}

}  // namespace fogm2m::emulated
