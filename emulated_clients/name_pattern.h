// Names of a fleet's devices from a pattern: endpoint names ("dev-{n}"),
// PSK identities ("{ep}") and PSK keys ("key-{n:4}").
//
//   {n}     the device's index (first + i)
//   {n:W}   the index, zero-padded to W digits (W in 1..20)
//   {ep}    the device's endpoint name (not allowed in the endpoint pattern)
//   {{ }}   literal braces
//
// The testbed formats the same patterns to hand each device's PSK to the
// servers (sec_info), so the format is part of the fleet's interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::emulated {

class NamePattern {
 public:
  // kInvalidArgument naming the offending position for an unknown or
  // unterminated placeholder, a bad width, or {ep} when !allow_endpoint.
  static Result<NamePattern> parse(std::string_view pattern, bool allow_endpoint = true);

  std::string format(uint64_t n, std::string_view endpoint = {}) const;
  const std::string& text() const { return text_; }
  // True when different n give different names (the pattern uses {n}).
  bool varies() const;

 private:
  struct Piece {
    enum Kind : uint8_t { kLiteral, kIndex, kEndpoint } kind = kLiteral;
    uint8_t width = 0;
    std::string literal;
  };
  std::string text_;
  std::vector<Piece> pieces_;
};

}  // namespace fogm2m::emulated
