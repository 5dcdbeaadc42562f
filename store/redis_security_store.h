// SecurityStore on Redis: SEC:EP:{ep} records (identity and key) and the
// SEC:ID:<identity> index, verified on read.
#pragma once

#include "io/lifetime.h"
#include "io/redis_client.h"
#include "store/security_store.h"

namespace fogm2m::store {

class RedisSecurityStore final : public SecurityStore {
 public:
  // `redis` must be a connected command connection that outlives the store.
  explicit RedisSecurityStore(io::RedisClient& redis) : redis_(redis) {}

  void put(const SecurityInfo& info, Done<bool> done) override;
  void get_by_endpoint(const std::string& endpoint,
                       Done<std::optional<SecurityInfo>> done) override;
  void get_by_identity(const std::string& identity,
                       Done<std::optional<SecurityInfo>> done) override;
  void remove(const std::string& endpoint, Done<bool> done) override;
  void list(Done<std::vector<SecurityInfo>> done) override;

 private:
  io::RedisClient& redis_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::store
