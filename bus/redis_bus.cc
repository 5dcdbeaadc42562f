#include "bus/redis_bus.h"

namespace fogm2m::bus {

void RedisBus::publish(std::string_view channel, std::string message) {
  if (!redis_.up()) {
    if (held_.size() >= kHeld) {
      held_.pop_front();
      ++dropped_;
    }
    held_.push_back(
        Held{std::chrono::steady_clock::now(), std::string(channel), std::move(message)});
    return;
  }
  if (!held_.empty()) publish_held();
  send(channel, message);
}

size_t RedisBus::publish_held() {
  if (!redis_.up()) return 0;
  const auto oldest = std::chrono::steady_clock::now() - kHeldFor;
  size_t sent = 0;
  while (!held_.empty()) {
    const Held& h = held_.front();
    if (h.at < oldest) {
      ++dropped_;
    } else {
      send(h.channel, h.message);
      ++sent;
    }
    held_.pop_front();
  }
  return sent;
}

void RedisBus::send(std::string_view channel, std::string_view message) {
  // Fire-and-forget: nobody waits on the reply (the number of receivers),
  // so it is read late and a stream of notifications does not wake the node
  // once per reply. A message published as the connection dies (before the
  // link notices) is lost, as is every message of a pub/sub bus nobody
  // listens to.
  redis_.publish(channel, message);
}

void RedisBus::subscribe(std::vector<std::string> channels, MessageHandler handler,
                         std::function<void(Status)> ready) {
  if (!dispatching_) {
    dispatching_ = true;
    redis_.set_message_handler(
        lifetime_.guard([this](std::string_view channel, std::string_view message) {
          if (auto it = handlers_.find(channel); it != handlers_.end())
            (*it->second)(channel, message);
        }));
  }
  auto shared = std::make_shared<MessageHandler>(std::move(handler));
  for (const auto& c : channels) handlers_[c] = shared;
  std::vector<std::string_view> views(channels.begin(), channels.end());
  redis_.subscribe(std::span<const std::string_view>(views), std::move(ready));
}

}  // namespace fogm2m::bus
