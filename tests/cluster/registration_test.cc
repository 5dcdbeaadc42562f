// The Registration interface of a real node, driven by an independent CoAP
// client (libcoap's coap-client-notls), checked in Redis and on the bus.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/json.hpp>

#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

namespace json = boost::json;

// The registration record carried by the latest event on `channel` for `ep`.
std::optional<json::object> event_for(ClusterHarness& h, const std::string& channel,
                                      const std::string& ep) {
  for (const auto& m : h.seen(channel)) {
    json::value v = json::parse(m);
    json::object& o = v.as_object();
    json::object rec = o.contains("registration") ? o.at("registration").as_object() : o;
    if (rec.at("ep").as_string() == ep) return rec;
  }
  return std::nullopt;
}

// Each test runs on one redis-server and on a Redis Cluster.
class Registration : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    HarnessOptions o;
    o.expiry_grace_ms = 0;
    if (std::string(GetParam()) == "redis_cluster") {
      std::string error;
      o.redis_cluster = shared_redis_cluster(error);
      ASSERT_NE(o.redis_cluster, nullptr) << error;
    }
    o.sweep_interval = std::chrono::milliseconds(200);
    h_ = std::make_unique<ClusterHarness>(o);
    ASSERT_TRUE(h_->start()) << h_->error();
  }
  std::unique_ptr<ClusterHarness> h_;
};

TEST_P(Registration, RegisterUpdateDeregisterWithCoapClient) {
  auto reg = run_command(coap_client(h_->coap_port(0),
                                     "-m post -t 40 -e '</1/0>,</3/0>,</3313/0>;ver=1.1'",
                                     "/rd?ep=coap-client-1&lt=60&lwm2m=1.1&b=U"));
  ASSERT_EQ(reg.status, 0) << reg.output;
  ASSERT_TRUE(h_->wait_for("LESHAN_REG_NEW", [](auto& m) { return !m.empty(); }))
      << "no LESHAN_REG_NEW event";
  auto event = event_for(*h_, "LESHAN_REG_NEW", "coap-client-1");
  ASSERT_TRUE(event);
  const std::string reg_id(event->at("regId").as_string());
  EXPECT_EQ(event->at("lt").as_int64(), 60);
  EXPECT_EQ(event->at("ver").as_string(), "1.1");
  EXPECT_EQ(event->at("objLink").as_array().size(), 3u);

  // Redis holds the record, the indexes and the ownership.
  auto record = h_->redis({"GET", "REG:EP:{coap-client-1}"});
  ASSERT_TRUE(record.ok() && record->is_string());
  EXPECT_NE(record->str.find("\"regId\":\"" + reg_id + "\""), std::string::npos);
  EXPECT_EQ(h_->redis({"GET", "EP:REGID:" + reg_id})->str, "coap-client-1");
  EXPECT_EQ(h_->redis({"GET", "EP#UID:{coap-client-1}"})->str, "node-1");
  EXPECT_TRUE(h_->redis({"ZSCORE", "EXP:EP", "coap-client-1"})->is_string());

  auto upd = run_command(coap_client(h_->coap_port(0), "-m post", "/rd/" + reg_id + "?lt=120"));
  ASSERT_EQ(upd.status, 0) << upd.output;
  ASSERT_TRUE(h_->wait_for("LESHAN_REG_UPD", [](auto& m) { return !m.empty(); }));
  EXPECT_EQ(event_for(*h_, "LESHAN_REG_UPD", "coap-client-1")->at("lt").as_int64(), 120);

  auto del = run_command(coap_client(h_->coap_port(0), "-m delete", "/rd/" + reg_id));
  ASSERT_EQ(del.status, 0) << del.output;
  ASSERT_TRUE(h_->wait_for("LESHAN_REG_DEL", [](auto& m) { return !m.empty(); }));
  EXPECT_TRUE(h_->redis({"GET", "REG:EP:{coap-client-1}"})->is_nil());
  EXPECT_TRUE(h_->redis({"GET", "EP:REGID:" + reg_id})->is_nil());
  EXPECT_TRUE(h_->redis({"GET", "EP#UID:{coap-client-1}"})->is_nil());
}

TEST_P(Registration, ErrorsHaveTheSpecifiedCodes) {
  // coap-client prints the response code of an error ("4.00 ...") on stderr/stdout.
  struct Case {
    std::string args, path;
    const char* code;
  };
  for (const Case& c : {Case{"-m post", "/rd?lt=60", "4.00"},                 // no endpoint name
                        Case{"-m post", "/rd?ep=x&lt=abc", "4.00"},           // bad lifetime
                        Case{"-m post", "/rd?ep=x&lwm2m=9.9", "4.12"},        // unsupported version
                        Case{"-m post -t 40 -e '<3/0'", "/rd?ep=x", "4.00"},  // bad link format
                        Case{"-m post", "/rd/doesnotexist?lt=5", "4.04"},     // unknown regId
                        Case{"-m delete", "/rd/doesnotexist", "4.04"},
                        Case{"-m get", "/rd", "4.05"}, Case{"-m get", "/other", "4.04"}}) {
    auto r = run_command(coap_client(h_->coap_port(0), c.args, c.path));
    EXPECT_NE(r.output.find(c.code), std::string::npos)
        << c.args << " " << c.path << " -> " << r.output;
  }
  EXPECT_TRUE(h_->seen("LESHAN_REG_NEW").empty());
}

