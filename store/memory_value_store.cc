#include "store/memory_value_store.h"

#include <boost/asio/post.hpp>

namespace fogm2m::store {

void MemoryValueStore::put(const std::string& endpoint, const std::vector<LastValue>& values,
                           Done<bool> done) {
  auto& mine = by_endpoint_[endpoint];
  for (const LastValue& v : values) mine[v.path] = v;
  boost::asio::post(io_, [done = std::move(done)] { done(true); });
}

void MemoryValueStore::get(const std::string& endpoint, Done<std::vector<LastValue>> done) {
  std::vector<LastValue> out;
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end())
    for (const auto& [path, v] : it->second) out.push_back(v);
  boost::asio::post(
      io_, [done = std::move(done), out = std::move(out)]() mutable { done(std::move(out)); });
}

void MemoryValueStore::remove(const std::string& endpoint, Done<bool> done) {
  const bool existed = by_endpoint_.erase(endpoint) > 0;
  boost::asio::post(io_, [done = std::move(done), existed] { done(existed); });
}

}  // namespace fogm2m::store
