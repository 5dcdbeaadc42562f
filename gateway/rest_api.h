// The Leshan-compatible REST API (LESHAN-API.md): each route of
// api_route.h turned into bus requests (bus_client.h) or lookups
// (registration_directory.h, the security store), and their outcomes into
// Leshan's status codes and JSON (leshan_json.h).
//
// Statuses: 200 with Leshan's response JSON whenever the device answered
// (also with an error code: "failure":true); 400 for an unknown client or
// an invalid request; 404 for a missing security entry or observation; 503 while Redis is
// unreachable; 504 when the device (or its node) did not answer in time;
// 500 otherwise. Error bodies are plain text, as Leshan's. Keys of the
// security entries never leave the gateway: they are shown masked.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/api_route.h"
#include "gateway/bus_client.h"
#include "gateway/registration_directory.h"
#include "io/lifetime.h"
#include "lwm2m/model.h"
#include "store/security_store.h"

namespace fogm2m::gateway {

struct ApiAnswer {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  // How long the bus round trip took (publish to final reply), when there
  // was one: sent as "Server-Timing: bus;dur=<ms>", so a client can tell
  // the gateway's share of its latency from the cluster's.
  std::optional<std::chrono::nanoseconds> bus_time;
};

struct RestApiOptions {
  std::chrono::milliseconds default_timeout{5000};  // Leshan's: 5 s
  std::chrono::milliseconds max_timeout{300000};
};

// The key as the API shows it: never the bytes, only that one is there.
inline constexpr std::string_view kMaskedKey = "********";

// True when a bus err says the device did not answer in time (the node's
// transports word it so): 504 rather than 500.
bool is_device_timeout(std::string_view error_message);

class RestApi {
 public:
  RestApi(BusClient& bus, RegistrationDirectory& directory, store::SecurityStore& security,
          const lwm2m::ModelRegistry& models, RestApiOptions options = {})
      : bus_(bus), directory_(directory), security_(security), models_(models), options_(options) {}

  using Done = std::function<void(ApiAnswer)>;
  // Answers `route` (not kEvents, kStomp, kMetrics or kAsset: the HTTP
  // server serves those). `done` may run before handle() returns.
  void handle(const ApiRoute& route, std::string body, std::string_view content_type, Done done);

 private:
  void device_request(const ApiRoute& route, std::string body, std::string_view content_type,
                      Done done);
  Result<bus::Request> make_request(const ApiRoute& route, const std::string& body,
                                    std::string_view content_type) const;
  // The composite routes' requests: `r` has the endpoint and format set.
  Result<bus::Request> make_composite_request(const ApiRoute& route, const std::string& body,
                                              bus::Request r) const;
  void send(bus::Request request, std::chrono::milliseconds timeout, Done done);
  void list_security(Done done);
  void put_security(const std::string& body, Done done);
  void delete_security(const std::string& endpoint, Done done);
  std::string object_specs() const;

  BusClient& bus_;
  RegistrationDirectory& directory_;
  store::SecurityStore& security_;
  const lwm2m::ModelRegistry& models_;
  RestApiOptions options_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::gateway
