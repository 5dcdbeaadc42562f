// GoogleTest glue for RedisServer: a fixture base whose test suite shares one
// redis-server, started before the suite's first test and stopped after its
// last. Header-only; the process handling lives in redis_server.h/.cc.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/support/redis_server.h"

namespace fogm2m::test {

// Derive a fixture from this; tests use redis_host() and redis_port(). Tests
// of one suite share the server (and its data): use distinct keys. A server
// that cannot start fails every test of the suite with the reason.
class RedisServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = RedisServer::start();
    if (started) {
      server() = std::move(*started);
      start_error() = {};
    } else {
      start_error() = started.error().message;
    }
  }

  static void TearDownTestSuite() {
    if (server()) {
      Status stopped = server()->stop();
      EXPECT_TRUE(stopped.ok()) << stopped.error().message;
      server().reset();
    }
  }

  void SetUp() override {
    ASSERT_TRUE(server() != nullptr) << "redis-server did not start: " << start_error();
  }

  static const std::string& redis_host() { return server()->host(); }
  static uint16_t redis_port() { return server()->port(); }
  static RedisServer& redis_server() { return *server(); }

 private:
  static std::unique_ptr<RedisServer>& server() {
    static std::unique_ptr<RedisServer> s;
    return s;
  }
  static std::string& start_error() {
    static std::string e;
    return e;
  }
};

}  // namespace fogm2m::test
