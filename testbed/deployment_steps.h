// What both deployment backends (namespaces: deployment.h; containers:
// container_deployment.h) do the same way: the fleets' command line, the
// PSKs the fleets' DTLS devices use, the gateway's token file, and the
// readiness probe of a TCP service.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "testbed/deployment.h"
#include "testbed/redis_client.h"

namespace fogm2m::testbed {

// Descriptors a fleet keeps for itself besides its devices' sockets (as
// emulated_clients/fleet.cc counts them).
constexpr uint64_t kFleetReservedDescriptors = 64;
// Registrations per second of a fleet without a ramp of its own
// (`fogm2m fleet` spreads its devices over devices/500 s).
constexpr double kFleetDefaultRegistrationsPerS = 500;

// Whether the caller asked the deployment to stop (`cancel` may be null).
inline bool cancelled(const std::atomic<bool>* cancel) {
  return cancel != nullptr && cancel->load();
}

// The error a deployment stopped by its caller ends with.
inline Error interrupted() {
  return make_error(ErrorKind::kIo, "deployment interrupted");
}

// How both backends start fleet `j` (1-based) of `config`: the arguments of
// `fogm2m fleet` (after the binary) for `count` devices from number `first`,
// sending to `server` ("host:port") from `bind`, with the run's ramp, DTLS
// and extra fleet arguments; its stats file in config.work_dir.
struct FleetCommand {
  std::vector<std::string> args;
  std::string stats_path;
};
FleetCommand fleet_command(const DeploymentConfig& config, int j, int first, int count,
                           const std::string& server, const std::string& bind);

// Writes the PSK of each of config.devices devices into the security store:
// identity = endpoint (config.endpoint_pattern), key = "key-<endpoint>",
// the fleet's defaults for its DTLS devices.
Status provision_psks(RedisClient& redis, const DeploymentConfig& config);

// A bearer token: 128 random bits as 32 hex digits.
std::string random_token();

// Writes `text` to `path`, readable by its owner only (also when the file
// was there before).
Status write_private_file(const std::string& path, const std::string& text);

// Whether a TCP connection to address:port can be made from inside `netns`
// (a name of /run/netns or a /proc/<pid>/ns/net path).
bool accepts_connections(const std::string& netns, const std::string& address, uint16_t port);

}  // namespace fogm2m::testbed
