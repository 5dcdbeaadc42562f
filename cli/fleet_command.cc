// `fogm2m fleet`: N emulated IPSO 3313 devices in this process until
// SIGTERM/SIGINT (or --duration), optionally inside a network namespace and
// cgroups (the testbed's containers). Live counters on stderr and in a stats
// file; a JSON summary at the end.
#include <spdlog/spdlog.h>

#include <boost/asio/ip/address.hpp>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "emulated_clients/bootstrap_client.h"
#include "emulated_clients/fleet_process.h"
#include "emulated_clients/name_pattern.h"
#include "io/address_range.h"
#include "io/host_port.h"
#include "lwm2m/coap_uri.h"

namespace fogm2m::cli {

namespace {

struct FleetArgs {
  std::string server = "127.0.0.1:5683";
  std::string bootstrap;
  uint32_t devices = 1;
  uint64_t first = 0;
  std::string endpoint_pattern = "dev-{n}";
  std::string bind;
  std::string source_range;
  unsigned threads = 1;
  double ramp_s = -1;  // -1: devices / 500 s
  bool storm = false;
  uint32_t lifetime_s = 300;
  uint32_t sampling_ms = 50;
  std::string lwm2m_version = "1.1";
  bool temperature = false;
  uint32_t notify_con_every = 10;
  double send_every_s = 0;
  bool send_cbor = false;
  bool queue_mode = false;
  double awake_s = 93;
  uint64_t seed = 1;
  bool dtls = false;
  std::string psk_identity = "{ep}";
  std::string psk_key = "key-{ep}";
  std::string netns;
  std::vector<std::string> cgroups;
  std::string stats_file;
  double stats_interval_s = 1;
  std::string summary_file;
  double duration_s = 0;
  double stop_timeout_s = 10;
  bool quiet = false;
  std::string log_level = "warn";
};

// --bootstrap: each device bootstraps in turn, before the fleet starts;
// they share one server, so every account must name the same URI and
// lifetime. Accounts are NoSec (a fleet's PSK keys come from its patterns).
int bootstrap_fleet(const FleetArgs& args, emulated::FleetConfig& config) {
  std::string host;
  uint16_t port = 0;
  boost::system::error_code ec;
  if (!io::split_host_port(args.bootstrap, host, port)) {
    std::cerr << "fogm2m fleet: --bootstrap must be host:port, got \"" << args.bootstrap << "\"\n";
    return 2;
  }
  const auto bs_address = boost::asio::ip::make_address(host, ec);
  if (ec || !args.netns.empty() || args.dtls) {
    std::cerr << "fogm2m fleet: --bootstrap needs an IP address, and no --netns or --dtls\n";
    return 2;
  }
  auto names = emulated::NamePattern::parse(args.endpoint_pattern, false);
  if (!names) {
    std::cerr << "fogm2m fleet: " << names.error().message << "\n";
    return 2;
  }
  std::optional<emulated::BootstrapResult> first;
  for (uint64_t i = args.first; i < args.first + args.devices; ++i) {
    const std::string ep = names->format(i);
    auto account = emulated::bootstrap_blocking({bs_address, port}, ep);
    if (!account) {
      std::cerr << "fogm2m fleet: " << ep << ": " << account.error().message << "\n";
      return 1;
    }
    if (account->psk) {
      std::cerr << "fogm2m fleet: " << ep
                << ": bootstrap gave a PSK account; fleets take NoSec accounts from bootstrap\n";
      return 1;
    }
    if (first &&
        (account->server_uri != first->server_uri || account->lifetime_s != first->lifetime_s)) {
      std::cerr << "fogm2m fleet: " << ep << ": bootstrap gave " << account->server_uri
                << ", lifetime " << account->lifetime_s << ", unlike the first device's "
                << first->server_uri << ", lifetime " << first->lifetime_s << "\n";
      return 1;
    }
    if (!first) first = *account;
  }
  auto uri = lwm2m::parse_coap_uri(first->server_uri);
  const auto server_address = boost::asio::ip::make_address(uri ? uri->host : "", ec);
  if (!uri || uri->secure || ec) {
    std::cerr << "fogm2m fleet: bootstrap gave \"" << first->server_uri
              << "\": a coap:// URI with an IP address is needed\n";
    return 1;
  }
  config.server = {server_address, uri->port};
  config.device.server_uri = first->server_uri;
  config.device.lifetime_s = first->lifetime_s;
  spdlog::info("bootstrapped {} devices: {} lifetime {} s", args.devices, first->server_uri,
               first->lifetime_s);
  return 0;
}

int run_fleet(const FleetArgs& args) {
  spdlog::set_level(spdlog::level::from_str(args.log_level));
  emulated::FleetProcessOptions options;
  emulated::FleetConfig& config = options.fleet;
  std::string host;
  uint16_t port = 0;
  if (!io::split_host_port(args.server, host, port)) {
    std::cerr << "fogm2m fleet: --server must be host:port, got \"" << args.server << "\"\n";
    return 2;
  }
  boost::system::error_code ec;
  const auto server_address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    std::cerr << "fogm2m fleet: --server needs an IP address, got \"" << host << "\"\n";
    return 2;
  }
  config.server = {server_address, port};
  if (!args.bind.empty()) {
    config.bind_address = boost::asio::ip::make_address(args.bind, ec);
    if (ec) {
      std::cerr << "fogm2m fleet: --bind needs an IP address, got \"" << args.bind << "\"\n";
      return 2;
    }
  }
  if (!args.source_range.empty()) {
    auto range = io::AddressRange::parse(args.source_range);
    if (!range) {
      std::cerr << "fogm2m fleet: --source-range: " << range.error().message << "\n";
      return 2;
    }
    config.source_range = *range;
  }
  config.devices = args.devices;
  config.first = args.first;
  config.endpoint_pattern = args.endpoint_pattern;
  config.threads = args.threads;
  const double ramp_s = args.storm ? 0.0 : (args.ramp_s >= 0 ? args.ramp_s : args.devices / 500.0);
  config.ramp = std::chrono::milliseconds(static_cast<int64_t>(ramp_s * 1000));
  config.seed = args.seed;
  config.device.lifetime_s = args.lifetime_s;
  config.device.sample_period = std::chrono::milliseconds(args.sampling_ms);
  config.device.version =
      args.lwm2m_version == "1.0" ? emulated::Lwm2mVersion::k1_0 : emulated::Lwm2mVersion::k1_1;
  config.device.temperature = args.temperature;
  config.device.notify_con_every = args.notify_con_every;
  config.device.send_period =
      std::chrono::milliseconds(static_cast<int64_t>(args.send_every_s * 1000));
  config.device.send_cbor = args.send_cbor;
  config.device.queue_mode = args.queue_mode;
  config.device.awake_time = std::chrono::milliseconds(static_cast<int64_t>(args.awake_s * 1000));
  config.device.server_uri = std::string(args.dtls ? "coaps://" : "coap://") + args.server;
  if (args.dtls) {
    config.psk_identity_pattern = args.psk_identity;
    config.psk_key_pattern = args.psk_key;
  }
  config.stop_timeout = std::chrono::milliseconds(static_cast<int64_t>(args.stop_timeout_s * 1000));
  if (!args.bootstrap.empty()) {
    if (int code = bootstrap_fleet(args, config); code != 0) return code;
  }

