// The gateway's one secret: a bearer token, read from a file or an
// environment variable at start. A request is let in when it carries the
// token as "Authorization: Bearer <token>" or in the cookie the web UI sets
// ("fogm2m_token=<token>": browsers cannot put headers on EventSource or
// WebSocket requests). Compared in constant time. Without a configured
// token the gateway refuses to start unless --no-auth says so.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::gateway {

inline constexpr std::string_view kTokenCookie = "fogm2m_token";

class Auth {
 public:
  // Everyone is let in.
  static Auth open() { return Auth(std::nullopt); }
  static Auth with_token(std::string token) { return Auth(std::move(token)); }
  // The token in `file` (surrounding whitespace trimmed); kIo when it cannot
  // be read, kInvalidArgument when it is empty or shorter than 16 characters.
  static Result<Auth> from_file(const std::string& file);
  static Result<Auth> from_env(const std::string& variable);

  bool required() const { return token_.has_value(); }
  // `authorization` and `cookie` are the request's header values (may be empty).
  bool allows(std::string_view authorization, std::string_view cookie) const;
  // The token as a STOMP CONNECT frame may carry it (passcode or Authorization).
  bool allows_token(std::string_view token) const;

 private:
  explicit Auth(std::optional<std::string> token) : token_(std::move(token)) {}
  std::optional<std::string> token_;
};

// The value of cookie `name` in a Cookie header, or empty.
std::string_view cookie_value(std::string_view header, std::string_view name);

}  // namespace fogm2m::gateway
