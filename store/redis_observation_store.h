// ObservationStore on Redis: OBS:TKN:{ep}<token> records and the token set
// TKNS:EP:{ep}, always written together in one transaction (same slot).
#pragma once

#include "io/lifetime.h"
#include "io/redis_client.h"
#include "store/observation_store.h"

namespace fogm2m::store {

class RedisObservationStore final : public ObservationStore {
 public:
  // `redis` must be a connected command connection that outlives the store.
  explicit RedisObservationStore(io::RedisClient& redis) : redis_(redis) {}

  void add(const Observation& obs, Done<bool> done) override;
  void get(const std::string& endpoint, const std::string& token_hex,
           Done<std::optional<Observation>> done) override;
  void find_by_token(const std::string& token_hex, Done<std::optional<Observation>> done) override;
  void remove(const std::string& endpoint, const std::string& token_hex, Done<bool> done) override;
  void list(const std::string& endpoint, Done<std::vector<Observation>> done) override;
  void remove_all(const std::string& endpoint, Done<std::vector<Observation>> done) override;

 private:
  // Drops token index entries (their own slots: one command each, not
  // waited for; an entry left behind leads nowhere and is ignored).
  void unindex(const std::vector<std::string>& tokens_hex);

  io::RedisClient& redis_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::store
