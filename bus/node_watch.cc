#include "bus/node_watch.h"

#include <cstdlib>
#include <utility>
#include <vector>

#include "store/keys.h"

namespace fogm2m::bus {

NodeWatch::NodeWatch(io::RedisClient& redis, OnEvent on_event, NodeWatchOptions options)
    : redis_(redis),
      on_event_(std::move(on_event)),
      options_(std::move(options)),
      timer_(redis.io()) {}

void NodeWatch::start() {
  read_view();
  arm();
}

void NodeWatch::arm() {
  timer_.expires_after(options_.period);
  timer_.async_wait(lifetime_.guard([this](boost::system::error_code ec) {
    if (ec) return;
    read_view();
    arm();
  }));
}

void NodeWatch::read_view() {
  if (reading_ || !redis_.up()) return;
  reading_ = true;
  const std::string oldest = std::to_string(options_.clock() - options_.liveness.count());
  redis_.command({std::string_view("ZRANGEBYSCORE"), store::keys::kNodes, std::string_view(oldest),
                  std::string_view("+inf"), std::string_view("WITHSCORES")},
                 lifetime_.guard([this](Result<io::RedisReply> reply) {
                   reading_ = false;
                   if (!reply || !reply->is_array() || reply->elements.size() % 2 != 0) return;
                   std::map<std::string, int64_t, std::less<>> alive;
                   for (size_t i = 0; i + 1 < reply->elements.size(); i += 2)
                     alive[std::move(reply->elements[i].str)] =
                         std::strtoll(reply->elements[i + 1].str.c_str(), nullptr, 10);
                   std::vector<std::pair<std::string, Event>> events;
                   for (const auto& [node, beat] : alive_) {
                     auto now = alive.find(node);
                     if (now == alive.end())
                       events.emplace_back(node, Event::kDied);
                     else if (now->second - beat > options_.gap.count())
                       events.emplace_back(node, Event::kReturned);
                   }
                   alive_ = std::move(alive);
                   for (const auto& [node, event] : events) {
                     ++(event == Event::kDied ? deaths_ : returns_);
                     if (on_event_) on_event_(node, event);
                   }
                 }));
}

}  // namespace fogm2m::bus
