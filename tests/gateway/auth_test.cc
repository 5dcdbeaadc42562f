#include "gateway/auth.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>

namespace fogm2m::gateway {
namespace {

constexpr std::string_view kToken = "0123456789abcdef0123";

TEST(Auth, BearerHeaderOrCookie) {
  const Auth auth = Auth::with_token(std::string(kToken));
  EXPECT_TRUE(auth.required());
  EXPECT_TRUE(auth.allows("Bearer 0123456789abcdef0123", ""));
  EXPECT_TRUE(auth.allows("", "theme=dark; fogm2m_token=0123456789abcdef0123"));
  EXPECT_FALSE(auth.allows("", ""));
  EXPECT_FALSE(auth.allows("Bearer 0123456789abcdef012", ""));    // a prefix
  EXPECT_FALSE(auth.allows("Bearer 0123456789abcdef01234", ""));  // longer
  EXPECT_FALSE(auth.allows("Basic 0123456789abcdef0123", ""));
  EXPECT_FALSE(auth.allows("", "other_token=0123456789abcdef0123"));
  EXPECT_TRUE(auth.allows_token(kToken));
  EXPECT_FALSE(auth.allows_token(""));
}

TEST(Auth, OpenLetsEveryoneIn) {
  const Auth auth = Auth::open();
  EXPECT_FALSE(auth.required());
  EXPECT_TRUE(auth.allows("", ""));
}

TEST(Auth, FromFileAndEnvironment) {
  const std::string file = ::testing::TempDir() + "/fogm2m-token";
  std::ofstream(file) << "  " << kToken << "\n";
  auto from_file = Auth::from_file(file);
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_TRUE(from_file->allows(std::string("Bearer ") + std::string(kToken), ""));
  std::ofstream(file) << "short";
  EXPECT_EQ(Auth::from_file(file).error().kind, ErrorKind::kInvalidArgument);
  std::remove(file.c_str());
  EXPECT_EQ(Auth::from_file(file).error().kind, ErrorKind::kIo);

  ::setenv("FOGM2M_TEST_TOKEN", std::string(kToken).c_str(), 1);
  EXPECT_TRUE(Auth::from_env("FOGM2M_TEST_TOKEN"));
  ::unsetenv("FOGM2M_TEST_TOKEN");
  EXPECT_FALSE(Auth::from_env("FOGM2M_TEST_TOKEN"));
}

TEST(Auth, CookieValue) {
  EXPECT_EQ(cookie_value("a=1; b = 2 ;c=3", "b"), "2");
  EXPECT_EQ(cookie_value("a=1", "b"), "");
  EXPECT_EQ(cookie_value("", "b"), "");
  EXPECT_EQ(cookie_value("ab=1; b=2", "b"), "2");
}

}  // namespace
}  // namespace fogm2m::gateway
