// libFuzzer target: SenML CBOR decoding, then the round trip of codec_fuzz.h.
// Seeds: corpus/senml_cbor/ (first byte: index of the request path in kFuzzPaths).
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/codec_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fogm2m::lwm2m::fuzzing::run_one(fogm2m::lwm2m::ContentFormat::kSenmlCbor, data, size);
}