TEST_P(Registration, ExpiresAfterItsLifetime) {
  auto reg = run_command(
      coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'", "/rd?ep=short-lived&lt=1"));
  ASSERT_EQ(reg.status, 0) << reg.output;
  ASSERT_TRUE(h_->wait_for(
      "LESHAN_REG_DEL", [](auto& m) { return !m.empty(); }, std::chrono::seconds(10)))
      << "registration with lt=1 never expired";
  EXPECT_TRUE(event_for(*h_, "LESHAN_REG_DEL", "short-lived"));
  EXPECT_TRUE(h_->redis({"GET", "REG:EP:{short-lived}"})->is_nil());
  EXPECT_EQ(h_->redis({"ZCARD", "EXP:EP"})->integer, 0);
}

// A De-register that reaches a node whose Redis is gone gets 5.03 (try
// later); the node lives on and answers the next device too (it used to die
// of a std::bad_function_call: a store called a callback it had moved away).
TEST_P(Registration, DeregisterWithRedisStoppedIsAnsweredAndTheNodeLives) {
  if (h_->clustered())
    GTEST_SKIP() << "stops the harness' own redis-server (redis_cluster_test "
                    "kills a cluster master instead)";
  auto reg = run_command(
      coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'", "/rd?ep=orphan&lt=60"));
  ASSERT_EQ(reg.status, 0) << reg.output;
  ASSERT_TRUE(h_->wait_for("LESHAN_REG_NEW", [](auto& m) { return !m.empty(); }));
  const std::string reg_id(event_for(*h_, "LESHAN_REG_NEW", "orphan")->at("regId").as_string());

  (void)h_->redis_server()->stop();  // SIGTERM: the node's connections close
  auto del = run_command(coap_client(h_->coap_port(0), "-m delete", "/rd/" + reg_id));
  EXPECT_NE(del.output.find("5.03"), std::string::npos) << del.output;
  auto next = run_command(
      coap_client(h_->coap_port(0), "-m post -t 40 -e '</1/0>'", "/rd?ep=latecomer&lt=60"));
  EXPECT_NE(next.output.find("5.03"), std::string::npos) << next.output;
}

// LwM2M 1.1 Send from an independent client: coap-client registers and
// then POSTs SenML JSON to /dp from the same source port (-p), which is how
// the node knows the sender. The values come out as a "send" event and as
// the device's last values; a Send from an unregistered port is refused.
TEST_P(Registration, SendFromCoapClientIsPublishedAndKept) {
  uint16_t port = 0;
  {  // a free local UDP port for coap-client's -p
    boost::asio::io_context io;
    boost::asio::ip::udp::socket probe(
        io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  const std::string from = "-p " + std::to_string(port) + " ";
  auto reg = run_command(coap_client(h_->coap_port(0), from + "-m post -t 40 -e '</3313/0>'",
                                     "/rd?ep=coap-client-send&lt=60&lwm2m=1.1&b=U"));
  ASSERT_EQ(reg.status, 0) << reg.output;
  ASSERT_TRUE(h_->wait_for("LESHAN_REG_NEW", [](auto& m) { return !m.empty(); }));

  const std::string senml = R"([{"bn":"/3313/0/","n":"5702","v":0.5},{"n":"5703","v":-1.25}])";
  auto send =
      run_command(coap_client(h_->coap_port(0), from + "-m post -t 110 -e '" + senml + "'", "/dp"));
  ASSERT_EQ(send.status, 0) << send.output;
  ASSERT_TRUE(h_->wait_for("LWM2M_EVENT", [](const std::vector<std::string>& all) {
    for (const auto& m : all)
      if (m.find("\"kind\":\"send\"") != std::string::npos &&
          m.find("coap-client-send") != std::string::npos)
        return true;
    return false;
  })) << "no send event";
  auto value = h_->redis({"HGET", "VAL:EP:{coap-client-send}", "/3313/0/5703"});
  ASSERT_TRUE(value.ok() && value->is_string());
  EXPECT_NE(value->str.find("-1.25"), std::string::npos) << value->str;

  // Another port has no registration: 4.03, nothing stored.
  auto stranger = run_command(coap_client(
      h_->coap_port(0), "-m post -t 110 -e '[{\"n\":\"/3313/0/5704\",\"v\":9}]'", "/dp"));
  EXPECT_NE(stranger.output.find("4.03"), std::string::npos) << stranger.output;
  EXPECT_TRUE(h_->redis({"HGET", "VAL:EP:{coap-client-send}", "/3313/0/5704"})->is_nil());
}

INSTANTIATE_TEST_SUITE_P(Backends, Registration, ::testing::Values("redis", "redis_cluster"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
}  // namespace fogm2m::test
