#include "server/services/sleeping_queue.h"

#include <algorithm>

namespace fogm2m::server {

bool SleepingQueue::push(const std::string& endpoint, bus::Request request,
                         Clock::time_point deadline) {
  std::deque<Entry>& q = by_endpoint_[endpoint];
  if (q.size() >= per_device_) return false;
  const uint64_t id = next_id_++;
  auto it = deadlines_.emplace(deadline, std::make_pair(endpoint, id));
  q.push_back(Entry{id, std::move(request), it});
  return true;
}

std::vector<SleepingQueue::Waiting> SleepingQueue::take(const std::string& endpoint) {
  std::vector<Waiting> out;
  auto q = by_endpoint_.find(endpoint);
  if (q == by_endpoint_.end()) return out;
  out.reserve(q->second.size());
  for (Entry& e : q->second) {
    const Clock::time_point deadline = e.deadline->first;
    deadlines_.erase(e.deadline);
    out.push_back(Waiting{endpoint, std::move(e.request), deadline});
  }
  by_endpoint_.erase(q);
  return out;
}

std::vector<SleepingQueue::Waiting> SleepingQueue::expire(Clock::time_point now) {
  std::vector<Waiting> out;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    auto d = deadlines_.begin();
    const Clock::time_point deadline = d->first;
    const auto [endpoint, id] = d->second;
    deadlines_.erase(d);
    auto q = by_endpoint_.find(endpoint);
    if (q == by_endpoint_.end()) continue;  // cannot happen: entries and deadlines go together
    auto e = std::find_if(q->second.begin(), q->second.end(),
                          [id = id](const Entry& x) { return x.id == id; });
    if (e == q->second.end()) continue;
    out.push_back(Waiting{endpoint, std::move(e->request), deadline});
    q->second.erase(e);
    if (q->second.empty()) by_endpoint_.erase(q);
  }
  return out;
}

std::optional<SleepingQueue::Clock::time_point> SleepingQueue::next_deadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

size_t SleepingQueue::size(const std::string& endpoint) const {
  auto q = by_endpoint_.find(endpoint);
  return q == by_endpoint_.end() ? 0 : q->second.size();
}

}  // namespace fogm2m::server
