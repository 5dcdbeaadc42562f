#include "store/memory_observation_store.h"

#include <boost/asio/post.hpp>

namespace fogm2m::store {

template <class T>
void MemoryObservationStore::reply(Done<T> done, Result<T> result) {
  boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void MemoryObservationStore::add(const Observation& obs, Done<bool> done) {
  by_endpoint_[obs.endpoint][obs.token_hex] = obs;
  endpoint_by_token_[obs.token_hex] = obs.endpoint;
  reply<bool>(std::move(done), true);
}

void MemoryObservationStore::find_by_token(const std::string& token_hex,
                                           Done<std::optional<Observation>> done) {
  auto it = endpoint_by_token_.find(token_hex);
  if (it == endpoint_by_token_.end())
    return reply<std::optional<Observation>>(std::move(done), std::optional<Observation>{});
  get(it->second, token_hex, std::move(done));
}

void MemoryObservationStore::get(const std::string& endpoint, const std::string& token_hex,
                                 Done<std::optional<Observation>> done) {
  std::optional<Observation> found;
  if (auto ep = by_endpoint_.find(endpoint); ep != by_endpoint_.end())
    if (auto it = ep->second.find(token_hex); it != ep->second.end()) found = it->second;
  reply<std::optional<Observation>>(std::move(done), std::move(found));
}

void MemoryObservationStore::remove(const std::string& endpoint, const std::string& token_hex,
                                    Done<bool> done) {
  bool existed = false;
  if (auto ep = by_endpoint_.find(endpoint); ep != by_endpoint_.end()) {
    existed = ep->second.erase(token_hex) > 0;
    if (ep->second.empty()) by_endpoint_.erase(ep);
  }
  if (existed) endpoint_by_token_.erase(token_hex);
  reply<bool>(std::move(done), existed);
}

void MemoryObservationStore::list(const std::string& endpoint,
                                  Done<std::vector<Observation>> done) {
  std::vector<Observation> out;
  if (auto ep = by_endpoint_.find(endpoint); ep != by_endpoint_.end())
    for (const auto& [_, obs] : ep->second) out.push_back(obs);
  reply<std::vector<Observation>>(std::move(done), std::move(out));
}

void MemoryObservationStore::remove_all(const std::string& endpoint,
                                        Done<std::vector<Observation>> done) {
  std::vector<Observation> out;
  if (auto ep = by_endpoint_.find(endpoint); ep != by_endpoint_.end()) {
    for (auto& [token, obs] : ep->second) {
      endpoint_by_token_.erase(token);
      out.push_back(std::move(obs));
    }
    by_endpoint_.erase(ep);
  }
  reply<std::vector<Observation>>(std::move(done), std::move(out));
}

}  // namespace fogm2m::store
