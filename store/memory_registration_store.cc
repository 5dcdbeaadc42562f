#include "store/memory_registration_store.h"

#include <boost/asio/post.hpp>

namespace fogm2m::store {

template <class T>
void MemoryRegistrationStore::reply(Done<T> done, Result<T> result) {
  boost::asio::post(io_, [done = std::move(done), result = std::move(result)]() mutable {
    done(std::move(result));
  });
}

void MemoryRegistrationStore::index(const Registration& reg) {
  endpoint_by_reg_id_[reg.reg_id] = reg.endpoint;
  endpoint_by_address_[reg.peer.to_string()] = reg.endpoint;
  expiry_.emplace(reg.expiry_ms(), reg.endpoint);
}

void MemoryRegistrationStore::unindex(const Registration& reg) {
  endpoint_by_reg_id_.erase(reg.reg_id);
  if (auto it = endpoint_by_address_.find(reg.peer.to_string());
      it != endpoint_by_address_.end() && it->second == reg.endpoint)
    endpoint_by_address_.erase(it);
  expiry_.erase({reg.expiry_ms(), reg.endpoint});
}

void MemoryRegistrationStore::add(const Registration& reg, Done<std::optional<Registration>> done) {
  std::optional<Registration> previous;
  if (auto it = by_endpoint_.find(reg.endpoint); it != by_endpoint_.end()) {
    previous = std::move(it->second);
    unindex(*previous);
    by_endpoint_.erase(it);
  }
  by_endpoint_.emplace(reg.endpoint, reg);
  index(reg);
  reply<std::optional<Registration>>(std::move(done), std::move(previous));
}

void MemoryRegistrationStore::update(const RegistrationUpdate& update, const std::string& owner,
                                     Done<UpdatedRegistration> done) {
  auto ep = endpoint_by_reg_id_.find(update.reg_id);
  if (ep == endpoint_by_reg_id_.end())
    return reply<UpdatedRegistration>(
        std::move(done), make_error(ErrorKind::kNotFound, "no registration " + update.reg_id));
  Registration& reg = by_endpoint_.at(ep->second);
  UpdatedRegistration result{reg, reg};
  unindex(reg);
  apply_update(reg, update);
  reg.owner = owner;
  index(reg);
  result.current = reg;
  reply<UpdatedRegistration>(std::move(done), std::move(result));
}

void MemoryRegistrationStore::remove(const std::string& reg_id, Done<Registration> done) {
  auto ep = endpoint_by_reg_id_.find(reg_id);
  if (ep == endpoint_by_reg_id_.end())
    return reply<Registration>(std::move(done),
                               make_error(ErrorKind::kNotFound, "no registration " + reg_id));
  auto it = by_endpoint_.find(ep->second);
  Registration reg = std::move(it->second);
  by_endpoint_.erase(it);
  unindex(reg);
  reply<Registration>(std::move(done), std::move(reg));
}

void MemoryRegistrationStore::get_by_endpoint(const std::string& endpoint,
                                              Done<std::optional<Registration>> done) {
  std::optional<Registration> r;
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end()) r = it->second;
  reply<std::optional<Registration>>(std::move(done), std::move(r));
}

void MemoryRegistrationStore::get_by_reg_id(const std::string& reg_id,
                                            Done<std::optional<Registration>> done) {
  std::optional<Registration> r;
  if (auto ep = endpoint_by_reg_id_.find(reg_id); ep != endpoint_by_reg_id_.end())
    r = by_endpoint_.at(ep->second);
  reply<std::optional<Registration>>(std::move(done), std::move(r));
}

void MemoryRegistrationStore::get_by_address(const PeerAddress& peer,
                                             Done<std::optional<Registration>> done) {
  std::optional<Registration> r;
  if (auto ep = endpoint_by_address_.find(peer.to_string()); ep != endpoint_by_address_.end())
    r = by_endpoint_.at(ep->second);
  reply<std::optional<Registration>>(std::move(done), std::move(r));
}

void MemoryRegistrationStore::owner_of(const std::string& endpoint,
                                       Done<std::optional<std::string>> done) {
  std::optional<std::string> owner;
  if (auto it = by_endpoint_.find(endpoint); it != by_endpoint_.end() && !it->second.owner.empty())
    owner = it->second.owner;
  reply<std::optional<std::string>>(std::move(done), std::move(owner));
}

void MemoryRegistrationStore::remove_expired(int64_t now_ms, int64_t grace_ms,
                                             Done<std::vector<Registration>> done) {
  std::vector<Registration> expired;
  while (!expiry_.empty() && expiry_.begin()->first + grace_ms < now_ms &&
         expired.size() < kExpiredPerSweep) {
    const std::string ep = expiry_.begin()->second;
    auto it = by_endpoint_.find(ep);
    expired.push_back(std::move(it->second));
    by_endpoint_.erase(it);
    unindex(expired.back());
  }
  reply<std::vector<Registration>>(std::move(done), std::move(expired));
}

void MemoryRegistrationStore::list(Done<std::vector<Registration>> done) {
  std::vector<Registration> all;
  all.reserve(by_endpoint_.size());
  for (const auto& [_, reg] : by_endpoint_) all.push_back(reg);
  reply<std::vector<Registration>>(std::move(done), std::move(all));
}

}  // namespace fogm2m::store
