// RegistrationStore kept in this process: for a single node and for tests.
// Same contract as the Redis store, including asynchronous callbacks
// (posted to the io_context).
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <set>
#include <unordered_map>

#include "store/registration_store.h"

namespace fogm2m::store {

class MemoryRegistrationStore final : public RegistrationStore {
 public:
  explicit MemoryRegistrationStore(boost::asio::io_context& io) : io_(io) {}

  void add(const Registration& reg, Done<std::optional<Registration>> done) override;
  void update(const RegistrationUpdate& update, const std::string& owner,
              Done<UpdatedRegistration> done) override;
  void remove(const std::string& reg_id, Done<Registration> done) override;
  void get_by_endpoint(const std::string& endpoint,
                       Done<std::optional<Registration>> done) override;
  void get_by_reg_id(const std::string& reg_id, Done<std::optional<Registration>> done) override;
  void get_by_address(const PeerAddress& peer, Done<std::optional<Registration>> done) override;
  void owner_of(const std::string& endpoint, Done<std::optional<std::string>> done) override;
  void remove_expired(int64_t now_ms, int64_t grace_ms,
                      Done<std::vector<Registration>> done) override;
  void list(Done<std::vector<Registration>> done) override;

 private:
  template <class T>
  void reply(Done<T> done, Result<T> result);
  void index(const Registration& reg);
  void unindex(const Registration& reg);

  boost::asio::io_context& io_;
  std::unordered_map<std::string, Registration> by_endpoint_;
  std::unordered_map<std::string, std::string> endpoint_by_reg_id_;
  std::unordered_map<std::string, std::string> endpoint_by_address_;
  std::set<std::pair<int64_t, std::string>> expiry_;  // (expiry ms, endpoint)
};

}  // namespace fogm2m::store
