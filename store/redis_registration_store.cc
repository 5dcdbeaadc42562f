#include "store/redis_registration_store.h"

#include "store/keys.h"
#include "store/redis_scan.h"
#include "store/redis_scripts.h"

namespace fogm2m::store {

namespace {

using io::RedisReply;
using redis_scripts::ignore;
using redis_scripts::kCompareAndDelete;

// Removes ARGV[1] from the sorted set KEYS[1] only while its score is still
// ARGV[2], so a newer registration's expiry entry survives.
constexpr std::string_view kCompareAndZrem = R"lua(
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0)lua";

// Replaces the record KEYS[1] (ARGV[1] old, ARGV[2] new) and renews the
// ownership KEYS[2] (ARGV[3] owner, ARGV[4] TTL ms). Returns 0 when the
// record changed since it was read.
constexpr std::string_view kCompareAndSet = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
return 1)lua";

// Deletes the record KEYS[1] and ownership KEYS[2] if the record still has
// regId ARGV[1]; returns the deleted record or false.
constexpr std::string_view kRemoveIfRegId = R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
if cjson.decode(cur).regId ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1], KEYS[2])
return cur)lua";

// Deletes the record KEYS[1] and ownership KEYS[2] if lastUp + lt + grace
// (ARGV[2]) is before now (ARGV[1]); returns the deleted record, or false
// (and 0 when no record exists at all, so the caller drops a stale index).
constexpr std::string_view kRemoveIfExpired = R"lua(
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local r = cjson.decode(cur)
if r.lastUp + r.lt * 1000 + tonumber(ARGV[2]) >= tonumber(ARGV[1]) then return false end
redis.call('DEL', KEYS[1], KEYS[2])
return cur)lua";

std::string millis(int64_t v) {
  return std::to_string(v);
}

Result<std::optional<Registration>> parse_optional(const RedisReply& r) {
  if (r.is_nil()) return std::optional<Registration>{};
  if (!r.is_string())
    return make_error(ErrorKind::kMalformed, "registration record is not a string");
  auto reg = registration_from_json_string(r.str);
  if (!reg) return reg.error();
  return std::optional<Registration>(std::move(*reg));
}

}  // namespace

void RedisRegistrationStore::write_indexes(const Registration& reg,
                                           const std::optional<Registration>& previous) {
  if (previous) {
    if (previous->reg_id != reg.reg_id)
      redis_.command(
          {"EVAL", kCompareAndDelete, "1", keys::reg_id_index(previous->reg_id), reg.endpoint},
          ignore);
    if (previous->peer != reg.peer)
      redis_.command({"EVAL", kCompareAndDelete, "1",
                      keys::address_index(previous->peer.to_string()), reg.endpoint},
                     ignore);
  }
  redis_.command({"SET", keys::reg_id_index(reg.reg_id), reg.endpoint}, ignore);
  redis_.command({"SET", keys::address_index(reg.peer.to_string()), reg.endpoint}, ignore);
  redis_.command({"ZADD", keys::kExpiry, millis(reg.expiry_ms()), reg.endpoint}, ignore);
}

void RedisRegistrationStore::drop_indexes(const Registration& reg) {
  redis_.command({"EVAL", kCompareAndDelete, "1", keys::reg_id_index(reg.reg_id), reg.endpoint},
                 ignore);
  redis_.command(
      {"EVAL", kCompareAndDelete, "1", keys::address_index(reg.peer.to_string()), reg.endpoint},
      ignore);
  redis_.command(
      {"EVAL", kCompareAndZrem, "1", keys::kExpiry, reg.endpoint, millis(reg.expiry_ms())}, ignore);
}

