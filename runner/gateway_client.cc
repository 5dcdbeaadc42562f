// REST calls for bus requests, and the HTTP/1.1 client that sends them
// (contract in gateway_client.h).
#include "runner/gateway_client.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <cmath>

#include "lwm2m/content_format.h"

namespace fogm2m::runner {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;

namespace {

std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "0";
}

// Percent-encodes all but RFC 3986's unreserved characters.
std::string encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A query under construction: "?a=1&b=2".
struct Query {
  std::string text;
  void add(std::string_view name, const std::string& value) {
    text += text.empty() ? '?' : '&';
    text += name;
    text += '=';
    text += encode(value);
  }
};

// The text/plain form of a single resource's value: {"id":R,"value":V}
// (the "value" shorthand RequestMix writes with), nothing else.
std::optional<std::string> single_value_text(const json::value& node) {
  const json::object* o = node.if_object();
  if (o == nullptr) return std::nullopt;
  const json::value* v = o->if_contains("value");
  if (v == nullptr) return std::nullopt;
  for (const auto& [key, ignored] : *o)
    if (key != "id" && key != "value" && key != "type") return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_bool()) return std::string(v->get_bool() ? "true" : "false");
  if (v->is_int64()) return std::to_string(v->get_int64());
  if (v->is_uint64()) return std::to_string(v->get_uint64());
  if (v->is_double()) return number(v->get_double());
  return std::nullopt;
}

}  // namespace

Result<RestCall> make_rest_call(const bus::Request& r, double timeout_s) {
  using bus::RequestKind;
  if (!(timeout_s > 0) || !std::isfinite(timeout_s))
    return make_error(ErrorKind::kInvalidArgument, "REST call: timeout must be > 0");
  RestCall call;
  call.timeout = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(timeout_s * 1000)));
  std::string target = "/api/clients/" + encode(r.endpoint);
  if (!r.path.is_root()) target += r.path.to_string();
  Query q;
  auto format = [&] {
    if (r.content_format) q.add("format", lwm2m::to_name(*r.content_format));
  };
  switch (r.kind) {
    case RequestKind::kRead:
      call.method = http::verb::get;
      format();
      break;
    case RequestKind::kDiscover:
      call.method = http::verb::get;
      target += "/discover";
      break;
    case RequestKind::kWrite: {
      call.method = http::verb::put;
      if (!r.node)
        return make_error(ErrorKind::kInvalidArgument, "REST call: a write needs a node or value");
      format();
      if (!r.replace) q.add("replace", "false");
      std::optional<std::string> text;
      if (r.path.is_resource()) text = single_value_text(*r.node);
      if (text) {
        call.body = std::move(*text);
        call.content_type = "text/plain";
      } else {
        call.body = json::serialize(*r.node);
        call.content_type = "application/json";
      }
      break;
    }
    case RequestKind::kExecute:
      call.method = http::verb::post;
      call.body = r.parameters;
      if (!call.body.empty()) call.content_type = "text/plain";
      break;
    case RequestKind::kCreate:
      call.method = http::verb::post;
      call.body = r.node ? json::serialize(*r.node) : std::string("{}");
      call.content_type = "application/json";
      break;
    case RequestKind::kDelete:
      call.method = http::verb::delete_;
      break;
    case RequestKind::kObserve:
      call.method = http::verb::post;
      target += "/observe";
      format();
      break;
    case RequestKind::kCancelObserve:
      call.method = http::verb::delete_;
      target += "/observe";
      break;
    case RequestKind::kWriteAttributes: {
      call.method = http::verb::put;
      target += "/attributes";
      const bus::NotificationAttributes& a = r.attributes;
      if (a.empty())
        return make_error(ErrorKind::kInvalidArgument,
                          "REST call: write_attributes needs an attribute");
      if (a.pmin) q.add("pmin", std::to_string(*a.pmin));
      if (a.pmax) q.add("pmax", std::to_string(*a.pmax));
      if (a.gt) q.add("gt", number(*a.gt));
      if (a.lt) q.add("lt", number(*a.lt));
      if (a.st) q.add("st", number(*a.st));
      break;
    }
    case RequestKind::kReadComposite:
    case RequestKind::kObserveComposite:
    case RequestKind::kCancelObserveComposite: {
      call.method = r.kind == RequestKind::kReadComposite      ? http::verb::get
                    : r.kind == RequestKind::kObserveComposite ? http::verb::post
                                                               : http::verb::delete_;
      target += r.kind == RequestKind::kReadComposite ? "/composite" : "/composite/observe";
      if (r.paths.empty())
        return make_error(ErrorKind::kInvalidArgument, "REST call: a composite needs paths");
      std::string paths;
      for (const lwm2m::Path& p : r.paths) paths += (paths.empty() ? "" : ",") + p.to_string();
      q.add("paths", paths);
      if (r.kind != RequestKind::kCancelObserveComposite) format();
      break;
    }
    case RequestKind::kWriteComposite:
      call.method = http::verb::put;
      target += "/composite";
      if (!r.node || !r.node->is_object())
        return make_error(ErrorKind::kInvalidArgument,
                          "REST call: a composite write needs nodes by path");
      format();
      call.body = json::serialize(*r.node);
      call.content_type = "application/json";
      break;
    case RequestKind::kSecInfo:
      return make_error(ErrorKind::kUnsupported,
                        "REST call: sec_info is not a device request (the gateway's "
                        "/api/security/clients manages keys)");
  }
  q.add("timeout", number(timeout_s));
  call.target = std::move(target) + q.text;
  return call;
}

