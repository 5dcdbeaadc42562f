#include "bus/memory_bus.h"

#include <boost/asio/post.hpp>

namespace fogm2m::bus {

void MemoryBus::publish(std::string_view channel, std::string message) {
  ++published_;
  auto range = subscribers_.equal_range(channel);
  if (range.first == range.second) return;
  std::vector<std::shared_ptr<MessageHandler>> targets;
  for (auto it = range.first; it != range.second; ++it) targets.push_back(it->second);
  boost::asio::post(io_, [targets = std::move(targets), channel = std::string(channel),
                          message = std::move(message)] {
    for (const auto& t : targets) (*t)(channel, message);
  });
}

void MemoryBus::subscribe(std::vector<std::string> channels, MessageHandler handler,
                          std::function<void(Status)> ready) {
  auto shared = std::make_shared<MessageHandler>(std::move(handler));
  for (auto& c : channels) subscribers_.emplace(std::move(c), shared);
  if (ready) boost::asio::post(io_, [ready = std::move(ready)] { ready(Status{}); });
}

}  // namespace fogm2m::bus
