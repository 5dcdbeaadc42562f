#include "server/services/served_requests.h"

namespace fogm2m::server {

ServedRequests::Seen ServedRequests::admit(std::string_view ticket, const std::string** reply,
                                           Clock::time_point now) {
  expire(now);
  const uint64_t key = key_of(ticket);
  auto [it, inserted] = by_ticket_.try_emplace(key);
  if (inserted) {
    order_.emplace_back(now, key);
    return Seen::kNew;
  }
  ++repeats_;
  if (!it->second.answered) return Seen::kInProgress;
  *reply = &it->second.reply;
  return Seen::kAnswered;
}

void ServedRequests::answered(uint64_t key, const std::string& reply) {
  auto it = by_ticket_.find(key);
  if (it == by_ticket_.end()) return;
  it->second.reply = reply;
  it->second.answered = true;
}

void ServedRequests::expire(Clock::time_point now) {
  while (!order_.empty() &&
         (order_.size() >= max_kept_ || now - order_.front().first >= keep_for_)) {
    by_ticket_.erase(order_.front().second);
    order_.pop_front();
  }
}

}  // namespace fogm2m::server
