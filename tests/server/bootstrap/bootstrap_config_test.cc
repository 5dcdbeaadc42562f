#include "server/bootstrap/bootstrap_config.h"

#include <gtest/gtest.h>

#include <string>

namespace fogm2m::server {
namespace {

TEST(BootstrapConfig, SectionsAndDefaults) {
  auto c = parse_bootstrap_config(R"(# comment
[default]
server_uri = coap://127.0.0.1:5683   # trailing comment

[endpoint dev-7]
server_uri = coaps://10.0.0.1:5684
security = psk
psk_identity = dev-7
psk_key = 00ff10
short_server_id = 2
lifetime = 600
delete = true
)",
                                  "bs.conf");
  ASSERT_TRUE(c.ok()) << c.error().message;
  const BootstrapEntry* d = c->find("anyone");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->server_uri, "coap://127.0.0.1:5683");
  EXPECT_FALSE(d->psk);
  EXPECT_EQ(d->short_server_id, 1);
  EXPECT_EQ(d->lifetime_s, 300u);
  EXPECT_FALSE(d->delete_first);
  const BootstrapEntry* e = c->find("dev-7");
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->psk);
  EXPECT_EQ(e->psk_identity, "dev-7");
  EXPECT_EQ(e->psk_key, std::string("\x00\xff\x10", 3));
  EXPECT_EQ(e->short_server_id, 2);
  EXPECT_EQ(e->lifetime_s, 600u);
  EXPECT_TRUE(e->delete_first);
}

TEST(BootstrapConfig, NoDefaultMeansUnknownEndpoints) {
  auto c = parse_bootstrap_config("[endpoint a]\nserver_uri = coap://h\n", "x");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_NE(c->find("a"), nullptr);
  EXPECT_EQ(c->find("b"), nullptr);
}

// Every error names the file and the line at fault.
TEST(BootstrapConfig, ErrorsNameFileAndLine) {
  auto error = [](const std::string& text) {
    auto c = parse_bootstrap_config(text, "bs.conf");
    EXPECT_FALSE(c.ok()) << text;
    return c.ok() ? std::string() : c.error().message;
  };
  EXPECT_EQ(error("[default]\nserver_uri = coap://h\nlifetme = 5\n"),
            "bs.conf:3: unknown key \"lifetme\"");
  EXPECT_EQ(error("server_uri = coap://h\n"),
            "bs.conf:1: \"server_uri\" outside a section ([default] or [endpoint NAME])");
  EXPECT_EQ(error("\n[default]\nlifetime = 5\n"), "bs.conf:2: section [default] has no server_uri");
  EXPECT_EQ(error("[default]\nserver_uri = http://h\n"),
            "bs.conf:2: server URI \"http://h\": not coap:// or coaps://");
  EXPECT_EQ(error("[endpoint a]\nserver_uri = coap://h\nsecurity = psk\n"),
            "bs.conf:1: section [endpoint a]: security = psk needs psk_identity and psk_key");
  EXPECT_EQ(error("[default]\nserver_uri = coap://h\npsk_key = zz\n"),
            "bs.conf:3: psk_key is not a non-empty hex string");
  EXPECT_EQ(error("[default]\nserver_uri = coap://h\nshort_server_id = 65535\n"),
            "bs.conf:3: short_server_id is not 1..65534");
  EXPECT_EQ(error("[default]\nserver_uri = coap://h\n[default]\n"),
            "bs.conf:3: a second [default] section");
  EXPECT_EQ(error("[servers]\n"),
            "bs.conf:1: unknown section [servers] (sections are [default] and [endpoint NAME])");
  EXPECT_EQ(error("[default]\nserver_uri\n"), "bs.conf:2: expected key = value");
  EXPECT_EQ(error("# nothing\n"), "bs.conf:2: no section: nothing to bootstrap");
  auto missing = load_bootstrap_config("/nonexistent/bs.conf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kIo);
}

}  // namespace
}  // namespace fogm2m::server
