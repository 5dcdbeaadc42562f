// Redis with AOF persistence, SIGKILLed and restarted under registration
// load: every registration a device saw acknowledged (2.01) must still be in
// Redis afterwards. With `appendfsync always` Redis replies only after the
// write is on disk, so none may be lost; with `everysec` the figure is
// measured and printed (a killed process loses nothing the kernel already
// has; everysec's window of up to a second is lost only when the machine
// itself goes down, which this test cannot do).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "lwm2m/coap_code.h"
#include "lwm2m/coap_message.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Registers endpoints with a node over one UDP socket, one at a time.
class Registrar {
 public:
  explicit Registrar(uint16_t port) : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
  }
  ~Registrar() { ::close(fd_); }

  // Sends Register for `ep` and returns the response code, 0 when none came
  // within `wait`.
  uint8_t register_once(const std::string& ep, std::chrono::milliseconds wait) {
    lwm2m::CoapMessage m;
    m.type = lwm2m::CoapType::kCon;
    m.code = lwm2m::coap_code(lwm2m::CoapCode::kPost);
    m.message_id = ++mid_;
    m.token = std::string(reinterpret_cast<const char*>(&mid_), sizeof mid_);
    m.set_uri_path("/rd");
    m.add_uri_query("ep=" + ep);
    m.add_uri_query("lt=300");
    m.payload = "</1/0>,</3/0>";
    auto bytes = lwm2m::encode_coap(m);
    if (!bytes || ::send(fd_, bytes->data(), bytes->size(), 0) < 0) return 0;
    const auto deadline = Clock::now() + wait;
    char buf[1500];
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) != 1) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      auto answer = lwm2m::decode_coap(std::string_view(buf, static_cast<size_t>(n)));
      if (answer && answer->message_id == mid_) return answer->code;  // a late one is skipped
    }
    return 0;
  }

 private:
  int fd_;
  uint16_t mid_ = 0;
};

struct LoadFigures {
  size_t acknowledged = 0, refused_503 = 0, unanswered = 0, lost = 0;
  double longest_gap_ms = 0;  // longest time without an acknowledged registration
};

// `appendfsync`: "always", "everysec", or "" for no persistence at all.
LoadFigures restart_under_registration_load(const std::string& appendfsync) {
  HarnessOptions o;
  if (!appendfsync.empty()) o.redis_args = {"--appendonly", "yes", "--appendfsync", appendfsync};
  ClusterHarness h(o);
  EXPECT_TRUE(h.start()) << h.error();

  LoadFigures f;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::thread load([&] {
    Registrar registrar(h.coap_port(0));
    auto last_ack = Clock::now();
    for (int i = 1; !stop; ++i) {
      const std::string ep = "load-" + std::to_string(i);
      for (;;) {  // a device keeps trying until it is registered
        const uint8_t code = registrar.register_once(ep, 500ms);
        if (code == lwm2m::coap_code(lwm2m::CoapCode::kCreated)) {
          const auto now = Clock::now();
          f.longest_gap_ms = std::max(
              f.longest_gap_ms, std::chrono::duration<double, std::milli>(now - last_ack).count());
          last_ack = now;
          acknowledged.push_back(ep);
          break;
        }
        if (code == 0) ++f.unanswered;
        if (code == lwm2m::coap_code(lwm2m::CoapCode::kServiceUnavailable)) ++f.refused_503;
        if (stop) break;
        std::this_thread::sleep_for(20ms);
      }
    }
  });
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(h.redis_server()->restart());  // SIGKILL, then the same dir: the AOF reloads
  std::this_thread::sleep_for(1500ms);
  stop = true;
  load.join();

  EXPECT_TRUE(h.wait_for_redis());
  for (const std::string& ep : acknowledged) {
    auto record = h.redis({"EXISTS", "REG:EP:{" + ep + "}"});
    if (!record || record->integer != 1) ++f.lost;
  }
  f.acknowledged = acknowledged.size();
  std::cout << "appendfsync " << (appendfsync.empty() ? "(no AOF)" : appendfsync) << ": "
            << f.acknowledged << " registrations acknowledged, " << f.lost
            << " lost after the restart; " << f.refused_503 << " answered 5.03 and " << f.unanswered
            << " unanswered while Redis was away; longest gap without an acknowledgement "
            << f.longest_gap_ms << " ms\n";
  return f;
}

TEST(RedisPersistence, AppendfsyncAlwaysLosesNoAcknowledgedRegistration) {
  const LoadFigures f = restart_under_registration_load("always");
  EXPECT_GT(f.acknowledged, 100u);
  EXPECT_EQ(f.lost, 0u);
}

TEST(RedisPersistence, AppendfsyncEverysecIsMeasured) {
  const LoadFigures f = restart_under_registration_load("everysec");
  EXPECT_GT(f.acknowledged, 100u);
  RecordProperty("lost", static_cast<int>(f.lost));
}

// The measure has teeth: without persistence, what came before the restart
// is gone (the owner writes back only devices whose Updates it kept).
TEST(RedisPersistence, WithoutPersistenceTheRestartLosesRegistrations) {
  const LoadFigures f = restart_under_registration_load("");
  EXPECT_GT(f.lost, 100u);
}

}  // namespace
}  // namespace fogm2m::test
