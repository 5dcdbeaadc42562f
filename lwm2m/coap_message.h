// CoAP messages (RFC 7252) as values: header, token, options, payload, and
// their exact wire encoding. The LwM2M logic of server, fleet and simulator
// reads and writes these; transports (our UDP sockets, libcoap for DTLS)
// only move them. decode() is a parser of network input: it never reads out
// of bounds and says what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/coap_code.h"
#include "lwm2m/result.h"

namespace fogm2m::lwm2m {

enum class CoapType : uint8_t { kCon = 0, kNon = 1, kAck = 2, kRst = 3 };

namespace coap_option {
constexpr uint16_t kIfMatch = 1, kUriHost = 3, kEtag = 4, kIfNoneMatch = 5, kObserve = 6,
                   kUriPort = 7, kLocationPath = 8, kUriPath = 11, kContentFormat = 12,
                   kMaxAge = 14, kUriQuery = 15, kAccept = 17, kLocationQuery = 20, kBlock2 = 23,
                   kBlock1 = 27, kSize2 = 28, kProxyUri = 35, kProxyScheme = 39, kSize1 = 60;
}  // namespace coap_option

struct CoapOption {
  uint16_t number = 0;
  std::string value;  // raw bytes
  friend bool operator==(const CoapOption&, const CoapOption&) = default;
};

struct CoapMessage {
  CoapType type = CoapType::kCon;
  uint8_t code = 0;  // CoapCode values
  uint16_t message_id = 0;
  std::string token;                // 0..8 bytes
  std::vector<CoapOption> options;  // kept sorted by number (stable for repeats)
  std::string payload;

  // Options. add_* keep the order; repeated options (Uri-Path, Uri-Query,
  // Location-Path) come out in the order they were added.
  void add_option(uint16_t number, std::string value);
  void add_uint_option(uint16_t number, uint32_t value);  // minimal big-endian bytes
  // Uri-Path from "/rd/abc" (one option per segment); Uri-Query per item.
  void set_uri_path(std::string_view path);
  void add_uri_query(std::string_view query);
  void set_location_path(std::string_view path);
  void remove_option(uint16_t number);

  const CoapOption* find_option(uint16_t number) const;
  bool has_option(uint16_t number) const { return find_option(number) != nullptr; }
  // The option as an unsigned integer (0..4 bytes), nullopt when absent or longer.
  std::optional<uint32_t> uint_option(uint16_t number) const;
  // Segments of Uri-Path joined as "/rd/abc" ("/" when none).
  std::string uri_path() const;
  std::vector<std::string_view> uri_path_segments() const;
  std::vector<std::string_view> uri_queries() const;
  // The value of Uri-Query "name=value", nullopt when absent ("" for "name").
  std::optional<std::string_view> query_value(std::string_view name) const;
  std::string location_path() const;
  std::optional<uint32_t> content_format() const {
    return uint_option(coap_option::kContentFormat);
  }
  std::optional<uint32_t> observe() const { return uint_option(coap_option::kObserve); }

  bool is_request() const { return code >= 1 && code <= 31; }
  bool is_response() const { return code >= 64; }
  bool is_empty() const { return code == 0; }

  friend bool operator==(const CoapMessage&, const CoapMessage&) = default;
};

// Exact wire bytes. Fails (kInvalidArgument) on a token over 8 bytes or an
// option value over 65804 bytes.
Result<std::string> encode_coap(const CoapMessage& message);
// Size of encode_coap(message) without building it (for byte accounting).
size_t coap_encoded_size(const CoapMessage& message);

// Parses one datagram. Errors: version not 1, token length 9..15, truncated
// token/option/extended fields, option delta or length nibble 15 outside the
// payload marker, payload marker with no payload, an empty message with
// anything after the header.
Result<CoapMessage> decode_coap(std::span<const uint8_t> datagram);
Result<CoapMessage> decode_coap(std::string_view datagram);

// Debug form: "CON GET mid=7 tkn=a1b2 /rd?ep=dev-1 [ct=40] 43B".
std::string to_debug_string(const CoapMessage& message);

}  // namespace fogm2m::lwm2m
