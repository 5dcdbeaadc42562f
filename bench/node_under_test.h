// A whole node on in-memory stores and the in-memory bus, serving one
// registered emulated accelerometer played by a transport that answers at
// once: the node's own work per message, without sockets or Redis. Shared
// by node_path_bench (the gate's read and notification paths) and
// node_request_kinds_bench (each kind of request).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "bench/emulated_accelerometer.h"
#include "bus/request.h"
#include "lwm2m/codec/codec.h"
#include "lwm2m/content_format.h"
#include "server/node.h"

namespace fogm2m::server::bench_support {

namespace opt = lwm2m::coap_option;

[[noreturn]] inline void fail(const std::string& why) {
  std::fprintf(stderr, "node_path_bench: %s\n", why.c_str());
  std::abort();
}

// Devices that answer every request at once (posted, as a socket would):
// 2.05 with what the emulated accelerometer holds at the path, in TLV
// (encoded once per path: the device's work is not the node's), and
// Observe 1 when asked to observe; anything but a GET gets 2.04 Changed.
class AnsweringDevices final : public CoapTransport {
 public:
  explicit AnsweringDevices(boost::asio::io_context& io) : io_(io) {}

  void set_handlers(Handlers handlers) override { handlers_ = std::move(handlers); }
  void stop() override {}

  void send_request(const PeerInfo&, lwm2m::CoapMessage request, std::chrono::milliseconds,
                    ResponseHandler done) override {
    lwm2m::CoapMessage response;
    response.type = lwm2m::CoapType::kAck;
    response.token = request.token;
    if (request.code != lwm2m::coap_code(lwm2m::CoapCode::kGet)) {  // write, execute: 2.04
      response.code = lwm2m::coap_code(lwm2m::CoapCode::kChanged);
      boost::asio::post(io_, [done = std::move(done), response = std::move(response)]() mutable {
        done(std::move(response));
      });
      return;
    }
    response.code = lwm2m::coap_code(lwm2m::CoapCode::kContent);
    if (request.observe() == 0u) {
      response.add_uint_option(opt::kObserve, 1);
      observation_token = request.token;
    }
    response.add_uint_option(opt::kContentFormat,
                             static_cast<uint32_t>(lwm2m::ContentFormat::kTlv));
    response.payload = tlv_at(request.uri_path());
    boost::asio::post(io_, [done = std::move(done), response = std::move(response)]() mutable {
      done(std::move(response));
    });
  }

  // The device's request (registration); the answer arrives through respond.
  void deliver(const PeerInfo& peer, const lwm2m::CoapMessage& request, Responder respond) {
    handlers_.on_request(peer, request, std::move(respond));
  }
  bool notify(const PeerInfo& peer, const lwm2m::CoapMessage& n) {
    return handlers_.on_notification(peer, n);
  }

  // The TLV of what the device holds at `path` ("/3313/0/5702").
  const std::string& tlv_at(const std::string& path) {
    auto [it, added] = payloads_.try_emplace(path);
    if (added) {
      auto parsed = lwm2m::Path::parse(path);
      if (!parsed) fail(parsed.error().message);
      uint8_t code = 0;
      auto node =
          bench::emulated_accelerometer().read_for_server(*parsed, emulated::TimePoint{}, &code);
      if (!node) fail("the emulated device cannot read " + path);
      auto bytes = lwm2m::encode(lwm2m::ContentFormat::kTlv, *parsed, *node);
      if (!bytes) fail(bytes.error().message);
      it->second.assign(bytes->begin(), bytes->end());
    }
    return it->second;
  }

  std::string observation_token;

 private:
  boost::asio::io_context& io_;
  Handlers handlers_;
  std::map<std::string, std::string> payloads_;
};

// One node serving one registered device, with a bus listener counting
// what the node publishes on LWM2M_RESP.
struct NodeUnderTest {
  boost::asio::io_context io;
  AnsweringDevices devices{io};
  Node node{io, options(), emulated::DeviceObjects::models()};
  const PeerInfo device{{"10.0.0.7", 56830}, false, ""};
  size_t published = 0;

  static NodeOptions options() {
    NodeOptions o;
    // A node under load keeps as many tickets as it admits in its window:
    // the bench's 2,000 requests run at that steady state (one reply
    // copied in, one freed), not in a cache still growing.
    o.served_tickets_kept = 256;
    o.clock = [] { return int64_t{1'800'000'000'000}; };
    return o;
  }

  NodeUnderTest() {
    node.attach(devices);
    bool ready = false;
    node.start([&](Status s) {
      if (!s) fail(s.error().message);
      ready = true;
    });
    settle();
    if (!ready) fail("node did not start");
    node.bus().subscribe(
        {node.options().channels.responses},
        [this](std::string_view, std::string_view) { ++published; }, nullptr);
    register_device();
  }

  void settle() {
    io.restart();
    io.poll();
  }

  void register_device() {
    const emulated::DeviceObjects& objects = bench::emulated_accelerometer();
    lwm2m::CoapMessage reg;
    reg.code = lwm2m::coap_code(lwm2m::CoapCode::kPost);
    reg.set_uri_path("/rd");
    reg.add_uri_query("ep=" + objects.endpoint());
    reg.add_uri_query("lt=" + std::to_string(objects.lifetime_s()));
    reg.add_uri_query("lwm2m=1.1");
    reg.add_uri_query("b=" + std::string(objects.binding()));
    reg.add_uint_option(opt::kContentFormat,
                        static_cast<uint32_t>(lwm2m::ContentFormat::kLinkFormat));
    reg.payload = objects.registration_links();
    bool created = false;
    devices.deliver(device, reg, [&](lwm2m::CoapMessage r) {
      created = r.code == lwm2m::coap_code(lwm2m::CoapCode::kCreated);
    });
    settle();
    if (!created) fail("the device did not register");
  }

  // A request on the bus for the device, formatted once: the load
  // generator's work, not the node's. A node serves a ticket once (a
  // repeat gets the first reply again): next_ticket() gives the message a
  // new one in place.
  std::string request_message(bus::RequestKind kind, const lwm2m::Path& path) const {
    return bus::format_request(request(kind, path));
  }
  // The same before formatting (to add a write's value).
  static bus::Request request(bus::RequestKind kind, const lwm2m::Path& path) {
    bus::Request r;
    r.endpoint = bench::emulated_accelerometer().endpoint();
    r.ticket = "7f3c2a9e-5d41-4c8b-9e0f-1a2b3c4d5e6f";
    r.kind = kind;
    r.path = path;
    r.content_format = lwm2m::ContentFormat::kTlv;
    return r;
  }

  // Where the last 12 hex digits of the ticket request_message() wrote are.
  static size_t ticket_tail(const std::string& message) {
    const size_t at = message.find("1a2b3c4d5e6f");
    if (at == std::string::npos) fail("the request has no ticket to renew");
    return at;
  }
  // Writes `n` there: a new ticket for each request, 12 bytes written.
  static void next_ticket(std::string& message, size_t tail, uint64_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 12; ++i) message[tail + 11 - i] = digits[(n >> (4 * i)) & 0xf];
  }

  // Publishes one request and runs the node until it went quiet; returns
  // how many messages it published in answer.
  size_t request(const std::string& message) {
    const size_t before = published;
    node.bus().publish(node.options().channels.requests, message);
    settle();
    return published - before;
  }
};

}  // namespace fogm2m::server::bench_support