void RedisRegistrationStore::add(const Registration& reg, Done<std::optional<Registration>> done) {
  const std::string record = to_json_string(reg);
  const std::string reg_key = keys::registration(reg.endpoint);
  // MULTI/EXEC: read the previous record and write the new one and the
  // ownership atomically; all three keys share the endpoint's hash tag.
  const std::string owner_key = keys::owner(reg.endpoint);
  const std::string ttl = millis(reg.lifetime_s * 1000);
  const std::string_view get[] = {"GET", reg_key};
  const std::string_view set[] = {"SET", reg_key, record};
  const std::string_view own[] = {"SET", owner_key, reg.owner, "PX", ttl};
  const io::RedisClient::Argv commands[] = {get, set, own};
  redis_.transaction(
      reg_key, commands, lifetime_.guard([this, reg, done = std::move(done)](Result<RedisReply> r) {
        if (!r) return done(r.error());
        if (!r->is_array() || r->elements.size() != 3)
          return done(make_error(ErrorKind::kIo, "registration add: transaction aborted"));
        auto previous = parse_optional(r->elements[0]);
        if (!previous)
          previous = std::optional<Registration>{};  // a broken old record is replaced, not fatal
        write_indexes(reg, *previous);
        done(std::move(previous));
      }));
}

void RedisRegistrationStore::update(const RegistrationUpdate& update, const std::string& owner,
                                    Done<UpdatedRegistration> done) {
  update_attempt(update, owner, 3, std::move(done));
}

void RedisRegistrationStore::update_attempt(const RegistrationUpdate& update,
                                            const std::string& owner, int attempts_left,
                                            Done<UpdatedRegistration> done) {
  get_by_reg_id(
      update.reg_id, lifetime_.guard([this, update, owner, attempts_left, done = std::move(done)](
                                         Result<std::optional<Registration>> found) mutable {
        if (!found) return done(found.error());
        if (!*found)
          return done(make_error(ErrorKind::kNotFound, "no registration " + update.reg_id));
        UpdatedRegistration result{**found, **found};
        apply_update(result.current, update);
        result.current.owner = owner;
        const std::string old_record = to_json_string(result.previous);
        redis_.command(
            {"EVAL", kCompareAndSet, "2", keys::registration(result.current.endpoint),
             keys::owner(result.current.endpoint), old_record, to_json_string(result.current),
             owner, millis(result.current.lifetime_s * 1000)},
            lifetime_.guard([this, update, owner, attempts_left, result,
                             done = std::move(done)](Result<RedisReply> r) mutable {
              if (!r) return done(r.error());
              if (r->integer == 0) {  // changed under us: read again
                if (attempts_left <= 1)
                  return done(
                      make_error(ErrorKind::kIo, "registration update: record kept changing"));
                return update_attempt(update, owner, attempts_left - 1, std::move(done));
              }
              write_indexes(result.current, result.previous);
              done(std::move(result));
            }));
      }));
}

void RedisRegistrationStore::remove_endpoint(const std::string& endpoint, const std::string& reg_id,
                                             Done<std::optional<Registration>> done) {
  redis_.command(
      {"EVAL", kRemoveIfRegId, "2", keys::registration(endpoint), keys::owner(endpoint), reg_id},
      lifetime_.guard([this, done = std::move(done)](Result<RedisReply> r) {
        if (!r) return done(r.error());
        auto reg = parse_optional(*r);
        if (reg && *reg) drop_indexes(**reg);
        done(std::move(reg));
      }));
}

void RedisRegistrationStore::remove(const std::string& reg_id, Done<Registration> done) {
  redis_.command(
      {"GET", keys::reg_id_index(reg_id)},
      lifetime_.guard([this, reg_id, done = std::move(done)](Result<RedisReply> r) mutable {
        if (!r) return done(r.error());
        if (!r->is_string())
          return done(make_error(ErrorKind::kNotFound, "no registration " + reg_id));
        remove_endpoint(
            r->str, reg_id,
            [reg_id, done = std::move(done)](Result<std::optional<Registration>> reg) {
              if (!reg) return done(reg.error());
              if (!*reg) return done(make_error(ErrorKind::kNotFound, "no registration " + reg_id));
              done(std::move(**reg));
            });
      }));
}

void RedisRegistrationStore::get_by_endpoint(const std::string& endpoint,
                                             Done<std::optional<Registration>> done) {
  redis_.command({"GET", keys::registration(endpoint)}, [done](Result<RedisReply> r) {
    if (!r) return done(r.error());
    done(parse_optional(*r));
  });
}

