// Fuzz target: CoRE link format and the registration payload built on it.
// Parsed links must survive format -> parse unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lwm2m/link_format.h"
#include "lwm2m/registration_links.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::lwm2m;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_registration_links(text);
  auto links = parse_link_format(text);
  if (!links) return 0;
  auto again = parse_link_format(format_link_format(*links));
  if (!again || !(*again == *links)) std::abort();
  return 0;
}