std::optional<double> server_timing_bus_ms(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view metric = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    const size_t semicolon = metric.find(';');
    if (trim(metric.substr(0, semicolon)) != "bus" || semicolon == std::string_view::npos) continue;
    std::string_view params = metric.substr(semicolon + 1);
    while (!params.empty()) {
      const size_t next = params.find(';');
      std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (!param.starts_with("dur=")) continue;
      param.remove_prefix(4);
      double ms = 0;
      auto [end, ec] = std::from_chars(param.data(), param.data() + param.size(), ms);
      if (ec != std::errc() || end != param.data() + param.size() || !std::isfinite(ms) || ms < 0)
        return std::nullopt;
      return ms;
    }
  }
  return std::nullopt;
}

std::string failure_reason(const GatewayReply& reply) {
  if (reply.status == 0) return "HTTP: " + reply.body;
  std::string line = reply.body.substr(0, reply.body.find_first_of("\r\n"));
  if (line.size() > 120) line = line.substr(0, 117) + "...";
  return "HTTP " + std::to_string(reply.status) + (line.empty() ? "" : ": " + line);
}

// --- the client ---------------------------------------------------------------

struct GatewayClient::Connection {
  explicit Connection(boost::asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  std::optional<http::response_parser<http::string_body>> parser;
  bool connected = false;
  bool busy = false;
  bool reused = false;  // the current call is not the connection's first
  Item item;
};

GatewayClient::GatewayClient(boost::asio::io_context& io, GatewayClientOptions options)
    : io_(io), options_(std::move(options)) {
  if (options_.max_connections == 0) options_.max_connections = 1;
  host_header_ = options_.host + ":" + std::to_string(options_.port);
  authorization_ = "Bearer " + options_.token;
}

GatewayClient::~GatewayClient() {
  for (auto& c : connections_) {
    beast::error_code ignored;
    c->stream.socket().close(ignored);
  }
}

void GatewayClient::call(RestCall call, Clock::time_point expires, Done done) {
  queue_.push_back(Item{std::move(call), expires, std::move(done), false});
  // Later, so `done` never runs inside call().
  boost::asio::post(io_, lifetime_.guard([this] { pump(); }));
}

void GatewayClient::pump() {
  while (!queue_.empty()) {
    if (queue_.front().expires <= Clock::now()) {
      Done done = std::move(queue_.front().done);
      queue_.pop_front();
      done(GatewayReply{0, "expired waiting for a connection", std::nullopt});
      continue;
    }
    ConnectionPtr idle;
    for (const auto& c : connections_)
      if (!c->busy && c->connected) {
        idle = c;
        break;
      }
    if (!idle) {
      if (connections_.size() >= options_.max_connections) return;  // the next one free takes it
      idle = std::make_shared<Connection>(io_);
      connections_.push_back(idle);
    }
    Item item = std::move(queue_.front());
    queue_.pop_front();
    start(idle, std::move(item));
  }
}

void GatewayClient::start(const ConnectionPtr& c, Item item) {
  c->busy = true;
  c->item = std::move(item);
  const RestCall& call = c->item.call;
  c->request = {};
  c->request.method(call.method);
  c->request.target(call.target);
  c->request.version(11);
  c->request.set(http::field::host, host_header_);
  c->request.set(http::field::authorization, authorization_);
  c->request.keep_alive(true);
  if (!call.content_type.empty()) c->request.set(http::field::content_type, call.content_type);
  c->request.body() = call.body;
  c->request.prepare_payload();
  if (c->connected) return write(c);
  connect(c);
}

void GatewayClient::connect(const ConnectionPtr& c) {
  beast::error_code ec;
  const auto address = boost::asio::ip::make_address(options_.host, ec);
  if (ec) return fail(c, "bad gateway address " + options_.host, false);
  auto open = [&] { c->stream.socket().open(address.is_v6() ? tcp::v6() : tcp::v4(), ec); };
  if (options_.around_connect)
    options_.around_connect(open);
  else
    open();
  if (ec || !c->stream.socket().is_open())
    return fail(c, "cannot open a socket: " + (ec ? ec.message() : std::string("not opened")),
                false);
  c->stream.expires_after(options_.connect_timeout);
  c->stream.async_connect(
      tcp::endpoint(address, options_.port),
      lifetime_.guard([this, c](beast::error_code connect_ec) {
        if (connect_ec)
          return fail(c, "connect to " + host_header_ + ": " + connect_ec.message(), false);
        c->connected = true;
        write(c);
      }));
}

void GatewayClient::write(const ConnectionPtr& c) {
  c->stream.expires_after(c->item.call.timeout + options_.answer_grace);
  http::async_write(c->stream, c->request, lifetime_.guard([this, c](beast::error_code ec, size_t) {
    if (ec) return fail(c, "write: " + ec.message(), true);
    read(c);
  }));
}

void GatewayClient::read(const ConnectionPtr& c) {
  c->parser.emplace();
  c->parser->body_limit(options_.max_body);
  http::async_read(
      c->stream, c->buffer, *c->parser, lifetime_.guard([this, c](beast::error_code ec, size_t) {
        if (ec) {
          // A keep-alive connection the gateway closed while it was idle
          // ends before any byte of an answer: worth one more try.
          const bool nothing = !c->parser->got_some();
          return fail(c,
                      ec == beast::error::timeout ? "no answer in time" : "read: " + ec.message(),
                      nothing && ec != beast::error::timeout);
        }
        http::response<http::string_body> response = c->parser->release();
        GatewayReply reply;
        reply.status = response.result_int();
        if (auto timing = response.find("Server-Timing"); timing != response.end())
          reply.bus_ms = server_timing_bus_ms(timing->value());
        reply.body = std::move(response.body());
        finish(c, std::move(reply), response.keep_alive());
      }));
}

void GatewayClient::finish(const ConnectionPtr& c, GatewayReply reply, bool keep) {
  Done done = std::move(c->item.done);
  c->item = {};
  c->busy = false;
  c->reused = true;
  if (!keep) drop(c);
  pump();
  done(std::move(reply));
}

void GatewayClient::fail(const ConnectionPtr& c, const std::string& why, bool may_retry) {
  Item item = std::move(c->item);
  c->item = {};
  const bool retry = may_retry && c->reused && !item.retried;
  drop(c);
  if (retry) {
    item.retried = true;
    queue_.push_front(std::move(item));
    pump();
    return;
  }
  pump();
  item.done(GatewayReply{0, why, std::nullopt});
}

void GatewayClient::drop(const ConnectionPtr& c) {
  const ConnectionPtr self = c;  // `c` may be the pool's own element, which erase moves
  beast::error_code ignored;
  self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  self->stream.close();
  std::erase(connections_, self);
}

}  // namespace fogm2m::runner
