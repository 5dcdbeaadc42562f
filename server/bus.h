// The node's view of the pub/sub bus: publish to a channel, receive what is
// published on the channels it subscribed to. RedisBus (cluster) and
// MemoryBus (one process: a single node, the gateway in-process, tests).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "lwm2m/result.h"

namespace fogm2m::server {

// Channel names, configurable because the reference study and Leshan's
// cluster module spell them differently (LESHAN_REG_UPD vs LESHAN_REG_UP).
struct BusChannels {
  std::string requests = "LWM2M_REQ";
  std::string responses = "LWM2M_RESP";
  std::string registration_new = "LESHAN_REG_NEW";
  std::string registration_update = "LESHAN_REG_UPD";
  std::string registration_delete = "LESHAN_REG_DEL";
};

class Bus {
 public:
  using MessageHandler = std::function<void(std::string_view channel, std::string_view message)>;
  virtual ~Bus() = default;

  // Publishes `message` on `channel`; fire and forget (a lost connection is
  // reported through the owner's logs, not here).
  virtual void publish(std::string_view channel, std::string message) = 0;
  // Subscribes to `channels`; `handler` receives their messages on the
  // io_context thread. `ready` runs once the subscription is confirmed.
  virtual void subscribe(std::vector<std::string> channels, MessageHandler handler,
                         std::function<void(Status)> ready) = 0;
};

}  // namespace fogm2m::server
