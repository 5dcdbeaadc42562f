// The CoAP response codes the emulated device answers with, as the bytes
// CoapMessage::code holds: the short names its request handlers use.
#pragma once

#include <cstdint>

#include "lwm2m/coap_code.h"

namespace fogm2m::emulated::response_code {

using lwm2m::coap_code;
using lwm2m::CoapCode;

inline constexpr uint8_t kContent = coap_code(CoapCode::kContent);
inline constexpr uint8_t kChanged = coap_code(CoapCode::kChanged);
inline constexpr uint8_t kCreated = coap_code(CoapCode::kCreated);
inline constexpr uint8_t kDeleted = coap_code(CoapCode::kDeleted);
inline constexpr uint8_t kBadRequest = coap_code(CoapCode::kBadRequest);
inline constexpr uint8_t kNotFound = coap_code(CoapCode::kNotFound);
inline constexpr uint8_t kMethodNotAllowed = coap_code(CoapCode::kMethodNotAllowed);
inline constexpr uint8_t kNotAcceptable = coap_code(CoapCode::kNotAcceptable);
inline constexpr uint8_t kUnsupportedFormat = coap_code(CoapCode::kUnsupportedContentFormat);
inline constexpr uint8_t kInternalError = coap_code(CoapCode::kInternalServerError);

}  // namespace fogm2m::emulated::response_code
