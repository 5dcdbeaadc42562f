// DtlsDevice end to end: emulated devices speaking CoAP over DTLS-PSK
// (libcoap client sessions) to a real node's DTLS transport, with a real
// Redis, security info added over the bus, and requests sent over the bus.
#include "emulated_clients/dtls_device.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lwm2m/hex.h"
#include "tests/cluster/cluster_harness.h"
#include "tests/support/udp_relay.h"

namespace fogm2m::test {
namespace {

using emulated::Device;
using emulated::DeviceConfig;
using emulated::DeviceIdentity;
using emulated::DtlsClientContext;
using emulated::DtlsDevice;
using emulated::DtlsDeviceOptions;
using emulated::RegistrationState;
namespace asio = boost::asio;

// A node with DTLS, plus a libcoap client context on the harness' io thread.
class DtlsDeviceTest : public ::testing::Test {
 protected:
  virtual HarnessOptions harness_options() const {
    HarnessOptions o;
    o.dtls = true;
    o.device_timeout = std::chrono::milliseconds(3000);
    return o;
  }
  void SetUp() override {
    h_ = std::make_unique<ClusterHarness>(harness_options());
    ASSERT_TRUE(h_->start()) << h_->error();
    h_->on_io([&] {
      auto ctx = DtlsClientContext::create(h_->io());
      ASSERT_TRUE(ctx.ok()) << ctx.error().message;
      ctx_ = std::move(*ctx);
    });
    config_ = std::make_shared<DeviceConfig>();
    config_->lifetime_s = 120;
    config_->sample_period = std::chrono::milliseconds(50);
  }
  void TearDown() override {
    if (h_)
      h_->on_io([&] {
        devices_.clear();
        ctx_.reset();
      });
  }

  void add_psk(const std::string& ep, const std::string& identity, const std::string& key) {
    auto add = ask(*h_, ep,
                   R"({"kind":"sec_info","action":"add","identity":")" + identity + R"(","key":")" +
                       to_hex(key) + R"("})");
    ASSERT_EQ(reply_code(add), "CREATED") << reply_error(add);
  }

  // Creates and starts a device on the io thread; returns its index.
  size_t start_device(const std::string& ep, const std::string& identity, const std::string& key,
                      uint64_t seed = 1) {
    DtlsDeviceOptions opt;
    opt.handshake_timeout = handshake_timeout_;
    opt.bind_address = asio::ip::make_address("127.0.0.1");
    opt.transmission.ack_timeout = std::chrono::milliseconds(500);
    opt.on_registration_state = [this](RegistrationState s) {
      std::lock_guard<std::mutex> lock(mu_);
      states_.push_back(s);
    };
    size_t index = 0;
    h_->on_io([&] {
      asio::ip::udp::endpoint server(asio::ip::make_address("127.0.0.1"), h_->coaps_port(0));
      devices_.push_back(std::make_unique<DtlsDevice>(
          *ctx_, server, Device(config_, DeviceIdentity{ep, seed, identity, key}), opt));
      index = devices_.size() - 1;
      Status st = devices_.back()->start();
      EXPECT_TRUE(st.ok()) << st.error().message;
    });
    return index;
  }

  // Stops device `i` and waits until its on_stopped ran.
  bool stop_device(size_t i, std::chrono::milliseconds wait = std::chrono::seconds(10)) {
    auto stopped = std::make_shared<std::promise<void>>();
    auto done = stopped->get_future();
    h_->on_io([&] { devices_[i]->stop([stopped] { stopped->set_value(); }); });
    return done.wait_for(wait) == std::future_status::ready;
  }

  template <typename T>
  T on_device(size_t i, const std::function<T(DtlsDevice&)>& fn) {
    T out{};
    h_->on_io([&] { out = fn(*devices_[i]); });
    return out;
  }

  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<DtlsClientContext> ctx_;
  std::shared_ptr<DeviceConfig> config_;
  std::vector<std::unique_ptr<DtlsDevice>> devices_;
  std::mutex mu_;
  std::vector<RegistrationState> states_;
  std::chrono::milliseconds handshake_timeout_{10000};
};

