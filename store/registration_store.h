// Where the cluster keeps registrations and endpoint ownership.
//
// Two implementations: RedisRegistrationStore (shared by every node of a
// cluster) and MemoryRegistrationStore (single node, tests). Every operation
// is asynchronous, with the contract of store/done.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lwm2m/result.h"
#include "store/done.h"
#include "store/registration.h"

namespace fogm2m::store {

struct UpdatedRegistration {
  Registration previous;
  Registration current;
};

// Registrations one remove_expired() call takes at most: bounds the work of
// one sweep when a whole fleet expires at once.
inline constexpr size_t kExpiredPerSweep = 512;

class RegistrationStore {
 public:
  virtual ~RegistrationStore() = default;

  // Stores `reg` and makes reg.owner its owner (TTL = lifetime). A previous
  // registration of the same endpoint is replaced and returned, so the
  // caller can clean up its observations.
  virtual void add(const Registration& reg, Done<std::optional<Registration>> done) = 0;

  // Applies `update` to the registration with update.reg_id and renews the
  // ownership of `owner`. kNotFound when no such registration exists.
  virtual void update(const RegistrationUpdate& update, const std::string& owner,
                      Done<UpdatedRegistration> done) = 0;

  // Removes the registration with `reg_id` and everything indexed by it.
  // kNotFound when it does not exist.
  virtual void remove(const std::string& reg_id, Done<Registration> done) = 0;

  // Lookups; nullopt when absent.
  virtual void get_by_endpoint(const std::string& endpoint,
                               Done<std::optional<Registration>> done) = 0;
  virtual void get_by_reg_id(const std::string& reg_id, Done<std::optional<Registration>> done) = 0;
  virtual void get_by_address(const PeerAddress& peer, Done<std::optional<Registration>> done) = 0;

  // The node that owns `endpoint`, nullopt when nobody does.
  virtual void owner_of(const std::string& endpoint, Done<std::optional<std::string>> done) = 0;

  // Removes registrations whose expiry (lastUp + lifetime) plus `grace_ms`
  // is before `now_ms`, at most kExpiredPerSweep of them (the oldest), and
  // returns them; a full batch means more may be waiting. Atomic per
  // registration: when several nodes sweep at once, each expired
  // registration is returned to exactly one of them.
  virtual void remove_expired(int64_t now_ms, int64_t grace_ms,
                              Done<std::vector<Registration>> done) = 0;

  // Every registration (for tools and the gateway; not for hot paths).
  virtual void list(Done<std::vector<Registration>> done) = 0;
};

}  // namespace fogm2m::store
