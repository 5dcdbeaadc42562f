// "host:port" as users and state files write addresses ("[::1]:5683" for
// IPv6 literals).
#pragma once

#include <cstdint>
#include <string>

namespace fogm2m::io {

// Splits `text` into host and port; false when malformed or port not 1..65535.
bool split_host_port(const std::string& text, std::string& host, uint16_t& port);

}  // namespace fogm2m::io
