// Every bus request kind end to end: LWM2M_REQ on a real Redis -> a real
// node -> CoAP over UDP -> an emulated IPSO 3313 device -> LWM2M_RESP.
#include <gtest/gtest.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>

#include "bus/reply.h"
#include "bus/request.h"
#include "emulated_clients/udp_device.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

namespace json = boost::json;
using emulated::Device;
using emulated::DeviceConfig;
using emulated::DeviceIdentity;
using emulated::UdpDevice;

// Starts an emulated device registering with node `node` of `h`.
std::unique_ptr<UdpDevice> start_device(ClusterHarness& h, int node, const std::string& ep,
                                        uint64_t seed = 1) {
  auto config = std::make_shared<DeviceConfig>();
  config->lifetime_s = 120;
  config->sample_period = std::chrono::milliseconds(50);
  emulated::UdpDeviceOptions opt;
  opt.transmission.ack_timeout = std::chrono::milliseconds(500);
  opt.bind_address = boost::asio::ip::make_address("127.0.0.1");
  std::unique_ptr<UdpDevice> dev;
  h.on_io([&] {
    boost::asio::ip::udp::endpoint server(boost::asio::ip::make_address("127.0.0.1"),
                                          h.coap_port(node));
    dev = std::make_unique<UdpDevice>(h.io(), server,
                                      Device(config, DeviceIdentity{ep, seed, "", ""}), opt);
    EXPECT_TRUE(dev->start().ok());
  });
  EXPECT_TRUE(seen_endpoint(h, "LESHAN_REG_NEW", ep)) << ep << " did not register";
  return dev;
}

void stop_device(ClusterHarness& h, std::unique_ptr<UdpDevice>& dev) {
  h.on_io([&] { dev.reset(); });
}

// Each test runs on one redis-server and on a Redis Cluster.
class BusRequests : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.device_timeout = std::chrono::milliseconds(2000);
    if (std::string(GetParam()) == "redis_cluster") {
      std::string error;
      o.redis_cluster = shared_redis_cluster(error);
      ASSERT_NE(o.redis_cluster, nullptr) << error;
    }
    h_ = std::make_unique<ClusterHarness>(o);
    ASSERT_TRUE(h_->start()) << h_->error();
    dev_ = start_device(*h_, 0, "acc-1");
  }
  void TearDown() override {
    if (dev_) stop_device(*h_, dev_);
  }
  std::unique_ptr<ClusterHarness> h_;
  std::unique_ptr<UdpDevice> dev_;
};

TEST_P(BusRequests, ReadInEveryFormat) {
  auto x = ask(*h_, "acc-1", R"({"kind":"read","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(x), "CONTENT") << reply_error(x);
  const double v = x.body.at("content").at("value").to_number<double>();
  EXPECT_GE(v, -20.0);
  EXPECT_LE(v, 20.0);
  for (const char* format : {"TLV", "JSON", "SENML_JSON", "SENML_CBOR", "LWM2M_CBOR"}) {
    auto dev =
        ask(*h_, "acc-1",
            std::string(R"({"kind":"read","path":"/3/0","contentFormat":")") + format + "\"}");
    ASSERT_EQ(reply_code(dev), "CONTENT") << format << ": " << reply_error(dev);
    EXPECT_EQ(dev.body.at("contentFormat").as_string(), format);
    bool manufacturer = false;
    for (const auto& r : dev.body.at("content").at("resources").as_array())
      if (r.at("id").to_number<int>() == 0) manufacturer = r.at("value").as_string() == "fogm2m";
    EXPECT_TRUE(manufacturer) << format;
  }
  auto inst = ask(*h_, "acc-1", R"({"kind":"read","path":"/3313/0"})");
  ASSERT_EQ(reply_code(inst), "CONTENT");
  EXPECT_GE(inst.body.at("content").at("resources").as_array().size(), 4u);
}

