// CoAP content-format numbers LwM2M uses, and the names the bus carries.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace fogm2m::lwm2m {

enum class ContentFormat : uint16_t {
  kText = 0,
  kLinkFormat = 40,
  kOpaque = 42,
  kCbor = 60,
  kSenmlJson = 110,
  kSenmlCbor = 112,
  kOldTlv = 1542,  // pre-registration LwM2M 1.0 numbers, still sent by old clients
  kOldJson = 1543,
  kTlv = 11542,
  kLwm2mJson = 11543,
  kLwm2mCbor = 11544,  // LwM2M 1.2
};

// Leshan's names: "TEXT", "LINK", "OPAQUE", "CBOR", "SENML_JSON", "SENML_CBOR",
// "TLV", "JSON"; and "LWM2M_CBOR" (LwM2M 1.2; Leshan 2.x has no name for it).
const char* to_name(ContentFormat format);

// Accepts Leshan's names (case-insensitive, "-" or "_"), or the decimal number.
std::optional<ContentFormat> parse_content_format(std::string_view text);

// The content-format for a CoAP option value, if LwM2M knows it.
std::optional<ContentFormat> content_format_from_number(uint32_t number);

}  // namespace fogm2m::lwm2m
