// What a device did on its own, announced by the node that holds it on the
// events channel (Channels::events, LWM2M_EVENT), one JSON object per event:
//
//   send      (LwM2M 1.1 Send, TS-Core 6.4.6: POST /dp from the device)
//     {"kind":"send","ep":"dev-1","ts":1700000000123,"contentFormat":"SENML_JSON",
//      "content":{"/3313/0/5702":<node JSON>,"/3313/0/5703":<node JSON>,...}}
//   sleeping  (queue mode: the awake time passed since its last message)
//     {"kind":"sleeping","ep":"dev-1","ts":1700000000123}
//   awake     (queue mode: a sleeping device was heard from again)
//     {"kind":"awake","ep":"dev-1","ts":1700000000123}
//
// "ts" is the node's Unix time in milliseconds when the event happened (for
// send: when the node received it). "content" holds the resources the
// device sent, each once (of several timestamped values of one resource the
// newest), as the node JSON of read replies (node_json.h), keyed by path in
// the order they first appear in the payload. Unlike replies these carry no
// ticket: nobody asked for them. The gateway relays them as Leshan's SSE
// events SEND, SLEEPING and AWAKE.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/content_format.h"
#include "lwm2m/model.h"
#include "lwm2m/node.h"
#include "lwm2m/result.h"

namespace fogm2m::bus {

enum class DeviceEventKind { kSend, kSleeping, kAwake };
const char* to_string(DeviceEventKind kind);  // "send", "sleeping", "awake"

struct DeviceEvent {
  DeviceEventKind kind = DeviceEventKind::kSend;
  std::string endpoint;
  int64_t time_ms = 0;
  lwm2m::ContentFormat content_format = lwm2m::ContentFormat::kSenmlJson;  // send
  std::vector<lwm2m::PathNode> content;                                    // send
};

// A send event: `nodes` (resource or resource instance paths) as sent in
// `format`.
std::string format_send_event(std::string_view endpoint, int64_t time_ms,
                              lwm2m::ContentFormat format, std::span<const lwm2m::PathNode> nodes);
// A sleeping or awake event.
std::string format_presence_event(DeviceEventKind kind, std::string_view endpoint, int64_t time_ms);

// Reads an event back; the content's nodes are typed with `models`.
// kMalformed naming the field at fault for anything else.
Result<DeviceEvent> parse_device_event(std::string_view message,
                                       const lwm2m::ModelRegistry& models);

}  // namespace fogm2m::bus