TEST_P(BusRequests, DiscoverWriteExecuteCreateDelete) {
  auto disc = ask(*h_, "acc-1", R"({"kind":"discover","path":"/3313/0"})");
  ASSERT_EQ(reply_code(disc), "CONTENT") << reply_error(disc);
  EXPECT_GE(disc.body.at("links").as_array().size(), 5u);

  auto write = ask(*h_, "acc-1", R"({"kind":"write","path":"/3/0/14","value":"+02:00"})");
  ASSERT_EQ(reply_code(write), "CHANGED") << reply_error(write);
  auto back = ask(*h_, "acc-1", R"({"kind":"read","path":"/3/0/14","contentFormat":"TEXT"})");
  EXPECT_EQ(back.body.at("content").at("value").as_string(), "+02:00");

  auto partial = ask(*h_, "acc-1",
                     R"({"kind":"write","path":"/3/0","mode":"update","contentFormat":"TLV",)"
                     R"("node":{"id":0,"resources":[{"id":15,"value":"Europe/Rome"}]}})");
  ASSERT_EQ(reply_code(partial), "CHANGED") << reply_error(partial);
  auto tz = ask(*h_, "acc-1", R"({"kind":"read","path":"/3/0/15","contentFormat":"TEXT"})");
  EXPECT_EQ(tz.body.at("content").at("value").as_string(), "Europe/Rome");

  auto exec = ask(*h_, "acc-1", R"({"kind":"execute","path":"/3/0/4"})");
  EXPECT_EQ(reply_code(exec), "CHANGED") << reply_error(exec);
  auto not_exec = ask(*h_, "acc-1", R"({"kind":"execute","path":"/3/0/0"})");
  EXPECT_EQ(reply_code(not_exec), "METHOD_NOT_ALLOWED");

  // The instance id the server asks for is the one created (not the
  // device's next free id, 1), in TLV, SenML JSON, SenML CBOR and LwM2M CBOR.
  for (const auto& [format, id] : {std::pair{"TLV", 7}, std::pair{"SENML_JSON", 8},
                                   std::pair{"SENML_CBOR", 9}, std::pair{"LWM2M_CBOR", 10}}) {
    const std::string instance = "/3313/" + std::to_string(id);
    auto create = ask(*h_, "acc-1",
                      std::string(R"({"kind":"create","path":"/3313","contentFormat":")") + format +
                          R"(","node":{"id":)" + std::to_string(id) +
                          R"(,"resources":[{"id":5701,"value":"g"}]}})");
    ASSERT_EQ(reply_code(create), "CREATED") << format << ": " << reply_error(create);
    EXPECT_EQ(create.body.at("location").as_string(), instance) << format;
    auto created =
        ask(*h_, "acc-1",
            R"({"kind":"read","path":")" + instance + R"(/5701","contentFormat":"TEXT"})");
    EXPECT_EQ(reply_code(created), "CONTENT") << format;
    auto del = ask(*h_, "acc-1", R"({"kind":"delete","path":")" + instance + R"("})");
    EXPECT_EQ(reply_code(del), "DELETED") << reply_error(del);
    auto gone = ask(*h_, "acc-1", R"({"kind":"read","path":")" + instance + R"("})");
    EXPECT_EQ(reply_code(gone), "NOT_FOUND");
  }

  auto attrs =
      ask(*h_, "acc-1",
          R"({"kind":"write_attributes","path":"/3313/0/5702","attributes":{"pmin":1,"pmax":5}})");
  EXPECT_EQ(reply_code(attrs), "CHANGED") << reply_error(attrs);
}

TEST_P(BusRequests, ObserveForwardsNotificationsUntilCancelled) {
  auto obs =
      ask(*h_, "acc-1", R"({"kind":"observe","path":"/3313/0/5702","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
  EXPECT_TRUE(obs.body.at("observe").as_bool());
  // The device samples every 50 ms and notifies every change.
  const auto count = count_notifications;
  auto notifications = [&] { return count(h_->seen("LWM2M_RESP")); };
  // (wait_for holds the harness lock while it calls the predicate.)
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
    return count(msgs) >= 5;
  })) << "fewer than 5 notifications forwarded";
  // Observation kept in Redis under the endpoint's tag.
  auto tokens = h_->redis({"SMEMBERS", "TKNS:EP:{acc-1}"});
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->elements.size(), 1u);

  auto cancel = ask(*h_, "acc-1", R"({"kind":"cancel_observe","path":"/3313/0/5702"})");
  EXPECT_EQ(reply_code(cancel), "CANCELLED") << reply_error(cancel);
  const size_t after_cancel = notifications();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_LE(notifications(), after_cancel + 1);  // one may have been in flight
  EXPECT_TRUE(h_->redis({"SMEMBERS", "TKNS:EP:{acc-1}"})->elements.empty());
}

