// What the node's services run on in their unit tests: a fake CoAP transport
// (the test plays the devices), a fake Unix clock, in-memory stores that can
// be told to fail, the in-memory bus with every message recorded, a fake
// cluster membership, and the NodeContext tying them together. Everything
// runs on one io_context that the test drives (settle()).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bus/memory_bus.h"
#include "lwm2m/model.h"
#include "server/node_context.h"
#include "server/services/cluster_membership.h"
#include "store/memory_observation_store.h"
#include "store/memory_registration_store.h"
#include "store/memory_security_store.h"

namespace fogm2m::server::testing {

// A plain-CoAP device's address as the transport reports it.
inline PeerInfo peer(uint16_t port = 40000) {
  return PeerInfo{{"10.0.0.7", port}, false, ""};
}

// A CoapTransport whose wire is the test: requests the services send are
// kept until the test answers them; devices' requests and notifications are
// handed to the services by the test.
class FakeCoapTransport final : public CoapTransport {
 public:
  struct Sent {
    PeerInfo peer;
    lwm2m::CoapMessage request;
    std::chrono::milliseconds timeout;
    ResponseHandler done;
  };

  void set_handlers(Handlers handlers) override { handlers_ = std::move(handlers); }
  void send_request(const PeerInfo& peer, lwm2m::CoapMessage request,
                    std::chrono::milliseconds timeout, ResponseHandler done) override {
    sent.push_back(Sent{peer, std::move(request), timeout, std::move(done)});
  }
  void stop() override {}

  // Completes the oldest request not yet answered with `result`.
  void answer(Result<lwm2m::CoapMessage> result) {
    ASSERT_LT(answered_, sent.size()) << "no request to answer";
    ResponseHandler done = std::move(sent[answered_++].done);
    done(std::move(result));
  }
  size_t unanswered() const { return sent.size() - answered_; }
  const lwm2m::CoapMessage& last_request() const { return sent.back().request; }

  // A device request; returns the response once the handler answered
  // (nullopt until then: call settle() and look again with response()).
  void deliver(const PeerInfo& peer, const lwm2m::CoapMessage& request) {
    responses_.emplace_back();
    const size_t slot = responses_.size() - 1;
    handlers_.on_request(peer, request,
                         [this, slot](lwm2m::CoapMessage r) { responses_[slot] = std::move(r); });
  }
  const std::optional<lwm2m::CoapMessage>& response(size_t i) const { return responses_.at(i); }
  const std::optional<lwm2m::CoapMessage>& last_response() const { return responses_.back(); }

  bool notify(const PeerInfo& peer, const lwm2m::CoapMessage& n) {
    return handlers_.on_notification(peer, n);
  }

  std::vector<Sent> sent;

 private:
  Handlers handlers_;
  std::vector<std::optional<lwm2m::CoapMessage>> responses_;
  size_t answered_ = 0;
};

// Operations that should fail; the stores below answer them with kIo.
struct StoreFaults {
  std::set<std::string> failing;  // "registrations.add", "security.get_by_endpoint", ...
  bool fails(const std::string& operation) const { return failing.count(operation) != 0; }
};

// A store that answers the operations StoreFaults names with kIo (posted,
// as a store must) and hands every other one to `Inner`.
template <class Inner>
class Faulty {
 protected:
  Faulty(boost::asio::io_context& io, const StoreFaults& faults, std::string name)
      : io_(io), faults_(faults), name_(std::move(name)), inner_(io) {}

  template <class T, class Method, class... Args>
  void call(const char* operation, store::Done<T> done, Method method, const Args&... args) {
    const std::string what = name_ + "." + operation;
    if (!faults_.fails(what)) return (inner_.*method)(args..., std::move(done));
    boost::asio::post(io_, [done = std::move(done), what] {
      done(make_error(ErrorKind::kIo, "injected failure of " + what));
    });
  }

