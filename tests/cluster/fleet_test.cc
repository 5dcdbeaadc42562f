// The fleet emulator against a real node on a real Redis: 200 devices
// register, reads of their 3313 resources come back plausible through the
// bus, observations notify at the sampling rate; and the `fogm2m fleet`
// process itself, queried by libcoap's coap-client.
#include "emulated_clients/fleet.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "lwm2m/hex.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

emulated::FleetConfig fleet_config(ClusterHarness& h, uint32_t devices) {
  emulated::FleetConfig c;
  c.server = {boost::asio::ip::make_address("127.0.0.1"), h.coap_port(0)};
  c.bind_address = boost::asio::ip::make_address("127.0.0.1");
  c.devices = devices;
  c.threads = 2;
  c.ramp = 1000ms;
  c.seed = 7;
  c.device.lifetime_s = 120;
  c.device.sample_period = 100ms;
  c.device.notify_con_every = 0;
  c.stats_period = 100ms;
  c.stop_timeout = 5000ms;
  return c;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

size_t registrations_in_redis(ClusterHarness& h) {
  auto reply = h.redis({"ZCARD", "EXP:EP"});
  return reply.ok() ? static_cast<size_t>(reply->integer) : 0;
}

TEST(Fleet, TwoHundredDevicesRegisterAnswerAndNotifyAtTheSamplingRate) {
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  emulated::Fleet fleet(fleet_config(h, 200));
  ASSERT_TRUE(fleet.start().ok());
  ASSERT_TRUE(wait_until([&] { return fleet.stats().registered == 200; }, 20s))
      << fleet.stats().registered << " of 200 registered";
  EXPECT_EQ(registrations_in_redis(h), 200u);
  EXPECT_EQ(fleet.stats().registrations, 200u);

  // Reads through the bus: X, Y, Z inside the range, units as IPSO says.
  for (uint32_t i : {0u, 57u, 199u}) {
    const std::string ep = fleet.endpoint(i);
    for (const char* r : {"5702", "5703", "5704"}) {
      Reply v = ask(
          h, ep,
          std::string(R"({"kind":"read","path":"/3313/0/)") + r + R"(","contentFormat":"TEXT"})");
      ASSERT_TRUE(v.ok) << ep << " " << r;
      const double value = v.body.at("content").at("value").to_number<double>();
      EXPECT_GE(value, -20.0);
      EXPECT_LE(value, 20.0);
    }
    Reply units = ask(h, ep, R"({"kind":"read","path":"/3313/0/5701","contentFormat":"TEXT"})");
    ASSERT_TRUE(units.ok);
    EXPECT_EQ(units.body.at("content").at("value").as_string(), "m/s2");
  }

  // Observe X on 20 devices; each samples every 100 ms and notifies every
  // change, so about 10 notifications per second per observation (a sample
  // leaves X unchanged a few percent of the time: within 10%).
  std::vector<std::string> tickets;
  for (uint32_t i = 0; i < 20; ++i) {
    const std::string ticket = "obs-" + std::to_string(i);
    const std::string msg =
        R"({"ep":")" + fleet.endpoint(i * 10) + R"(","ticket":")" + ticket +
        R"(","req":{"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"}})";
    ASSERT_FALSE(h.request(msg, ticket).empty());
    tickets.push_back(ticket);
  }
  auto count_notifications = [&] {
    size_t n = 0;
    for (const std::string& m : h.seen("LWM2M_RESP"))
      if (m.find("\"notification\":true") != std::string::npos) ++n;
    return n;
  };
  std::this_thread::sleep_for(500ms);
  const size_t before = count_notifications();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(3s);
  const size_t after = count_notifications();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double per_observation_hz = static_cast<double>(after - before) / seconds / 20.0;
  EXPECT_GT(per_observation_hz, 9.0) << after - before << " notifications in " << seconds << " s";
  EXPECT_LT(per_observation_hz, 11.0) << after - before << " notifications in " << seconds << " s";

  fleet.stop();
  EXPECT_EQ(fleet.stats().registered, 0u);
  EXPECT_TRUE(wait_until([&] { return registrations_in_redis(h) == 0; }, 5s))
      << "de-registration on stop";
  EXPECT_GE(fleet.stats().notifications_sent, after - before);
}

