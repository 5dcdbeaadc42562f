// JSON text written straight into a std::string, byte for byte as
// boost::json::serialize writes the same values: strings escaped the same
// way (\" \\ \b \f \n \r \t, other control characters as lower-case \u00xx,
// everything else, UTF-8 included, as is), integers in decimal, doubles in
// Boost.JSON's shortest round-trip form ("1.5E0"), non-finite doubles as
// null. For hot paths whose JSON has a fixed shape (notifications on the
// bus), where building a boost::json DOM only to serialize it costs more
// than the rest of the work.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fogm2m::bus {

// Appends `s` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);
void append_json_number(std::string& out, int64_t v);
void append_json_number(std::string& out, uint64_t v);
// null when `v` is not finite (NaN, infinities), as the node JSON writes them.
void append_json_number(std::string& out, double v);

}  // namespace fogm2m::bus
