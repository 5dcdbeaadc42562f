// One gateway process' parts, wired: the bus client, the registration
// directory, the live events, the REST API, the STOMP sessions and the HTTP
// server, on one io_context (single-threaded).
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "gateway/auth.h"
#include "gateway/bus_client.h"
#include "gateway/event_hub.h"
#include "gateway/gateway_metrics.h"
#include "gateway/http_server.h"
#include "gateway/registration_directory.h"
#include "gateway/rest_api.h"
#include "io/lifetime.h"
#include "lwm2m/model.h"
#include "store/redis_registration_store.h"
#include "store/redis_security_store.h"

namespace fogm2m::gateway {

struct GatewayOptions {
  BusClientOptions bus;
  HttpServerOptions http;
  RestApiOptions api;
};

class Gateway {
 public:
  // `models` must outlive the gateway.
  Gateway(boost::asio::io_context& io, GatewayOptions options, Auth auth,
          const lwm2m::ModelRegistry& models);
  ~Gateway();

  // Connects to Redis, loads the registrations, then listens for HTTP.
  // `ready` runs once: an error when Redis or the port cannot be had.
  void start(std::function<void(Status)> ready);
  void stop();

  uint16_t http_port() const { return http_port_; }
  const BusClient& bus() const { return *bus_; }
  const RegistrationDirectory& directory() const { return directory_; }
  const EventHub& events() const { return *hub_; }
  std::string metrics_text() const;

 private:
  boost::asio::io_context& io_;
  GatewayOptions options_;
  Auth auth_;
  const lwm2m::ModelRegistry& models_;
  std::shared_ptr<BusClient> bus_;
  store::RedisRegistrationStore registrations_;
  store::RedisSecurityStore security_;
  RegistrationDirectory directory_;
  std::shared_ptr<EventHub> hub_;
  RestApi api_;
  GatewayMetrics metrics_;
  std::unique_ptr<HttpServer> http_;
  uint16_t http_port_ = 0;
  bool was_up_ = false;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::gateway
