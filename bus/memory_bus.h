// A Bus inside one process: messages are delivered, asynchronously and in
// publish order, to every subscriber of the channel.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>

#include "bus/bus.h"

namespace fogm2m::bus {

class MemoryBus final : public Bus {
 public:
  explicit MemoryBus(boost::asio::io_context& io) : io_(io) {}

  void publish(std::string_view channel, std::string message) override;
  void subscribe(std::vector<std::string> channels, MessageHandler handler,
                 std::function<void(Status)> ready) override;

  size_t published() const { return published_; }

 private:
  boost::asio::io_context& io_;
  std::multimap<std::string, std::shared_ptr<MessageHandler>, std::less<>> subscribers_;
  size_t published_ = 0;
};

}  // namespace fogm2m::bus
