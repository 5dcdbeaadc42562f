#include "testbed/health_check.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "lwm2m/coap_message.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

Result<HealthCheck> HealthCheck::create(const std::string& netns, HealthCheckOptions options) {
  auto inside = ScopedNetns::enter(netns);
  if (!inside) return inside.error();
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return make_error(ErrorKind::kIo, std::string("socket: ") + std::strerror(errno));
  return HealthCheck(fd, options);
}

HealthCheck::HealthCheck(HealthCheck&& other) noexcept
    : fd_(other.fd_),
      options_(other.options_),
      next_id_(other.next_id_),
      misses_(std::move(other.misses_)) {
  other.fd_ = -1;
}

HealthCheck::~HealthCheck() {
  if (fd_ >= 0) ::close(fd_);
}

std::map<std::string, bool> HealthCheck::probe(const std::vector<std::string>& addresses) {
  // Message id -> address of the pings of this round.
  std::map<uint16_t, std::string> waiting;
  for (const std::string& address : addresses) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(options_.port);
    if (::inet_pton(AF_INET, address.c_str(), &to.sin_addr) != 1) continue;
    lwm2m::CoapMessage ping;  // CON, code 0.00, no token: a CoAP ping
    ping.type = lwm2m::CoapType::kCon;
    ping.code = 0;
    ping.message_id = next_id_++;
    auto bytes = lwm2m::encode_coap(ping);
    if (!bytes) continue;
    if (::sendto(fd_, bytes->data(), bytes->size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to) == static_cast<ssize_t>(bytes->size()))
      waiting[ping.message_id] = address;
  }
  std::map<std::string, bool> answered;
  const auto deadline = std::chrono::steady_clock::now() + options_.probe_timeout;
  while (!waiting.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) != 1) continue;
    char buf[64];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    auto reply = lwm2m::decode_coap(std::string_view(buf, static_cast<size_t>(n)));
    if (!reply || reply->type != lwm2m::CoapType::kRst) continue;
    auto it = waiting.find(reply->message_id);
    if (it == waiting.end()) continue;  // a late answer to an earlier round
    answered[it->second] = true;
    waiting.erase(it);
  }
  std::map<std::string, bool> healthy;
  for (const std::string& address : addresses) {
    int& misses = misses_[address];
    misses = answered.count(address) ? 0 : misses + 1;
    healthy[address] = misses < options_.misses_to_fail;
  }
  return healthy;
}

}  // namespace fogm2m::testbed