TEST_F(DtlsDeviceTest, RegistersOverDtlsAnswersReadsAndDeregistersOnStop) {
  add_psk("dtls-1", "dtls-1-id", "dtls-1-secret");
  const size_t d = start_device("dtls-1", "dtls-1-id", "dtls-1-secret");
  ASSERT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-1"));

  // The registration record says DTLS with this identity.
  auto record = h_->redis({"GET", "REG:EP:{dtls-1}"});
  ASSERT_TRUE(record.ok() && record->is_string());
  EXPECT_NE(record->str.find("\"secure\":true"), std::string::npos) << record->str;
  EXPECT_NE(record->str.find("\"pskId\":\"dtls-1-id\""), std::string::npos) << record->str;
  // Its address is the device's own source port.
  const auto local = on_device<asio::ip::udp::endpoint>(
      d, [](DtlsDevice& target) { return target.local_endpoint(); });
  EXPECT_NE(local.port(), 0);
  EXPECT_NE(record->str.find(std::to_string(local.port())), std::string::npos) << record->str;

  // A Read through the bus, answered over the DTLS session.
  auto x = ask(*h_, "dtls-1", R"({"kind":"read","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(x), "CONTENT") << reply_error(x);
  const double v = x.body.at("content").at("value").to_number<double>();
  EXPECT_GE(v, -20.0);
  EXPECT_LE(v, 20.0);
  auto dev = ask(*h_, "dtls-1", R"({"kind":"read","path":"/3/0","contentFormat":"TLV"})");
  ASSERT_EQ(reply_code(dev), "CONTENT") << reply_error(dev);
  // A Write, read back.
  auto write = ask(*h_, "dtls-1", R"({"kind":"write","path":"/3/0/14","value":"+02:00"})");
  EXPECT_EQ(reply_code(write), "CHANGED") << reply_error(write);
  auto back = ask(*h_, "dtls-1", R"({"kind":"read","path":"/3/0/14","contentFormat":"TEXT"})");
  EXPECT_EQ(back.body.at("content").at("value").as_string(), "+02:00");

  const auto stats =
      on_device<emulated::DtlsDeviceStats>(d, [](DtlsDevice& target) { return target.stats(); });
  EXPECT_EQ(stats.handshakes, 1u);
  EXPECT_EQ(stats.handshake_failures, 0u);
  EXPECT_GE(stats.datagrams_in, 5u);  // Register response + 4 requests
  EXPECT_GE(stats.datagrams_out, 5u);

  // Stop de-registers over DTLS.
  ASSERT_TRUE(stop_device(d));
  EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_DEL", "dtls-1"));
  EXPECT_FALSE(on_device<bool>(d, [](DtlsDevice& target) { return target.running(); }));
  EXPECT_EQ(on_device<uint32_t>(
                d, [](DtlsDevice& target) { return target.device().counters().deregistrations; }),
            1u);
  auto gone = h_->redis({"EXISTS", "REG:EP:{dtls-1}"});
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->integer, 0);
  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_FALSE(states_.empty());
  EXPECT_EQ(states_.back(), RegistrationState::kStopped);
}