  options.netns = args.netns;
  options.cgroups = args.cgroups;
  options.stats_file = args.stats_file;
  options.stats_interval =
      std::chrono::milliseconds(static_cast<int64_t>(args.stats_interval_s * 1000));
  options.quiet = args.quiet;
  options.summary_file = args.summary_file;
  options.duration = std::chrono::milliseconds(static_cast<int64_t>(args.duration_s * 1000));
  return emulated::run_fleet_process(options);
}

}  // namespace

void add_fleet_command(CLI::App& app) {
  auto args = std::make_shared<FleetArgs>();
  auto* cmd = app.add_subcommand(
      "fleet", "Run N emulated IPSO 3313 accelerometer devices (until SIGTERM/SIGINT)");
  cmd->add_option("--server", args->server, "LwM2M server (or load balancer) host:port")
      ->capture_default_str();
  cmd->add_option("--bootstrap", args->bootstrap,
                  "Bootstrap server host:port: each device first asks it (POST /bs?ep=) for its "
                  "LwM2M server and lifetime (NoSec), then registers there; --server is ignored");
  cmd->add_option("-n,--devices", args->devices, "Number of devices")
      ->capture_default_str()
      ->check(CLI::Range(1u, 10000000u));
  cmd->add_option("--first", args->first, "Index {n} of the first device")->capture_default_str();
  cmd->add_option("--ep-pattern", args->endpoint_pattern,
                  "Endpoint names: {n}, {n:W} (zero-padded)")
      ->capture_default_str();
  cmd->add_option("--bind", args->bind, "Local address of the devices' sockets");
  cmd->add_option("--source-range", args->source_range,
                  "Devices share one socket per thread, device i sending from address i+1 of "
                  "this local CIDR range (e.g. 127.64.0.0/10); chosen by itself on loopback when "
                  "descriptors run short");
  cmd->add_option("--threads", args->threads, "Threads (event loops) the devices are spread over")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  cmd->add_option("--ramp-s", args->ramp_s,
                  "Spread registrations over this many seconds (default devices/500)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--storm", args->storm, "Register every device at once (ramp 0)");
  cmd->add_option("--lifetime", args->lifetime_s, "Registration lifetime, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1u << 30));
  cmd->add_option("--sampling-ms", args->sampling_ms,
                  "Sensor sampling period, ms (0: values never change)")
      ->capture_default_str();
  cmd->add_option("--lwm2m-version", args->lwm2m_version, "LwM2M version to register with")
      ->capture_default_str()
      ->check(CLI::IsMember({"1.0", "1.1"}));
  cmd->add_flag("--temperature", args->temperature, "Expose an IPSO 3303 temperature sensor too");
  cmd->add_option("--notify-con-every", args->notify_con_every,
                  "Every Nth notification is CON (0: all NON)")
      ->capture_default_str();
  cmd->add_option("--send-every", args->send_every_s,
                  "LwM2M 1.1 Send: POST /dp with the accelerometer values every this many "
                  "seconds while registered (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--send-cbor", args->send_cbor, "Send in SenML CBOR (112) instead of SenML JSON");
  cmd->add_flag("--queue-mode", args->queue_mode,
                "Queue mode: register with binding UQ (1.0) or Q (1.1); drop requests after "
                "--awake-s without sending, until the next Update, Send or notification");
  cmd->add_option("--awake-s", args->awake_s, "Queue mode: how long the radio stays on, seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->seed, "Seed of the sensor walks and jitter")
      ->capture_default_str();
  cmd->add_flag("--dtls", args->dtls, "CoAP over DTLS with a pre-shared key per device");
  cmd->add_option("--psk-identity", args->psk_identity, "PSK identity pattern: {ep}, {n}, {n:W}")
      ->capture_default_str();
  cmd->add_option("--psk-key", args->psk_key,
                  "PSK key pattern (its text is the key): {ep}, {n}, {n:W}")
      ->capture_default_str();
  cmd->add_option("--netns", args->netns, "Run inside this network namespace (/run/netns/NAME)");
  cmd->add_option("--cgroup", args->cgroups,
                  "Join this cgroup directory (repeat per cgroup v1 hierarchy)");
  cmd->add_option("--stats-file", args->stats_file,
                  "Rewrite the counters as JSON into this file every interval");
  cmd->add_option("--stats-interval", args->stats_interval_s,
                  "Seconds between counter reports (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--summary", args->summary_file,
                  "Write the final counters as JSON into this file");
  cmd->add_option("--duration", args->duration_s,
                  "Stop after this many seconds (0: at SIGTERM/SIGINT)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--stop-timeout", args->stop_timeout_s,
                  "Longest wait for de-registrations at stop, seconds")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("-q,--quiet", args->quiet, "No live counters on stderr");
  cmd->add_option("--log-level", args->log_level, "trace, debug, info, warn, error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cmd->callback([args] {
    if (int code = run_fleet(*args); code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace fogm2m::cli
