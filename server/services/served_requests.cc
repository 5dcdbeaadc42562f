#include "server/services/served_requests.h"

namespace fogm2m::server {

ServedRequests::Seen ServedRequests::admit(const std::string& ticket, const std::string** reply,
                                           Clock::time_point now) {
  expire(now);
  auto [it, inserted] = by_ticket_.try_emplace(ticket);
  if (inserted) {
    order_.emplace_back(now, &it->first);
    return Seen::kNew;
  }
  ++repeats_;
  if (!it->second.answered) return Seen::kInProgress;
  *reply = &it->second.reply;
  return Seen::kAnswered;
}

void ServedRequests::answered(const std::string& ticket, const std::string& reply) {
  auto it = by_ticket_.find(ticket);
  if (it == by_ticket_.end()) return;
  it->second.reply = reply;
  it->second.answered = true;
}

void ServedRequests::expire(Clock::time_point now) {
  while (!order_.empty() &&
         (order_.size() >= max_kept_ || now - order_.front().first >= keep_for_)) {
    // By iterator: the key named lives in the element erased.
    if (auto it = by_ticket_.find(*order_.front().second); it != by_ticket_.end())
      by_ticket_.erase(it);
    order_.pop_front();
  }
}

}  // namespace fogm2m::server
