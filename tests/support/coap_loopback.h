// The loopback address of a UDP port as libcoap takes it, for tests that
// drive libcoap contexts directly.
#pragma once

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <netinet/in.h>

#include <cstdint>

namespace fogm2m::test {

inline coap_address_t loopback_coap_address(uint16_t port) {
  coap_address_t a;
  coap_address_init(&a);
  a.addr.sin.sin_family = AF_INET;
  a.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.addr.sin.sin_port = htons(port);
  a.size = sizeof(sockaddr_in);
  return a;
}

}  // namespace fogm2m::test