void RedisRegistrationStore::get_by_index(const std::string& index_key,
                                          std::function<bool(const Registration&)> matches,
                                          Done<std::optional<Registration>> done) {
  redis_.command({"GET", index_key}, lifetime_.guard([this, matches = std::move(matches),
                                                      done](Result<RedisReply> r) mutable {
    if (!r) return done(r.error());
    if (!r->is_string()) return done(std::optional<Registration>{});
    get_by_endpoint(r->str,
                    [matches = std::move(matches), done](Result<std::optional<Registration>> reg) {
                      if (reg && *reg && !matches(**reg))
                        return done(std::optional<Registration>{});  // stale index
                      done(std::move(reg));
                    });
  }));
}

void RedisRegistrationStore::get_by_reg_id(const std::string& reg_id,
                                           Done<std::optional<Registration>> done) {
  get_by_index(
      keys::reg_id_index(reg_id), [reg_id](const Registration& r) { return r.reg_id == reg_id; },
      std::move(done));
}

void RedisRegistrationStore::get_by_address(const PeerAddress& peer,
                                            Done<std::optional<Registration>> done) {
  get_by_index(
      keys::address_index(peer.to_string()),
      [peer](const Registration& r) { return r.peer == peer; }, std::move(done));
}

void RedisRegistrationStore::owner_of(const std::string& endpoint,
                                      Done<std::optional<std::string>> done) {
  redis_.command({"GET", keys::owner(endpoint)}, [done](Result<RedisReply> r) {
    if (!r) return done(r.error());
    if (!r->is_string()) return done(std::optional<std::string>{});
    done(std::optional<std::string>(r->str));
  });
}

void RedisRegistrationStore::remove_expired(int64_t now_ms, int64_t grace_ms,
                                            Done<std::vector<Registration>> done) {
  redis_.command(
      {"ZRANGEBYSCORE", keys::kExpiry, "-inf", "(" + millis(now_ms - grace_ms), "WITHSCORES",
       "LIMIT", "0", std::to_string(kExpiredPerSweep)},
      lifetime_.guard([this, now_ms, grace_ms, done](Result<RedisReply> r) {
        if (!r) return done(r.error());
        const auto& e = r->elements;
        if (e.empty()) return done(std::vector<Registration>{});
        struct Sweep {
          std::vector<Registration> expired;
          size_t waiting = 0;
          Done<std::vector<Registration>> done;
        };
        auto sweep = std::make_shared<Sweep>();
        sweep->done = done;
        sweep->waiting = e.size() / 2;
        for (size_t i = 0; i + 1 < e.size(); i += 2) {
          const std::string ep = e[i].str, score = e[i + 1].str;
          redis_.command(
              {"EVAL", kRemoveIfExpired, "2", keys::registration(ep), keys::owner(ep),
               millis(now_ms), millis(grace_ms)},
              lifetime_.guard([this, sweep, ep, score](Result<RedisReply> rr) {
                if (rr && rr->is_integer())  // no record: drop the stale expiry entry
                  redis_.command({"EVAL", kCompareAndZrem, "1", keys::kExpiry, ep, score}, ignore);
                if (rr && rr->is_string()) {
                  if (auto reg = registration_from_json_string(rr->str)) {
                    drop_indexes(*reg);
                    sweep->expired.push_back(std::move(*reg));
                  }
                }
                if (--sweep->waiting == 0) sweep->done(std::move(sweep->expired));
              }));
        }
      }));
}

void RedisRegistrationStore::list(Done<std::vector<Registration>> done) {
  scan_string_values(redis_, keys::kRegistrationPattern,
                     lifetime_.guard([done](Result<std::vector<std::string>> records) {
                       if (!records) return done(records.error());
                       std::vector<Registration> out;
                       out.reserve(records->size());
                       for (const auto& text : *records)
                         if (auto reg = registration_from_json_string(text))
                           out.push_back(std::move(*reg));
                       done(std::move(out));
                     }));
}

}  // namespace fogm2m::store