// NAT rebinding of a whole fleet: every device moves to a new source port;
// the node follows each observed device to its new address with its next
// notification, and reads reach them there.
TEST(Fleet, RebindingMovesEveryDeviceAndTheNodeFollowsTheObservedOnes) {
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  emulated::FleetConfig config = fleet_config(h, 10);
  config.ramp = 0ms;
  emulated::Fleet fleet(config);
  ASSERT_TRUE(fleet.start().ok());
  ASSERT_TRUE(wait_until([&] { return fleet.stats().registered == 10; }, 20s));
  auto port_of = [&](const std::string& ep) -> int64_t {
    auto r = h.redis({"GET", "REG:EP:{" + ep + "}"});
    if (!r.ok() || !r->is_string()) return -1;
    return json::parse(r->str).at("identity").at("port").as_int64();
  };
  std::vector<int64_t> before;
  for (uint32_t i = 0; i < 10; ++i) {
    const std::string ep = fleet.endpoint(i);
    Reply obs = ask(h, ep, R"({"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"})");
    ASSERT_TRUE(obs.ok) << ep;
    before.push_back(port_of(ep));
  }
  fleet.rebind();
  ASSERT_TRUE(wait_until([&] { return fleet.stats().rebinds == 10; }, 5s))
      << fleet.stats().rebinds << " of 10 rebound";
  for (uint32_t i = 0; i < 10; ++i) {
    const std::string ep = fleet.endpoint(i);
    EXPECT_TRUE(wait_until([&] { return port_of(ep) != before[i]; }, 5s))
        << ep << " still at port " << before[i];
    Reply read = ask(h, ep, R"({"kind":"read","path":"/3313/0/5703","contentFormat":"TEXT"})");
    EXPECT_TRUE(read.ok) << ep;
  }
  fleet.stop();
}

// A DTLS fleet: every device has its own PSK (identity = endpoint, key from
// the key pattern), added to the cluster through sec_info beforehand.
TEST(Fleet, DtlsDevicesRegisterWithTheirOwnKeysAndAnswerReads) {
  HarnessOptions o;
  o.dtls = true;
  ClusterHarness h(o);
  ASSERT_TRUE(h.start()) << h.error();
  emulated::FleetConfig c = fleet_config(h, 20);
  c.server = {boost::asio::ip::make_address("127.0.0.1"), h.coaps_port(0)};
  c.psk_identity_pattern = "{ep}";
  c.psk_key_pattern = "key-{ep}";
  emulated::Fleet fleet(c);
  for (uint32_t i = 0; i < 20; ++i) {
    const std::string ep = fleet.endpoint(i);
    Reply add = ask(h, ep,
                    R"({"kind":"sec_info","action":"add","identity":")" + ep + R"(","key":")" +
                        to_hex("key-" + ep) + R"("})");
    ASSERT_TRUE(add.ok) << ep;
  }
  ASSERT_TRUE(fleet.start().ok());
  ASSERT_TRUE(wait_until([&] { return fleet.stats().registered == 20; }, 30s))
      << fleet.stats().registered << " of 20 registered";
  auto record = h.redis({"GET", "REG:EP:{" + fleet.endpoint(5) + "}"});
  ASSERT_TRUE(record.ok());
  EXPECT_NE(record->str.find("\"secure\":true"), std::string::npos) << record->str;
  Reply x =
      ask(h, fleet.endpoint(5), R"({"kind":"read","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_TRUE(x.ok);
  EXPECT_LE(std::abs(x.body.at("content").at("value").to_number<double>()), 20.0);
  fleet.stop();
  EXPECT_EQ(fleet.stats().registrations, 20u);
  EXPECT_EQ(fleet.stats().registered, 0u);
  EXPECT_TRUE(wait_until([&] { return registrations_in_redis(h) == 0; }, 5s));
}

// Devices sharing one socket per thread (a source range): each registers
// from its own loopback address, which the node records as the device's
// address; reads and observations through the bus reach the right device;
// stop de-registers all.
TEST(Fleet, DevicesSharingSocketsRegisterFromTheirOwnAddresses) {
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  emulated::FleetConfig c = fleet_config(h, 300);
  c.bind_address.reset();
  c.source_range = io::AddressRange::parse("127.64.0.0/16").value();
  emulated::Fleet fleet(c);
  ASSERT_TRUE(fleet.start().ok());
  EXPECT_TRUE(fleet.shares_sockets());
  ASSERT_TRUE(wait_until([&] { return fleet.stats().registered == 300; }, 20s))
      << fleet.stats().registered << " of 300 registered";
  EXPECT_EQ(registrations_in_redis(h), 300u);
  for (uint32_t i : {0u, 149u, 150u, 299u}) {
    auto keys = h.redis({"KEYS", "EP:ADDR:127.64." + std::to_string((i + 1) / 256) + "." +
                                     std::to_string((i + 1) % 256) + ":*"});
    ASSERT_TRUE(keys.ok());
    ASSERT_EQ(keys->elements.size(), 1u) << "device " << i << " seen at its own address";
    auto ep = h.redis({"GET", keys->elements[0].str});
    ASSERT_TRUE(ep.ok());
    EXPECT_NE(ep->str.find(fleet.endpoint(i)), std::string::npos) << ep->str;
    Reply units = ask(h, fleet.endpoint(i),
                      R"({"kind":"read","path":"/3313/0/5701","contentFormat":"TEXT"})");
    ASSERT_TRUE(units.ok) << fleet.endpoint(i);
    EXPECT_EQ(units.body.at("content").at("value").as_string(), "m/s2");
  }
  const std::string ticket = "obs-shared";
  ASSERT_FALSE(h.request(R"({"ep":")" + fleet.endpoint(42) + R"(","ticket":")" + ticket +
                             R"(","req":{"kind":"observe","path":"/3313/0/5702"}})",
                         ticket)
                   .empty());
  ASSERT_TRUE(wait_until(
      [&] {
        size_t n = 0;
        for (const std::string& m : h.seen("LWM2M_RESP"))
          n += m.find("\"notification\":true") != std::string::npos;
        return n >= 5;
      },
      5s))
      << "notifications of an observed device that shares its socket";
  fleet.stop();
  EXPECT_EQ(fleet.stats().registered, 0u);
  EXPECT_TRUE(wait_until([&] { return registrations_in_redis(h) == 0; }, 5s))
      << "de-registration on stop";
}

