// ValueStore on Redis: one hash per endpoint, VAL:EP:{ep} (keys.h), field =
// resource path, value = {"ts":..,"node":..} (value_store.h).
#pragma once

#include "io/redis_client.h"
#include "store/value_store.h"

namespace fogm2m::store {

class RedisValueStore final : public ValueStore {
 public:
  // `redis` must be a connected command connection that outlives the store.
  explicit RedisValueStore(io::RedisClient& redis) : redis_(redis) {}

  void put(const std::string& endpoint, const std::vector<LastValue>& values,
           Done<bool> done) override;
  void get(const std::string& endpoint, Done<std::vector<LastValue>> done) override;
  void remove(const std::string& endpoint, Done<bool> done) override;

 private:
  io::RedisClient& redis_;
};

}  // namespace fogm2m::store
