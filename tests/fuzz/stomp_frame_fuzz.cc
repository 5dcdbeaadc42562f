// Fuzz target: STOMP frames of the gateway (gateway/stomp_frame.h). Any input
// is read without crashing, under the default limits and under tiny ones;
// every frame that parses formats to a frame that parses back with the same
// command, headers and body (save for a content-length the format adds).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gateway/stomp_frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::gateway;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_stomp_frames(text, StompLimits{2, 3, 16, 32});
  (void)parse_heart_beat(text);
  const std::string header(text);
  (void)negotiate_stomp_version(&header);

  const StompLimits limits;
  auto frames = parse_stomp_frames(text, limits);
  if (!frames) return 0;
  // Formatting escapes a raw ':' of a value as "\c" and may add a header.
  StompLimits again_limits = limits;
  again_limits.max_headers += 1;
  again_limits.max_header_line *= 2;
  for (const StompFrame& frame : *frames) {
    auto again = parse_stomp_frames(format_stomp_frame(frame), again_limits);
    if (!again || again->size() != 1) std::abort();
    const StompFrame& back = again->front();
    if (back.command != frame.command || back.body != frame.body) std::abort();
    auto headers = frame.headers;
    if (back.headers.size() == headers.size() + 1 && !frame.header("content-length"))
      headers.emplace_back("content-length", std::to_string(frame.body.size()));
    if (back.headers != headers) std::abort();
  }
  return 0;
}