TEST(Fleet, RejectsBadConfigurations) {
  emulated::FleetConfig c;
  c.server = {boost::asio::ip::make_address("127.0.0.1"), 5683};
  c.devices = 2;
  c.endpoint_pattern = "same-name";
  EXPECT_FALSE(emulated::validate(c).ok());
  c.endpoint_pattern = "dev-{x}";
  EXPECT_FALSE(emulated::validate(c).ok());
  c.endpoint_pattern = "dev-{n}";
  c.threads = 0;
  EXPECT_FALSE(emulated::validate(c).ok());
  c.threads = 1;
  c.psk_identity_pattern = "{ep}";
  EXPECT_FALSE(emulated::validate(c).ok()) << "identity without key";
  c.psk_key_pattern = "k-{n}";
  EXPECT_TRUE(emulated::validate(c).ok());
  c.source_range = io::AddressRange::parse("127.64.0.0/16").value();
  EXPECT_FALSE(emulated::validate(c).ok()) << "DTLS devices cannot share sockets";
  c.psk_identity_pattern.clear();
  EXPECT_TRUE(emulated::validate(c).ok());
  c.source_range = io::AddressRange::parse("127.64.0.0/31").value();
  EXPECT_FALSE(emulated::validate(c).ok()) << "too few addresses";
  c.source_range = io::AddressRange::parse("fd00::/64").value();
  EXPECT_FALSE(emulated::validate(c).ok()) << "IPv6 devices towards an IPv4 server";
}

// The `fogm2m fleet` process: registers, writes its stats file, answers an
// independent CoAP client (libcoap's coap-client-notls) on a device's own
// port, and de-registers everything at SIGTERM with a JSON summary.
TEST(FleetCommand, RunsAnswersCoapClientAndSummarisesAtSigterm) {
  if (run_command("command -v coap-client-notls").status != 0)
    GTEST_SKIP() << "coap-client-notls missing";
  ClusterHarness h;
  ASSERT_TRUE(h.start()) << h.error();
  const auto dir =
      std::filesystem::temp_directory_path() / ("fleet-cmd-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string stats = (dir / "stats.json").string(),
                    summary = (dir / "summary.json").string();
  const std::string server = "127.0.0.1:" + std::to_string(h.coap_port(0));
  const std::string fogm2m = std::string(FOGM2M_BINARY_DIR) + "/cli/fogm2m";
  const pid_t pid = fork();
  if (pid == 0) {
    execl(fogm2m.c_str(), "fogm2m", "fleet", "--server", server.c_str(), "--devices", "20",
          "--bind", "127.0.0.1", "--ep-pattern", "cmd-{n:3}", "--ramp-s", "0.2", "--stats-file",
          stats.c_str(), "--stats-interval", "0.2", "--summary", summary.c_str(), "--quiet",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  auto read_json = [](const std::string& path) -> json::object {
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  };
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = read_json(stats);
        return s.contains("registered") && s.at("registered").to_number<int>() == 20;
      },
      15s));

  // The registration record tells the device's address; ask it directly.
  auto record = h.redis({"GET", "REG:EP:{cmd-007}"});
  ASSERT_TRUE(record.ok());
  auto reg = json::parse(record->str).as_object();
  const auto port = reg.at("identity").at("port").to_number<int>();
  const auto out =
      run_command("coap-client-notls -B 5 -m get -A 0 coap://127.0.0.1:" + std::to_string(port) +
                  "/3/0/0 2>&1");
  EXPECT_NE(out.output.find("fogm2m"), std::string::npos) << out.output;

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto s = read_json(summary);
  ASSERT_TRUE(s.contains("devices"));
  EXPECT_EQ(s.at("devices").to_number<int>(), 20);
  EXPECT_EQ(s.at("registrations").to_number<int>(), 20);
  EXPECT_EQ(s.at("registered").to_number<int>(), 0) << "de-registered at SIGTERM";
  EXPECT_GE(s.at("requests_answered").to_number<int>(), 1);
  EXPECT_TRUE(wait_until([&] { return registrations_in_redis(h) == 0; }, 5s));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fogm2m::test
