// Fuzz target: LwM2M path parsing. Whatever parses must format back to a
// string that parses to the same path.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lwm2m/path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using fogm2m::lwm2m::Path;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = Path::parse(text);
  if (!p) return 0;
  auto again = Path::parse(p->to_string());
  if (!again || !(*again == *p)) std::abort();
  return 0;
}
