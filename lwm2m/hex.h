// Lower-case hex of byte strings and back (tokens, PSK keys, debug output).
#pragma once

#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m {

std::string to_hex(std::string_view bytes);
// Accepts upper and lower case; kMalformed on odd length or a non-hex digit.
Result<std::string> from_hex(std::string_view hex);

}  // namespace fogm2m
