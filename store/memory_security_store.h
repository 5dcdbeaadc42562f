// SecurityStore kept in this process (single node, tests).
#pragma once

#include <boost/asio/io_context.hpp>
#include <unordered_map>

#include "store/security_store.h"

namespace fogm2m::store {

class MemorySecurityStore final : public SecurityStore {
 public:
  explicit MemorySecurityStore(boost::asio::io_context& io) : io_(io) {}

  void put(const SecurityInfo& info, Done<bool> done) override;
  void get_by_endpoint(const std::string& endpoint,
                       Done<std::optional<SecurityInfo>> done) override;
  void get_by_identity(const std::string& identity,
                       Done<std::optional<SecurityInfo>> done) override;
  void remove(const std::string& endpoint, Done<bool> done) override;
  void list(Done<std::vector<SecurityInfo>> done) override;

 private:
  template <class T>
  void reply(Done<T> done, Result<T> result);

  boost::asio::io_context& io_;
  std::unordered_map<std::string, SecurityInfo> by_endpoint_;
  std::unordered_map<std::string, std::string> endpoint_by_identity_;
};

}  // namespace fogm2m::store