TEST_F(DtlsDeviceTest, ObservationNotifiesOverDtlsUntilCancelled) {
  add_psk("dtls-obs", "dtls-obs-id", "dtls-obs-secret");
  const size_t d = start_device("dtls-obs", "dtls-obs-id", "dtls-obs-secret");
  ASSERT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-obs"));

  auto obs =
      ask(*h_, "dtls-obs", R"({"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
  EXPECT_TRUE(obs.body.at("observe").as_bool());
  const auto count = count_notifications;
  // Sampling every 50 ms, a notification per change; every 10th is CON.
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
    return count(msgs) >= 25;
  })) << "fewer than 25 notifications forwarded";
  const auto device_counters = on_device<emulated::DeviceCounters>(
      d, [](DtlsDevice& target) { return target.device().counters(); });
  EXPECT_GE(device_counters.notifications_sent, 25u);

  auto cancel = ask(*h_, "dtls-obs", R"({"kind":"cancel_observe","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(cancel), "CANCELLED") << reply_error(cancel);
  // The device learns of the cancellation (RST to a CON notification at the
  // latest) and stops notifying.
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {
    ended = on_device<size_t>(
                d, [](DtlsDevice& target) { return target.device().observation_count(); }) == 0;
    if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(ended) << "the device still has the observation after the server cancelled it";
  ASSERT_TRUE(stop_device(d));
}

// Failover: the device reaches node-1 through a relay (the balancer); the
// relay then sends its datagrams to node-2, which knows no DTLS session of
// it and drops them, while node-1 says nothing (a dead node). The device's
// CON notifications go unacknowledged; it abandons the session, makes a new
// one (with node-2) and sends an Update on it; node-2 takes the device over
// and asks again for its observation, whose notifications then flow under
// the observe's ticket.
class DtlsFailoverTest : public DtlsDeviceTest {
 protected:
  HarnessOptions harness_options() const override {
    HarnessOptions o = DtlsDeviceTest::harness_options();
    o.nodes = 2;
    return o;
  }
  void SetUp() override {
    DtlsDeviceTest::SetUp();
    if (HasFatalFailure()) return;
    h_->on_io([&] {
      relay_ = std::make_unique<UdpRelay>(
          h_->io(),
          asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), h_->coaps_port(0)));
    });
    config_->notify_con_every = 4;
  }
  void TearDown() override {
    DtlsDeviceTest::TearDown();
    if (h_) h_->on_io([&] { relay_.reset(); });
  }

  // Starts device `ep` (identity ep-id, key ep-secret) through the relay,
  // with libcoap's least ACK timeout (1 s), and observes its X value until
  // ten notifications came; returns its index (fatal failures otherwise).
  size_t start_observed(const std::string& ep, uint64_t seed) {
    const std::string identity = ep + "-id", key = ep + "-secret";
    add_psk(ep, identity, key);
    DtlsDeviceOptions opt;
    opt.bind_address = asio::ip::make_address("127.0.0.1");
    opt.transmission.ack_timeout = std::chrono::seconds(1);  // libcoap's least
    size_t d = 0;
    h_->on_io([&] {
      asio::ip::udp::endpoint via(asio::ip::make_address("127.0.0.1"), relay_->port());
      devices_.push_back(std::make_unique<DtlsDevice>(
          *ctx_, via, Device(config_, DeviceIdentity{ep, seed, identity, key}), opt));
      d = devices_.size() - 1;
      Status st = devices_.back()->start();
      EXPECT_TRUE(st.ok()) << st.error().message;
    });
    EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", ep));
    EXPECT_EQ(owner(ep), "node-1");
    auto obs = ask(*h_, ep, R"({"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"})");
    EXPECT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
    EXPECT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
      return count_notifications(msgs) >= 10;
    }));
    return d;
  }
  // Whether notifications resume: 20 more than `before` within `wait`.
  bool notifications_resume(size_t before, std::chrono::seconds wait) {
    return h_->wait_for(
        "LWM2M_RESP",
        [&](const std::vector<std::string>& msgs) {
          return count_notifications(msgs) >= before + 20;
        },
        wait);
  }
  std::string owner(const std::string& ep) {
    auto r = h_->redis({"GET", "EP#UID:{" + ep + "}"});
    return r.ok() ? r->str : std::string();
  }
  void move_relay_to_node_2() {
    h_->on_io([&] {
      relay_->move_to(
          asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), h_->coaps_port(1)));
    });
  }

  std::unique_ptr<UdpRelay> relay_;
};

