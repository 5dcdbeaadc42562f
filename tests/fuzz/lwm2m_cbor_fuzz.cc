// libFuzzer target: LwM2M CBOR decoding, then the round trip of codec_fuzz.h.
// Seeds: corpus/lwm2m_cbor/ (first byte: index of the request path in kFuzzPaths).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/codec_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fogm2m::lwm2m::fuzzing::run_one(fogm2m::lwm2m::ContentFormat::kLwm2mCbor, data, size);
}
