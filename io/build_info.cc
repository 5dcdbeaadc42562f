#include "io/build_info.h"

#include <coap3/coap.h>

namespace fogm2m::io {

std::string libcoap_version() {
  std::string v = coap_package_version();  // "libcoap 4.3.1"
  if (v.rfind("libcoap ", 0) == 0) v.erase(0, 8);
  const coap_tls_version_t* tls = coap_get_tls_library_version();
  if (tls && tls->type == COAP_TLS_LIBRARY_OPENSSL) {
    const unsigned long n = static_cast<unsigned long>(tls->version);
    v += " (OpenSSL " + std::to_string(n >> 28) + "." + std::to_string((n >> 20) & 0xff) + "." +
         std::to_string((n >> 4) & 0xff) + ")";
  }
  return v;
}

}  // namespace fogm2m::io
