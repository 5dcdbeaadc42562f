#include "testbed/deployment_steps.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "emulated_clients/name_pattern.h"
#include "store/keys.h"
#include "store/security_info.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

FleetCommand fleet_command(const DeploymentConfig& config, int j, int first, int count,
                           const std::string& server, const std::string& bind) {
  const std::string name = "fleet" + std::to_string(j);
  FleetCommand c;
  c.stats_path = config.work_dir + "/" + name + ".stats.json";
  c.args = {"fleet",
            "--server",
            server,
            "--devices",
            std::to_string(count),
            "--first",
            std::to_string(first),
            "--ep-pattern",
            config.endpoint_pattern,
            "--bind",
            bind,
            "--threads",
            std::to_string(config.fleet_threads),
            "--lifetime",
            std::to_string(config.device_lifetime_s),
            "--sampling-ms",
            std::to_string(config.sampling_ms),
            "--seed",
            std::to_string(config.seed + static_cast<uint64_t>(j)),
            "--stats-file",
            c.stats_path,
            "--summary",
            config.work_dir + "/" + name + ".summary.json",
            "--stop-timeout",
            "2",
            "--quiet"};
  if (config.fleet_ramp_s >= 0)
    c.args.insert(c.args.end(), {"--ramp-s", std::to_string(config.fleet_ramp_s)});
  if (config.dtls) c.args.push_back("--dtls");
  c.args.insert(c.args.end(), config.fleet_args.begin(), config.fleet_args.end());
  return c;
}

Status provision_psks(RedisClient& redis, const DeploymentConfig& config) {
  auto pattern = emulated::NamePattern::parse(config.endpoint_pattern, false);
  if (!pattern) return make_error(ErrorKind::kInvalidArgument, "bad endpoint pattern");
  for (int n = 1; n <= config.devices; ++n) {
    const std::string ep = pattern->format(static_cast<uint64_t>(n));
    const store::SecurityInfo info{ep, ep, "key-" + ep};
    if (auto r = redis.command({"SET", store::keys::security(ep), store::to_record_json(info)}); !r)
      return r.error();
    if (auto r = redis.command({"SET", store::keys::identity_index(ep), ep}); !r) return r.error();
  }
  return {};
}

std::string random_token() {
  std::random_device entropy;
  std::string token;
  for (int i = 0; i < 4; ++i) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(entropy()));
    token += hex;
  }
  return token;
}

Status write_private_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error(ErrorKind::kIo, "create " + path + ": " + std::strerror(errno));
  Status result;
  if (::fchmod(fd, 0600) != 0 ||
      ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    result = make_error(ErrorKind::kIo, "write " + path + ": " + std::strerror(errno));
  ::close(fd);
  return result;
}

bool accepts_connections(const std::string& netns, const std::string& address, uint16_t port) {
  auto inside = ScopedNetns::enter(netns);
  if (!inside) return false;
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  if (::inet_pton(AF_INET, address.c_str(), &at.sin_addr) != 1) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0;
  ::close(fd);
  return connected;
}

}  // namespace fogm2m::testbed
