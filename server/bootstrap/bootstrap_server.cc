#include "server/bootstrap/bootstrap_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/buffer.hpp>

#include "lwm2m/coap_code.h"
#include "lwm2m/codec/codec.h"

namespace fogm2m::server {

using boost::asio::ip::udp;
using lwm2m::coap_code;
using lwm2m::CoapCode;
using lwm2m::CoapMessage;
using lwm2m::CoapType;
using lwm2m::ContentFormat;
using lwm2m::ObjectInstance;
using lwm2m::Opaque;
using lwm2m::Path;
using lwm2m::Resource;

namespace {

CoapMessage make_request(CoapCode code, std::string_view path) {
  CoapMessage m;
  m.type = CoapType::kCon;
  m.code = coap_code(code);
  m.set_uri_path(path);
  return m;
}

CoapMessage write_instance(const Path& path, const ObjectInstance& instance) {
  CoapMessage m = make_request(CoapCode::kPut, path.to_string());
  m.add_uint_option(lwm2m::coap_option::kContentFormat, static_cast<uint32_t>(ContentFormat::kTlv));
  auto body = lwm2m::encode(ContentFormat::kTlv, path, instance);
  // The instances are built here from validated configuration: they encode.
  if (body) m.payload.assign(body->begin(), body->end());
  return m;
}

std::string step_name(const CoapMessage& m) {
  const char* method = m.code == coap_code(CoapCode::kDelete) ? "DELETE"
                       : m.code == coap_code(CoapCode::kPut)  ? "PUT"
                                                              : "POST";
  return method + (" " + m.uri_path());
}

}  // namespace

std::vector<CoapMessage> bootstrap_requests(const BootstrapEntry& entry) {
  std::vector<CoapMessage> steps;
  if (entry.delete_first) {
    steps.push_back(make_request(CoapCode::kDelete, "/0"));
    steps.push_back(make_request(CoapCode::kDelete, "/1"));
  }
  const auto ssid = static_cast<int64_t>(entry.short_server_id);
  const ObjectInstance security{
      1,
      {Resource::single(0, entry.server_uri), Resource::single(1, false),
       Resource::single(2, int64_t{entry.psk ? 0 : 3}),
       Resource::single(3, Opaque(entry.psk_identity.begin(), entry.psk_identity.end())),
       Resource::single(5, Opaque(entry.psk_key.begin(), entry.psk_key.end())),
       Resource::single(10, ssid)}};
  steps.push_back(write_instance(Path(0, 1), security));
  const ObjectInstance server{
      0,
      {Resource::single(0, ssid), Resource::single(1, static_cast<int64_t>(entry.lifetime_s)),
       Resource::single(6, false), Resource::single(7, "U")}};
  steps.push_back(write_instance(Path(1, 0), server));
  steps.push_back(make_request(CoapCode::kPost, "/bs"));
  return steps;
}

struct BootstrapServer::Session {
  Session(boost::asio::io_context& io, udp::endpoint p) : peer(std::move(p)), timer(io) {}
  udp::endpoint peer;
  std::string endpoint;
  uint16_t request_mid = 0;  // of the client's Bootstrap-Request
  CoapMessage request_answer;
  std::vector<CoapMessage> steps;
  size_t step = 0;
  unsigned retransmissions = 0;
  bool acked = false;  // the current step's CON was acknowledged (separate answer due)
  bool over = false;
  boost::asio::steady_timer timer;
};

BootstrapServer::BootstrapServer(boost::asio::io_context& io, BootstrapConfig config,
                                 BootstrapServerOptions options)
    : io_(io), config_(std::move(config)), options_(options), socket_(io) {}

BootstrapServer::~BootstrapServer() {
  *alive_ = false;
  stop();
}

Status BootstrapServer::start() {
  boost::system::error_code ec;
  const udp::endpoint local(options_.bind_address, options_.port);
  socket_.open(local.protocol(), ec);
  if (!ec) socket_.bind(local, ec);
  if (ec) {
    socket_.close();
    return make_error(ErrorKind::kIo, "bootstrap server: cannot bind " +
                                          options_.bind_address.to_string() + ":" +
                                          std::to_string(options_.port) + ": " + ec.message());
  }
  do_receive();
  return {};
}

void BootstrapServer::stop() {
  boost::system::error_code ec;
  socket_.close(ec);
  for (auto& [peer, s] : sessions_) s->timer.cancel();
  sessions_.clear();
}

uint16_t BootstrapServer::local_port() const {
  boost::system::error_code ec;
  return socket_.local_endpoint(ec).port();
}

void BootstrapServer::do_receive() {
  socket_.async_receive_from(
      boost::asio::buffer(rx_), sender_,
      [this, alive = alive_](const boost::system::error_code& ec, size_t n) {
        if (!*alive || ec == boost::asio::error::operation_aborted || !socket_.is_open()) return;
        if (!ec) {
          auto m = lwm2m::decode_coap(std::span<const uint8_t>(rx_.data(), n));
          if (m) on_datagram(sender_, *m);
        }
        do_receive();
      });
}

void BootstrapServer::send(const udp::endpoint& to, const CoapMessage& m) {
  auto bytes = lwm2m::encode_coap(m);
  if (!bytes) return;
  auto buf = std::make_shared<std::string>(std::move(*bytes));
  socket_.async_send_to(boost::asio::buffer(*buf), to,
                        [buf](const boost::system::error_code&, size_t) {});
}

void BootstrapServer::on_datagram(const udp::endpoint& from, const CoapMessage& m) {
  if (m.is_request()) {
    if (m.code == coap_code(CoapCode::kPost) && m.uri_path() == "/bs") {
      on_bootstrap_request(from, m);
      return;
    }
    CoapMessage answer;
    answer.type = m.type == CoapType::kCon ? CoapType::kAck : CoapType::kNon;
    answer.message_id = m.type == CoapType::kCon ? m.message_id : next_mid_++;
    answer.token = m.token;
    answer.code = coap_code(CoapCode::kNotFound);
    send(from, answer);
    return;
  }
  on_answer(from, m);
}

void BootstrapServer::on_bootstrap_request(const udp::endpoint& from, const CoapMessage& m) {
  if (auto it = sessions_.find(from);
      it != sessions_.end() && it->second->request_mid == m.message_id) {
    send(from, it->second->request_answer);  // a retransmission: the same answer
    return;
  }
  CoapMessage answer;
  answer.type = m.type == CoapType::kCon ? CoapType::kAck : CoapType::kNon;
  answer.message_id = m.type == CoapType::kCon ? m.message_id : next_mid_++;
  answer.token = m.token;
  const auto ep = m.query_value("ep");
  const BootstrapEntry* entry = ep && !ep->empty() ? config_.find(*ep) : nullptr;
  if (entry == nullptr) {
    answer.code = coap_code(CoapCode::kBadRequest);
    answer.payload = !ep || ep->empty()
                         ? std::string("Bootstrap-Request without ep=")
                         : "no bootstrap configuration for endpoint \"" + std::string(*ep) + "\"";
    spdlog::warn("bootstrap: {} from {}:{}", answer.payload, from.address().to_string(),
                 from.port());
    send(from, answer);
    if (on_done) on_done(BootstrapOutcome{ep ? std::string(*ep) : "", false, answer.payload});
    return;
  }
  answer.code = coap_code(CoapCode::kChanged);
  if (auto it = sessions_.find(from); it != sessions_.end()) {
    it->second->over = true;
    it->second->timer.cancel();
  }
  auto s = std::make_shared<Session>(io_, from);
  s->endpoint = std::string(*ep);
  s->request_mid = m.message_id;
  s->request_answer = answer;
  s->steps = bootstrap_requests(*entry);
  sessions_[from] = s;
  spdlog::info("bootstrap: {} from {}:{}: {} requests", s->endpoint, from.address().to_string(),
               from.port(), s->steps.size());
  send(from, answer);
  send_step(s);
}

void BootstrapServer::send_step(const std::shared_ptr<Session>& s) {
  CoapMessage& step = s->steps[s->step];
  step.message_id = next_mid_++;
  const uint32_t t = next_token_++;
  step.token.assign(reinterpret_cast<const char*>(&t), sizeof t);
  s->retransmissions = 0;
  s->acked = false;
  send(s->peer, step);
  arm(s);
}

void BootstrapServer::arm(const std::shared_ptr<Session>& s) {
  s->timer.expires_after(options_.ack_timeout * (1u << s->retransmissions));
  s->timer.async_wait([this, s, alive = alive_](const boost::system::error_code& ec) {
    if (!*alive || ec || s->over) return;
    if (s->acked || s->retransmissions >= options_.max_retransmit) {
      finish(s, false, step_name(s->steps[s->step]) + ": no answer");
      return;
    }
    ++s->retransmissions;
    send(s->peer, s->steps[s->step]);
    arm(s);
  });
}

void BootstrapServer::on_answer(const udp::endpoint& from, const CoapMessage& m) {
  auto it = sessions_.find(from);
  if (it == sessions_.end()) return;
  const std::shared_ptr<Session> s = it->second;
  if (s->over) return;
  const CoapMessage& step = s->steps[s->step];
  if (m.type == CoapType::kRst && m.message_id == step.message_id) {
    finish(s, false, step_name(step) + ": reset by the client");
    return;
  }
  if (m.type == CoapType::kAck && m.code == 0 && m.message_id == step.message_id) {
    s->acked = true;  // a separate answer follows; the timer now bounds the wait
    return;
  }
  if (!m.is_response() || m.token != step.token) return;
  if (m.type == CoapType::kCon) {
    CoapMessage ack;
    ack.type = CoapType::kAck;
    ack.message_id = m.message_id;
    send(from, ack);
  }
  if (!lwm2m::is_success(m.code)) {
    finish(s, false,
           step_name(step) + ": " + lwm2m::coap_code_string(m.code) +
               (m.payload.empty() ? std::string() : " " + m.payload));
    return;
  }
  if (++s->step == s->steps.size()) {
    finish(s, true, "finished");
    return;
  }
  s->timer.cancel();
  send_step(s);
}

void BootstrapServer::finish(const std::shared_ptr<Session>& s, bool ok, std::string message) {
  s->over = true;
  s->timer.cancel();
  if (ok)
    spdlog::info("bootstrap: {} finished", s->endpoint);
  else
    spdlog::warn("bootstrap: {} failed: {}", s->endpoint, message);
  if (on_done) on_done(BootstrapOutcome{s->endpoint, ok, std::move(message)});
}

}  // namespace fogm2m::server
