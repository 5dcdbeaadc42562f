// Fuzz target: CoAP datagram parsing. A datagram that parses must encode
// back to a datagram that parses to the same message.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "lwm2m/coap_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::lwm2m;
  auto m = decode_coap(std::span<const uint8_t>(data, size));
  if (!m) return 0;
  (void)to_debug_string(*m);
  auto wire = encode_coap(*m);
  if (!wire || wire->size() != coap_encoded_size(*m)) std::abort();
  auto again = decode_coap(*wire);
  if (!again || !(*again == *m)) std::abort();
  return 0;
}