// Notifications in LwM2M CBOR (11544), which the device announced, come
// through decoded like any other format's.
TEST_P(BusRequests, ObserveInLwm2mCbor) {
  auto obs =
      ask(*h_, "acc-1", R"({"kind":"observe","path":"/3313/0","contentFormat":"LWM2M_CBOR"})");
  ASSERT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
  EXPECT_EQ(obs.body.at("contentFormat").as_string(), "LWM2M_CBOR");
  EXPECT_GE(obs.body.at("content").at("resources").as_array().size(), 4u);
  auto decoded = [](const std::vector<std::string>& msgs) {
    size_t n = 0;
    for (const auto& m : msgs)
      if (m.find("\"notification\":true") != std::string::npos &&
          m.find("\"id\":5702") != std::string::npos)
        ++n;
    return n;
  };
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
    return decoded(msgs) >= 3;
  })) << "fewer than 3 decoded notifications forwarded";
  auto cancel = ask(*h_, "acc-1", R"({"kind":"cancel_observe","path":"/3313/0"})");
  EXPECT_EQ(reply_code(cancel), "CANCELLED") << reply_error(cancel);
}

// The composite kinds (LwM2M 1.1 FETCH / iPATCH on "/") end to end.
TEST_P(BusRequests, CompositeReadWriteObserveAndCancel) {
  auto read = ask(*h_, "acc-1", R"({"kind":"read_composite","paths":["/3/0/9","/3313/0"]})");
  ASSERT_EQ(reply_code(read), "CONTENT") << reply_error(read);
  EXPECT_EQ(read.body.at("contentFormat").as_string(), "SENML_JSON");
  {
    const json::object& content = read.body.at("content").as_object();
    ASSERT_EQ(content.size(), 2u);
    EXPECT_EQ(content.at("/3/0/9").at("id").to_number<int>(), 9);
    EXPECT_TRUE(content.at("/3/0/9").at("value").is_number());
    EXPECT_GE(content.at("/3313/0").at("resources").as_array().size(), 4u);
  }

  auto write = ask(*h_, "acc-1",
                   R"({"kind":"write_composite","values":{"/3/0/15":"Europe/Paris",)"
                   R"("/3/0/14":"+01:00"}})");
  ASSERT_EQ(reply_code(write), "CHANGED") << reply_error(write);
  auto back = ask(*h_, "acc-1",
                  R"({"kind":"read_composite","paths":["/3/0/14","/3/0/15"],)"
                  R"("contentFormat":"SENML_CBOR"})");
  ASSERT_EQ(reply_code(back), "CONTENT") << reply_error(back);
  EXPECT_EQ(back.body.at("contentFormat").as_string(), "SENML_CBOR");
  EXPECT_EQ(back.body.at("content").at("/3/0/14").at("value").as_string(), "+01:00");
  EXPECT_EQ(back.body.at("content").at("/3/0/15").at("value").as_string(), "Europe/Paris");
  auto nodes = ask(*h_, "acc-1",
                   R"({"kind":"write_composite","contentFormat":"SENML_CBOR","nodes":{)"
                   R"("/3/0/15":{"id":15,"value":"UTC"},"/3/0/0":{"id":0,"value":"x"}}})");
  EXPECT_EQ(reply_code(nodes), "METHOD_NOT_ALLOWED") << reply_error(nodes);  // /3/0/0 read-only
  auto unchanged = ask(*h_, "acc-1", R"({"kind":"read","path":"/3/0/15","contentFormat":"TEXT"})");
  EXPECT_EQ(unchanged.body.at("content").at("value").as_string(), "Europe/Paris");

  auto obs =
      ask(*h_, "acc-1", R"({"kind":"observe_composite","paths":["/3/0/15","/3313/0/5702"]})");
  ASSERT_EQ(reply_code(obs), "CONTENT") << reply_error(obs);
  EXPECT_TRUE(obs.body.at("observe").as_bool());
  EXPECT_EQ(obs.body.at("content").as_object().size(), 2u);
  // The device samples every 50 ms; each notification carries both paths.
  auto composite_notifications = [](const std::vector<std::string>& msgs) {
    size_t n = 0;
    for (const auto& m : msgs) {
      if (m.find("\"notification\":true") == std::string::npos) continue;
      if (m.find(R"("paths":["/3/0/15","/3313/0/5702"])") == std::string::npos) continue;
      auto reply = bus::parse_reply(m);
      if (!reply) continue;
      const json::object& content = reply->body.at("content").as_object();
      const json::value& tz = content.at("/3/0/15").at("value");
      if (tz.is_string() && tz.get_string() == "Europe/Paris" &&
          content.at("/3313/0/5702").at("value").is_number() &&
          reply->body.at("ep").as_string() == "acc-1")
        ++n;
    }
    return n;
  };
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [&](const std::vector<std::string>& msgs) {
    return composite_notifications(msgs) >= 3;
  })) << "fewer than 3 composite notifications forwarded";
  // One observation in Redis, with its paths.
  auto tokens = h_->redis({"SMEMBERS", "TKNS:EP:{acc-1}"});
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->elements.size(), 1u);

  auto cancel = ask(*h_, "acc-1",
                    R"({"kind":"cancel_observe_composite","paths":["/3313/0/5702","/3/0/15"]})");
  EXPECT_EQ(reply_code(cancel), "CANCELLED") << reply_error(cancel);
  EXPECT_FALSE(cancel.body.at("observeTicket").as_string().empty());
  const size_t after_cancel = composite_notifications(h_->seen("LWM2M_RESP"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_LE(composite_notifications(h_->seen("LWM2M_RESP")), after_cancel + 1);
  EXPECT_TRUE(h_->redis({"SMEMBERS", "TKNS:EP:{acc-1}"})->elements.empty());
  auto again = ask(*h_, "acc-1",
                   R"({"kind":"cancel_observe_composite","paths":["/3313/0/5702","/3/0/15"]})");
  EXPECT_FALSE(again.ok);
  EXPECT_NE(reply_error(again).find("no observation"), std::string::npos) << reply_error(again);

  // Not SenML: refused before it reaches the device.
  auto tlv =
      ask(*h_, "acc-1", R"({"kind":"read_composite","paths":["/3/0/9"],"contentFormat":"TLV"})");
  EXPECT_FALSE(tlv.ok);
}

TEST_P(BusRequests, PreciseErrors) {
  auto unknown_ep = ask(*h_, "nobody", R"({"kind":"read","path":"/3/0"})");
  EXPECT_FALSE(unknown_ep.ok);
  EXPECT_NE(reply_error(unknown_ep).find("unknown endpoint nobody"), std::string::npos)
      << reply_error(unknown_ep);

  auto bad_path = ask(*h_, "acc-1", R"({"kind":"read","path":"/3/x"})");
  EXPECT_FALSE(bad_path.ok);
  EXPECT_NE(reply_error(bad_path).find("not a number"), std::string::npos) << reply_error(bad_path);

  auto device_error = ask(*h_, "acc-1", R"({"kind":"read","path":"/9999/0"})");
  EXPECT_EQ(reply_code(device_error), "NOT_FOUND");
  EXPECT_EQ(device_error.body.at("coapCode").as_string(), "4.04");

  // Malformed JSON with a readable ticket gets an error; without one, a log line only.
  h_->publish("LWM2M_REQ", R"({"ticket":"broken-1","ep":"acc-1","req":{"kind":"read"}})");
  ASSERT_TRUE(h_->wait_for("LWM2M_RESP", [](auto& msgs) {
    for (const auto& m : msgs)
      if (m.find("broken-1") != std::string::npos && m.find("errorMessage") != std::string::npos)
        return true;
    return false;
  }));
  h_->publish("LWM2M_REQ", "this is not json");
  h_->publish("LWM2M_REQ", std::string("\xff\xfe{", 3));

  // A device that stopped answering: its request times out with an error.
  stop_device(*h_, dev_);
  // stop() de-registered it; register a silent one by hand with coap-client.
  auto reg =
      run_command("timeout 20 coap-client-notls -m post -t 40 -e '</3/0>' 'coap://127.0.0.1:" +
                  std::to_string(h_->coap_port(0)) + "/rd?ep=silent&lt=60'");
  ASSERT_EQ(reg.status, 0) << reg.output;
  auto timeout = ask(*h_, "silent", R"({"kind":"read","path":"/3/0"})");
  EXPECT_FALSE(timeout.ok);
  EXPECT_NE(reply_error(timeout).find("silent"), std::string::npos);
  EXPECT_NE(reply_error(timeout).find("no response"), std::string::npos) << reply_error(timeout);
}

TEST_P(BusRequests, SecInfoNeverShowsTheKey) {
  auto add = ask(*h_, "acc-9",
                 R"({"kind":"sec_info","action":"add","identity":"acc-9-id","key":"00112233"})");
  ASSERT_EQ(reply_code(add), "CREATED") << reply_error(add);
  auto get = ask(*h_, "acc-9", R"({"kind":"sec_info","action":"get"})");
  ASSERT_EQ(reply_code(get), "CONTENT");
  EXPECT_EQ(get.body.at("secInfo").at("identity").as_string(), "acc-9-id");
  EXPECT_FALSE(get.body.at("secInfo").as_object().contains("key"));
  for (const auto& m : h_->seen("LWM2M_RESP")) EXPECT_EQ(m.find("00112233"), std::string::npos);
  auto del = ask(*h_, "acc-9", R"({"kind":"sec_info","action":"delete"})");
  EXPECT_EQ(reply_code(del), "DELETED");
  auto again = ask(*h_, "acc-9", R"({"kind":"sec_info","action":"get"})");
  EXPECT_FALSE(again.ok);
}

// Two nodes on one Redis: a device registered at node 2 is answered once, by node 2.
TEST(TwoNodes, OwnerAnswersOnce) {
  HarnessOptions o;
  o.nodes = 2;
  ClusterHarness h(o);
  ASSERT_TRUE(h.start()) << h.error();
  auto dev = start_device(h, 1, "acc-on-2");
  EXPECT_EQ(h.redis({"GET", "EP#UID:{acc-on-2}"})->str, "node-2");

  auto reply =
      ask(h, "acc-on-2", R"({"kind":"read","path":"/3313/0/5703","contentFormat":"TEXT"})");
  ASSERT_EQ(reply_code(reply), "CONTENT") << reply_error(reply);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let any duplicate arrive
  int acks = 0, finals = 0;
  // Count the replies of the ticket ask() used (the latest final reply's).
  std::string ticket;
  for (const auto& m : h.seen("LWM2M_RESP"))
    if (auto r = bus::parse_reply(m); r && r->type == bus::ReplyType::kRep) ticket = r->ticket;
  for (const auto& m : h.seen("LWM2M_RESP")) {
    auto r = bus::parse_reply(m);
    if (!r || r->ticket != ticket) continue;
    if (r->type == bus::ReplyType::kAck)
      ++acks;
    else
      ++finals;
  }
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(finals, 1);
  // Node 1 knows the device is not its own and made no CoAP request.
  int node1_requests = -1, node2_requests = -1;
  h.on_io([&] {
    node1_requests = static_cast<int>(h.node(0).counters().device_requests);
    node2_requests = static_cast<int>(h.node(1).counters().device_requests);
  });
  EXPECT_EQ(node1_requests, 0);
  EXPECT_EQ(node2_requests, 1);
  stop_device(h, dev);
}

INSTANTIATE_TEST_SUITE_P(Backends, BusRequests, ::testing::Values("redis", "redis_cluster"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace fogm2m::test
