// Versions of the I/O libraries fogm2m was linked with, for `fogm2m version`
// and run metadata.
#pragma once

#include <string>

namespace fogm2m::io {

// libcoap's package version and TLS backend, e.g. "4.3.1 (OpenSSL 3.0.15)".
std::string libcoap_version();

}  // namespace fogm2m::io