 private:
  boost::asio::io_context& io_;
  const StoreFaults& faults_;
  const std::string name_;
  Inner inner_;
};

class FaultyRegistrationStore final : public store::RegistrationStore,
                                      Faulty<store::MemoryRegistrationStore> {
  using Memory = store::MemoryRegistrationStore;

 public:
  FaultyRegistrationStore(boost::asio::io_context& io, const StoreFaults& faults)
      : Faulty(io, faults, "registrations") {}
  void add(const store::Registration& reg,
           store::Done<std::optional<store::Registration>> done) override {
    call("add", std::move(done), &Memory::add, reg);
  }
  void update(const store::RegistrationUpdate& u, const std::string& owner,
              store::Done<store::UpdatedRegistration> done) override {
    call("update", std::move(done), &Memory::update, u, owner);
  }
  void remove(const std::string& reg_id, store::Done<store::Registration> done) override {
    call("remove", std::move(done), &Memory::remove, reg_id);
  }
  void get_by_endpoint(const std::string& ep,
                       store::Done<std::optional<store::Registration>> done) override {
    call("get_by_endpoint", std::move(done), &Memory::get_by_endpoint, ep);
  }
  void get_by_reg_id(const std::string& id,
                     store::Done<std::optional<store::Registration>> done) override {
    call("get_by_reg_id", std::move(done), &Memory::get_by_reg_id, id);
  }
  void get_by_address(const lwm2m::PeerAddress& p,
                      store::Done<std::optional<store::Registration>> done) override {
    call("get_by_address", std::move(done), &Memory::get_by_address, p);
  }
  void owner_of(const std::string& ep, store::Done<std::optional<std::string>> done) override {
    call("owner_of", std::move(done), &Memory::owner_of, ep);
  }
  void remove_expired(int64_t now_ms, int64_t grace_ms,
                      store::Done<std::vector<store::Registration>> done) override {
    call("remove_expired", std::move(done), &Memory::remove_expired, now_ms, grace_ms);
  }
  void list(store::Done<std::vector<store::Registration>> done) override {
    call("list", std::move(done), &Memory::list);
  }
};

class FaultySecurityStore final : public store::SecurityStore, Faulty<store::MemorySecurityStore> {
  using Memory = store::MemorySecurityStore;

 public:
  FaultySecurityStore(boost::asio::io_context& io, const StoreFaults& faults)
      : Faulty(io, faults, "security") {}
  void put(const store::SecurityInfo& info, store::Done<bool> done) override {
    call("put", std::move(done), &Memory::put, info);
  }
  void get_by_endpoint(const std::string& ep,
                       store::Done<std::optional<store::SecurityInfo>> done) override {
    call("get_by_endpoint", std::move(done), &Memory::get_by_endpoint, ep);
  }
  void get_by_identity(const std::string& id,
                       store::Done<std::optional<store::SecurityInfo>> done) override {
    call("get_by_identity", std::move(done), &Memory::get_by_identity, id);
  }
  void remove(const std::string& ep, store::Done<bool> done) override {
    call("remove", std::move(done), &Memory::remove, ep);
  }
  void list(store::Done<std::vector<store::SecurityInfo>> done) override {
    call("list", std::move(done), &Memory::list);
  }
};

// A membership the test sets: which nodes live, whether this one is the
// fallback.
class FakeMembership final : public ClusterMembership {
 public:
  void start() override {}
  void stop() override {}
  bool is_fallback() const override { return fallback; }
  bool is_alive(const std::string& node_id) const override { return alive.count(node_id) != 0; }
  void check_alive(const std::string& node_id, std::function<void(bool)> done) override {
    ++checks;
    done(is_alive(node_id));
  }
  void check_alive_now(const std::string& node_id, std::function<void(bool)> done) override {
    done(is_alive(node_id));
  }
  std::chrono::milliseconds liveness() const override { return liveness_period; }
  bool fallback = true;
  std::chrono::milliseconds liveness_period{0};  // 0: no second look
  std::set<std::string> alive{"node-1"};
  int checks = 0;
};

class ServiceFixture : public ::testing::Test {
 protected:
  ServiceFixture()
      : registrations(io, faults),
        observations(io),
        security(io, faults),
        bus(io),
        ctx{io,
            "node-1",
            {},
            models,
            registrations,
            observations,
            security,
            bus,
            transport,
            devices,
            [this] { return now_ms; },
            std::chrono::milliseconds(5000),
            std::chrono::milliseconds(0),
            {},
            nullptr} {
    bus.subscribe(
        {ctx.channels.responses, ctx.channels.registration_new, ctx.channels.registration_update,
         ctx.channels.registration_delete},
        [this](std::string_view channel, std::string_view message) {
          published[std::string(channel)].emplace_back(message);
        },
        nullptr);
    settle();
  }

  // Runs every handler that is ready (posted store replies, bus deliveries).
  void settle() {
    io.restart();
    io.poll();
  }

  const std::vector<std::string>& on(const std::string& channel) { return published[channel]; }

  boost::asio::io_context io;
  int64_t now_ms = 1'700'000'000'000;  // the fake Unix clock
  lwm2m::ModelRegistry models = lwm2m::ModelRegistry::builtin();
  StoreFaults faults;
  FaultyRegistrationStore registrations;
  store::MemoryObservationStore observations;
  FaultySecurityStore security;
  bus::MemoryBus bus;
  FakeCoapTransport transport;
  LocalDevices devices;
  NodeContext ctx;
  std::map<std::string, std::vector<std::string>> published;
};

}  // namespace fogm2m::server::testing
