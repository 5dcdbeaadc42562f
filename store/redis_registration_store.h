// RegistrationStore on Redis, shared by every node of a cluster (key schema
// in redis_keys.h).
//
// Writes that concern one endpoint (its record, ownership, observations) run
// as one Lua script on the endpoint's hash-tagged keys, so they are atomic
// and stay inside one Redis Cluster slot. The regId, address and expiry
// indexes are single-key commands pipelined behind the script on the same
// connection; readers verify that an index entry and the record agree.
#pragma once

#include "io/lifetime.h"
#include "io/redis_client.h"
#include "store/registration_store.h"

namespace fogm2m::store {

class RedisRegistrationStore final : public RegistrationStore {
 public:
  // `redis` must be a connected command connection that outlives the store.
  explicit RedisRegistrationStore(io::RedisClient& redis) : redis_(redis) {}

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
  // Looks up an index key (EP:REGID:, EP:ADDR:) and returns the record it
  // leads to if `matches` accepts it.
  void get_by_index(const std::string& index_key, std::function<bool(const Registration&)> matches,
                    Done<std::optional<Registration>> done);
  // Removes the registration of `endpoint` if it still has `reg_id`, with
  // its observations and indexes; nullopt when it had changed meanwhile.
  void remove_endpoint(const std::string& endpoint, const std::string& reg_id,
                       Done<std::optional<Registration>> done);
  void write_indexes(const Registration& reg, const std::optional<Registration>& previous);
  void drop_indexes(const Registration& reg);
  void update_attempt(const RegistrationUpdate& update, const std::string& owner, int attempts_left,
                      Done<UpdatedRegistration> done);

  io::RedisClient& redis_;
  io::Lifetime lifetime_;  // last: ends first
};

}  // namespace fogm2m::store
