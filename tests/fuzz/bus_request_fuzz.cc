// Fuzz target: bus requests (LWM2M_REQ JSON) and replies. A request that
// parses must survive format -> parse with the same kind, path and ticket.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bus/reply.h"
#include "bus/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::bus;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_reply(text);
  (void)parse_reply_head(text);
  ParsedRequest p = parse_request(text);
  if (!p.request) return 0;
  ParsedRequest again = parse_request(format_request(*p.request));
  if (!again.request || again.request->kind != p.request->kind || !(again.request->path == p.request->path) ||
      again.request->ticket != p.request->ticket)
    std::abort();
  return 0;
}
