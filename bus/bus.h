// A carrier of the bus: publish to a channel, receive what is published on
// the channels subscribed to. RedisBus (a cluster: Redis pub/sub) and
// MemoryBus (one process: a single node, tests). What travels on it is
// written and read by request.h, reply.h and registration_event.h.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::bus {

class Bus {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;
  virtual ~Bus() = default;

  // Publishes `message` on `channel`; fire and forget (failures are counted
  // by the carrier, not reported here).
  virtual void publish(std::string_view channel, std::string message) = 0;
  // Subscribes to `channels`; `handler` receives their messages on the
  // io_context thread. `ready` (may be empty) runs once, later, when the
  // subscription is confirmed or has failed.
  virtual void subscribe(std::vector<std::string> channels, MessageHandler handler,
                         std::function<void(Status)> ready) = 0;
};

}  // namespace fogm2m::bus