TEST_F(DtlsFailoverTest, ADeviceWhoseNodeFallsSilentRehandshakesUpdatesAndIsObservedAgain) {
  const size_t d = start_observed("dtls-fo", 7);
  ASSERT_FALSE(HasFailure());
  move_relay_to_node_2();
  const size_t before = count_notifications(h_->seen("LWM2M_RESP"));
  // A CON's transmission and libcoap's retransmission unacknowledged (1 s +
  // 2 s), a handshake, an Update, a re-observe.
  ASSERT_TRUE(notifications_resume(before, std::chrono::seconds(20)))
      << "notifications did not resume through node-2: "
      << on_device<std::string>(d, [](DtlsDevice& t) {
           const auto& st = t.stats();
           return "out " + std::to_string(st.datagrams_out) + ", in " +
                  std::to_string(st.datagrams_in) + ", notified " +
                  std::to_string(t.device().counters().notifications_sent) + ", abandoned " +
                  std::to_string(st.sessions_abandoned) + ", handshakes " +
                  std::to_string(st.handshakes) + ", timeouts " + std::to_string(st.timeouts) +
                  ", retransmissions " + std::to_string(st.retransmissions) + ", hs failures " +
                  std::to_string(st.handshake_failures) + ", observations " +
                  std::to_string(t.device().observation_count()) + ", updates " +
                  std::to_string(t.device().counters().updates) + ", state " +
                  std::to_string(static_cast<int>(t.device().registration_state()));
         });
  const auto stats =
      on_device<emulated::DtlsDeviceStats>(d, [](DtlsDevice& target) { return target.stats(); });
  EXPECT_GE(stats.sessions_abandoned, 1u);
  EXPECT_GE(stats.handshakes, 2u);
  EXPECT_EQ(owner("dtls-fo"), "node-2");
  // Requests reach the device through its new owner.
  auto read = ask(*h_, "dtls-fo", R"({"kind":"read","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  ASSERT_TRUE(stop_device(d));
}

// The balancer's first answer to a dead node: its address refuses the
// device's datagrams (ICMP port unreachable) until the health check takes
// it out. libcoap closes the session on the refusal; the device makes a new
// one and announces itself on it: an Update, whose handshake is refused
// too while the port stays shut, so in practice a Register, and the node
// that gets it (node-2) asks again for the observation the store holds.
TEST_F(DtlsFailoverTest, ADeviceRefusedByItsDeadNodesAddressComesBackObserved) {
  const size_t d = start_observed("dtls-icmp", 8);
  ASSERT_FALSE(HasFailure());

  h_->on_io([&] { relay_->refuse(); });
  bool lost = false;
  for (int i = 0; i < 200 && !lost; ++i) {
    lost = on_device<uint64_t>(
               d, [](DtlsDevice& target) { return target.stats().session_failures; }) >= 1;
    if (!lost) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(lost) << "the refused datagrams did not end the session";
  const size_t before = count_notifications(h_->seen("LWM2M_RESP"));
  h_->on_io([&] {
    relay_->reopen(asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), h_->coaps_port(1)));
  });
  EXPECT_TRUE(notifications_resume(before, std::chrono::seconds(30)))
      << "notifications did not resume through node-2";
  EXPECT_EQ(owner("dtls-icmp"), "node-2");
  ASSERT_TRUE(stop_device(d));
}

