// Base64 (RFC 4648) as LwM2M uses it: the standard alphabet with padding for
// opaque values in text and LwM2M JSON, the URL-safe alphabet without padding
// for SenML "vd" (RFC 8428 section 4.3).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "lwm2m/result.h"
#include "lwm2m/value.h"

namespace fogm2m::lwm2m::base64 {

enum class Alphabet {
  kStandard,  // A-Z a-z 0-9 + /
  kUrl,       // A-Z a-z 0-9 - _
};

enum class Padding {
  kRequired,   // the text length must be a multiple of 4, '=' completing the last group
  kOptional,   // '=' accepted when it completes the last group exactly, or left out
  kForbidden,  // no '=' at all
};

// `data` in base64; with `pad`, the last group is completed with '='.
std::string encode(std::span<const uint8_t> data, Alphabet alphabet, bool pad);

// Decodes `text`. Rejects, with a kMalformed Error giving the offset: a
// character outside `alphabet` (whitespace included), '=' anywhere but at the
// end, padding that does not complete the last group or breaks `padding`, a
// last group of a single character, and non-zero unused bits in the last
// group (so every byte string has exactly one accepted encoding per padding
// style). The empty text decodes to no bytes.
Result<Opaque> decode(std::string_view text, Alphabet alphabet, Padding padding);

}  // namespace fogm2m::lwm2m::base64
