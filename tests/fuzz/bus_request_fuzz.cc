// Fuzz target: the bus's readers (bus/request.h, bus/reply.h,
// bus/device_event.h). Any input is read without crashing; a device event
// that parses is written back and read again the same; a request that parses survives format ->
// parse with the same kind, path and ticket; and the replies written for its ticket read back,
// whole and by their head, with that ticket.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bus/device_event.h"
#include "bus/reply.h"
#include "bus/request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::bus;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)parse_reply(text);
  (void)parse_reply_head(text);
  static const fogm2m::lwm2m::ModelRegistry models = fogm2m::lwm2m::ModelRegistry::builtin();
  if (auto event = parse_device_event(text, models)) {
    const std::string again =
        event->kind == DeviceEventKind::kSend
            ? format_send_event(event->endpoint, event->time_ms, event->content_format,
                                event->content)
            : format_presence_event(event->kind, event->endpoint, event->time_ms);
    auto reread = parse_device_event(again, models);
    if (!reread || reread->kind != event->kind || reread->endpoint != event->endpoint ||
        reread->time_ms != event->time_ms || reread->content.size() != event->content.size())
      std::abort();
  }
  ParsedRequest p = parse_request(text);
  if (!p.request) return 0;
  ParsedRequest again = parse_request(format_request(*p.request));
  if (!again.request || again.request->kind != p.request->kind ||
      !(again.request->path == p.request->path) || again.request->ticket != p.request->ticket)
    std::abort();
  for (const std::string& reply :
       {format_ack(p.request->ticket), format_err(p.request->ticket, text)}) {
    auto whole = parse_reply(reply);
    auto head = parse_reply_head(reply);
    if (!whole || !head || whole->ticket != p.request->ticket || head->ticket != whole->ticket ||
        head->type != whole->type)
      std::abort();
  }
  return 0;
}