// NAT rebinding over DTLS: the device's address changes under its session,
// which the node knows by address; the device makes a new session from a
// new port and updates on it. Its node sees an Update over a new session
// and asks again for the observation (which ended with the old session);
// when the balancer sends the new flow to node-2, node-2 takes the device
// over by the Update and does the same.
TEST_F(DtlsFailoverTest, ADeviceThatChangesAddressUpdatesOnANewSessionAndStaysObserved) {
  const size_t d = start_observed("dtls-nat", 9);
  ASSERT_FALSE(HasFailure());

  size_t before = count_notifications(h_->seen("LWM2M_RESP"));
  h_->on_io([&] { EXPECT_TRUE(devices_[d]->rebind().ok()); });
  EXPECT_TRUE(notifications_resume(before, std::chrono::seconds(15)))
      << "notifications did not resume on node-1";
  EXPECT_EQ(owner("dtls-nat"), "node-1");

  move_relay_to_node_2();
  before = count_notifications(h_->seen("LWM2M_RESP"));
  h_->on_io([&] { EXPECT_TRUE(devices_[d]->rebind().ok()); });
  EXPECT_TRUE(notifications_resume(before, std::chrono::seconds(15)))
      << "notifications did not resume through node-2";
  EXPECT_EQ(owner("dtls-nat"), "node-2");
  const auto stats =
      on_device<emulated::DtlsDeviceStats>(d, [](DtlsDevice& target) { return target.stats(); });
  EXPECT_EQ(stats.rebinds, 2u);
  EXPECT_GE(stats.handshakes, 3u);
  const auto counters = on_device<emulated::DeviceCounters>(
      d, [](DtlsDevice& target) { return target.device().counters(); });
  EXPECT_EQ(counters.registrations, 1u);  // Updates, not Registers
  auto read = ask(*h_, "dtls-nat", R"({"kind":"read","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  ASSERT_TRUE(stop_device(d));
}

TEST_F(DtlsDeviceTest, WrongKeyFailsTheHandshakeAndNeverRegisters) {
  add_psk("dtls-bad", "dtls-bad-id", "the-right-key");
  config_->retry_base = std::chrono::milliseconds(200);
  handshake_timeout_ = std::chrono::milliseconds(1000);
  const size_t d = start_device("dtls-bad", "dtls-bad-id", "a-wrong-key");
  bool failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    failed = on_device<uint64_t>(
                 d, [](DtlsDevice& target) { return target.stats().handshake_failures; }) >= 2;
    if (!failed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(failed) << "no two handshake failures counted (the device retries Register)";
  EXPECT_FALSE(seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-bad", std::chrono::milliseconds(200)));
  const auto stats =
      on_device<emulated::DtlsDeviceStats>(d, [](DtlsDevice& target) { return target.stats(); });
  EXPECT_EQ(stats.handshakes, 0u);
  EXPECT_GE(stats.timeouts, 1u);  // the Register carried by the failed session
  EXPECT_EQ(on_device<uint32_t>(
                d, [](DtlsDevice& target) { return target.device().counters().registrations; }),
            0u);
  ASSERT_TRUE(stop_device(d));

  // An identity the server does not know: the server refuses the handshake.
  const size_t u = start_device("dtls-unknown", "nobody-knows-me", "some-key");
  failed = false;
  for (int i = 0; i < 200 && !failed; ++i) {
    failed = on_device<uint64_t>(
                 u, [](DtlsDevice& target) { return target.stats().handshake_failures; }) >= 1;
    if (!failed) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(failed);
  EXPECT_FALSE(
      seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-unknown", std::chrono::milliseconds(200)));
  ASSERT_TRUE(stop_device(u));
}

TEST_F(DtlsDeviceTest, StopDuringTheHandshakeReturnsAtOnce) {
  add_psk("dtls-quick", "dtls-quick-id", "dtls-quick-secret");
  auto stopped = std::make_shared<std::promise<void>>();
  auto done = stopped->get_future();
  // Started and stopped in one io turn: the ClientHello is out, nothing back yet.
  h_->on_io([&] {
    asio::ip::udp::endpoint server(asio::ip::make_address("127.0.0.1"), h_->coaps_port(0));
    DtlsDeviceOptions opt;
    opt.bind_address = asio::ip::make_address("127.0.0.1");
    devices_.push_back(std::make_unique<DtlsDevice>(
        *ctx_, server,
        Device(config_, DeviceIdentity{"dtls-quick", 1, "dtls-quick-id", "dtls-quick-secret"}),
        opt));
    ASSERT_TRUE(devices_.back()->start().ok());
    EXPECT_FALSE(devices_.back()->connected());
    devices_.back()->stop([stopped] { stopped->set_value(); });
    EXPECT_FALSE(devices_.back()->running());
  });
  ASSERT_EQ(done.wait_for(std::chrono::seconds(2)), std::future_status::ready);
  EXPECT_FALSE(seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-quick", std::chrono::milliseconds(300)));
}

TEST_F(DtlsDeviceTest, ManyDevicesRegisterEachFromItsOwnPort) {
  constexpr int kDevices = 20;
  for (int i = 0; i < kDevices; ++i) {
    const std::string ep = "dtls-many-" + std::to_string(i);
    add_psk(ep, ep + "-id", ep + "-secret");
  }
  for (int i = 0; i < kDevices; ++i) {
    const std::string ep = "dtls-many-" + std::to_string(i);
    start_device(ep, ep + "-id", ep + "-secret", static_cast<uint64_t>(i + 1));
  }
  for (int i = 0; i < kDevices; ++i)
    EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_NEW", "dtls-many-" + std::to_string(i)));
  std::set<uint16_t> ports;
  h_->on_io([&] {
    for (auto& d : devices_) ports.insert(d->local_endpoint().port());
  });
  EXPECT_EQ(ports.size(), static_cast<size_t>(kDevices));
  auto r =
      ask(*h_, "dtls-many-7", R"({"kind":"read","path":"/3313/0/5701","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(r), "CONTENT") << reply_error(r);
  EXPECT_EQ(r.body.at("content").at("value").as_string(), "m/s2");
  for (size_t i = 0; i < devices_.size(); ++i) EXPECT_TRUE(stop_device(i));
  for (int i = 0; i < kDevices; ++i)
    EXPECT_TRUE(seen_endpoint(*h_, "LESHAN_REG_DEL", "dtls-many-" + std::to_string(i)));
}

// Resident memory of this process in bytes (/proc/self/statm).
size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// 1000 devices with established DTLS sessions, registered: the growth of
// this process' RSS per device, printed for the notes. It holds both ends of
// every session (the node runs in this process too), so it bounds what one
// DtlsDevice costs from above. The bound only catches a gross regression.
TEST_F(DtlsDeviceTest, ThousandRegisteredDevicesMemory) {
  constexpr int kDevices = 1000;
  config_->sample_period = std::chrono::milliseconds(0);  // memory, not sampling
  config_->lifetime_s = 600;
  for (int i = 0; i < kDevices; ++i) {
    const std::string ep = "mem-" + std::to_string(i);
    add_psk(ep, ep + "-id", ep + "-secret");
  }
  const size_t before = resident_bytes();
  for (int i = 0; i < kDevices; ++i) {
    const std::string ep = "mem-" + std::to_string(i);
    start_device(ep, ep + "-id", ep + "-secret", static_cast<uint64_t>(i + 1));
  }
  ASSERT_TRUE(h_->wait_for(
      "LESHAN_REG_NEW",
      [&](const std::vector<std::string>& msgs) {
        return msgs.size() >= static_cast<size_t>(kDevices);
      },
      std::chrono::seconds(120)))
      << h_->seen("LESHAN_REG_NEW").size() << " of " << kDevices << " registered";
  const size_t after = resident_bytes();
  const double per_device = static_cast<double>(after - before) / kDevices;
  std::printf(
      "[ MEMORY   ] %d registered DtlsDevices + their node sessions: %.0f RSS bytes per device\n",
      kDevices, per_device);
  RecordProperty("rss_bytes_per_device_and_node_session", static_cast<int>(per_device));
  EXPECT_LT(per_device, 512.0 * 1024);
  uint64_t handshakes = 0;
  h_->on_io([&] {
    for (auto& d : devices_) handshakes += d->stats().handshakes;
  });
  EXPECT_EQ(handshakes, static_cast<uint64_t>(kDevices));
}

}  // namespace
}  // namespace fogm2m::test
