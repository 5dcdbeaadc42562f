// CoAP response codes (RFC 7252 section 12.1.2, RFC 7959, RFC 8132) with
// the names LwM2M servers (Leshan) use for them on their APIs.
#pragma once

#include <cstdint>
#include <string>

namespace fogm2m::lwm2m {

// class << 5 | detail, as on the wire: 2.05 is 69.
enum class CoapCode : uint8_t {
  kEmpty = 0,
  kGet = 1,
  kPost = 2,
  kPut = 3,
  kDelete = 4,
  kFetch = 5,
  kPatch = 6,
  kIpatch = 7,
  kCreated = 65,
  kDeleted = 66,
  kValid = 67,
  kChanged = 68,
  kContent = 69,
  kContinue = 95,
  kBadRequest = 128,
  kUnauthorized = 129,
  kBadOption = 130,
  kForbidden = 131,
  kNotFound = 132,
  kMethodNotAllowed = 133,
  kNotAcceptable = 134,
  kRequestEntityIncomplete = 136,
  kPreconditionFailed = 140,
  kRequestEntityTooLarge = 141,
  kUnsupportedContentFormat = 143,
  kTooManyRequests = 157,  // 4.29, RFC 8516
  kInternalServerError = 160,
  kNotImplemented = 161,
  kBadGateway = 162,
  kServiceUnavailable = 163,
  kGatewayTimeout = 164,
  kProxyingNotSupported = 165,
};

// The code's byte, as CoapMessage::code holds it.
constexpr uint8_t coap_code(CoapCode code) {
  return static_cast<uint8_t>(code);
}
constexpr uint8_t coap_code(int cls, int detail) {
  return static_cast<uint8_t>(cls << 5 | detail);
}
constexpr int code_class(uint8_t code) {
  return code >> 5;
}
constexpr bool is_success(uint8_t code) {
  return code_class(code) == 2;
}

// "2.05"
std::string coap_code_string(uint8_t code);
// "CONTENT", "NOT_FOUND", ...; "CODE_2_31" for codes without a name.
std::string coap_code_name(uint8_t code);

}  // namespace fogm2m::lwm2m
