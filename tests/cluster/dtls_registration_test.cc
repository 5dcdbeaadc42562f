// DTLS-PSK through a real node: security info added over the bus, devices
// (libcoap's coap-client-openssl) registering with the right and a wrong key.
#include <gtest/gtest.h>

#include "lwm2m/hex.h"
#include "tests/cluster/cluster_harness.h"

namespace fogm2m::test {
namespace {

bool registered(ClusterHarness& h, const std::string& ep, std::chrono::milliseconds wait) {
  return h.wait_for(
      "LESHAN_REG_NEW",
      [&](const std::vector<std::string>& msgs) {
        for (const auto& m : msgs)
          if (m.find("\"ep\":\"" + ep + "\"") != std::string::npos) return true;
        return false;
      },
      wait);
}

TEST(DtlsRegistration, RightKeyRegistersWrongKeyDoesNot) {
  HarnessOptions o;
  o.dtls = true;
  ClusterHarness h(o);
  ASSERT_TRUE(h.start()) << h.error();
  const std::string key = "secret-psk-key";
  const std::string add =
      R"({"ep":"secure-1","ticket":"s1","req":{"kind":"sec_info","action":"add",)"
      R"("identity":"secure-1-id","key":")" +
      to_hex(key) + R"("}})";
  ASSERT_NE(h.request(add, "s1").find("CREATED"), std::string::npos);

  const std::string url =
      "'coaps://127.0.0.1:" + std::to_string(h.coaps_port(0)) + "/rd?ep=secure-1&lt=60'";
  // A wrong key: the handshake fails, nothing registers.
  auto wrong = run_command(
      "timeout 20 coap-client-openssl -B 2 -m post -t 40 -e '</3/0>' -u secure-1-id -k wrong-key " +
      url);
  EXPECT_EQ(wrong.output.find("2.01"), std::string::npos) << wrong.output;
  // An unknown identity: the same.
  auto unknown =
      run_command("timeout 20 coap-client-openssl -B 2 -m post -t 40 -e '</3/0>' -u nobody -k " +
                  key + " " + url);
  EXPECT_FALSE(registered(h, "secure-1", std::chrono::milliseconds(200)));
  // Plain CoAP for an endpoint that has PSK security info: 4.03.
  auto plain =
      run_command("timeout 20 coap-client-notls -B 5 -m post -t 40 -e '</3/0>' 'coap://127.0.0.1:" +
                  std::to_string(h.coap_port(0)) + "/rd?ep=secure-1&lt=60'");
  EXPECT_NE(plain.output.find("4.03"), std::string::npos)
      << plain.output << " | SEC:EP = " << h.redis({"GET", "SEC:EP:{secure-1}"})->str
      << " | events: " << (h.seen("LESHAN_REG_NEW").empty() ? "" : h.seen("LESHAN_REG_NEW")[0]);
  EXPECT_FALSE(registered(h, "secure-1", std::chrono::milliseconds(200)));

  // The right key registers, over DTLS, with its identity on record.
  auto right = run_command(
      "timeout 20 coap-client-openssl -B 5 -m post -t 40 -e '</3/0>' -u secure-1-id -k " + key +
      " " + url);
  ASSERT_TRUE(registered(h, "secure-1", std::chrono::seconds(10))) << right.output;
  auto record = h.redis({"GET", "REG:EP:{secure-1}"});
  ASSERT_TRUE(record.ok() && record->is_string());
  EXPECT_NE(record->str.find("\"secure\":true"), std::string::npos);
  EXPECT_NE(record->str.find("\"pskId\":\"secure-1-id\""), std::string::npos);
  // The key never reaches the bus or the registration record.
  EXPECT_EQ(record->str.find(key), std::string::npos);
  for (const auto& m : h.seen("LWM2M_RESP")) EXPECT_EQ(m.find(to_hex(key)), std::string::npos);
}

}  // namespace
}  // namespace fogm2m::test
