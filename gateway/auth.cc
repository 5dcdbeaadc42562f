#include "gateway/auth.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fogm2m::gateway {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

Result<Auth> checked(std::string_view token, const std::string& source) {
  token = trim(token);
  if (token.size() < 16)
    return make_error(ErrorKind::kInvalidArgument,
                      "the token in " + source + " is shorter than 16 characters");
  return Auth::with_token(std::string(token));
}

// Compares without leaking, by timing, how many leading bytes matched.
bool equal_constant_time(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

Result<Auth> Auth::from_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) return make_error(ErrorKind::kIo, "cannot read token file " + file);
  std::stringstream text;
  text << in.rdbuf();
  return checked(text.str(), file);
}

Result<Auth> Auth::from_env(const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (!value) return make_error(ErrorKind::kInvalidArgument, "$" + variable + " is not set");
  return checked(value, "$" + variable);
}

bool Auth::allows_token(std::string_view token) const {
  return !token_ || equal_constant_time(token, *token_);
}

bool Auth::allows(std::string_view authorization, std::string_view cookie) const {
  if (!token_) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer &&
      allows_token(trim(authorization.substr(kBearer.size()))))
    return true;
  const std::string_view from_cookie = cookie_value(cookie, kTokenCookie);
  return !from_cookie.empty() && allows_token(from_cookie);
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name)
      return trim(pair.substr(eq + 1));
  }
  return {};
}

}  // namespace fogm2m::gateway
