#include "store/memory_security_store.h"

#include <boost/asio/post.hpp>

namespace fogm2m::store {

template <class T>
void MemorySecurityStore::reply(Done<T> done, Result<T> result) {
  boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void MemorySecurityStore::put(const SecurityInfo& info, Done<bool> done) {
  if (auto err = validate_security_info(info)) return reply<bool>(std::move(done), *err);
  if (auto it = endpoint_by_identity_.find(info.identity);
      it != endpoint_by_identity_.end() && it->second != info.endpoint)
    return reply<bool>(std::move(done),
                       make_error(ErrorKind::kInvalidArgument,
                                  "PSK identity \"" + info.identity +
                                      "\" already belongs to endpoint " + it->second));
  if (auto old = by_endpoint_.find(info.endpoint); old != by_endpoint_.end())
    endpoint_by_identity_.erase(old->second.identity);
  by_endpoint_[info.endpoint] = info;
  endpoint_by_identity_[info.identity] = info.endpoint;
  reply<bool>(std::move(done), true);
}

void MemorySecurityStore::get_by_endpoint(const std::string& endpoint,
                                          Done<std::optional<SecurityInfo>> done) {
  std::optional<SecurityInfo> r;
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end()) r = it->second;
  reply<std::optional<SecurityInfo>>(std::move(done), std::move(r));
}

void MemorySecurityStore::get_by_identity(const std::string& identity,
                                          Done<std::optional<SecurityInfo>> done) {
  std::optional<SecurityInfo> r;
  if (auto ep = endpoint_by_identity_.find(identity); ep != endpoint_by_identity_.end())
    r = by_endpoint_.at(ep->second);
  reply<std::optional<SecurityInfo>>(std::move(done), std::move(r));
}

void MemorySecurityStore::remove(const std::string& endpoint, Done<bool> done) {
  bool existed = false;
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end()) {
    endpoint_by_identity_.erase(it->second.identity);
    by_endpoint_.erase(it);
    existed = true;
  }
  reply<bool>(std::move(done), existed);
}

void MemorySecurityStore::list(Done<std::vector<SecurityInfo>> done) {
  std::vector<SecurityInfo> all;
  all.reserve(by_endpoint_.size());
  for (const auto& [ep, info] : by_endpoint_) all.push_back(info);
  reply<std::vector<SecurityInfo>>(std::move(done), std::move(all));
}

}  // namespace fogm2m::store
