#include "store/redis_security_store.h"

#include <boost/asio/post.hpp>

#include "store/keys.h"
#include "store/redis_scan.h"
#include "store/redis_scripts.h"

namespace fogm2m::store {

namespace {

using io::RedisReply;
using redis_scripts::ignore;
using redis_scripts::kCompareAndDelete;

// Sets KEYS[1] to ARGV[1] and returns the value it replaced.
constexpr std::string_view kGetSet = "return redis.call('SET', KEYS[1], ARGV[1], 'GET')";
// Deletes KEYS[1] and returns what it held.
constexpr std::string_view kTake = R"lua(
local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v)lua";

Result<std::optional<SecurityInfo>> parse_optional(const RedisReply& r) {
  if (!r.is_string()) return std::optional<SecurityInfo>{};
  auto info = security_info_from_record_json(r.str);
  if (!info) return info.error();
  return std::optional<SecurityInfo>(std::move(*info));
}

}  // namespace

void RedisSecurityStore::put(const SecurityInfo& info, Done<bool> done) {
  // Answered later, as every store answers (store/done.h), never inside put().
  if (auto err = validate_security_info(info)) {
    boost::asio::post(redis_.io(),
                      lifetime_.guard([done = std::move(done), error = *err] { done(error); }));
    return;
  }
  // The identity must not belong to another endpoint (checked first; a
  // concurrent put of the same identity for two endpoints is not guarded).
  redis_.command(
      {"GET", keys::identity_index(info.identity)},
      lifetime_.guard([this, info, done](Result<RedisReply> r) {
        if (!r) return done(r.error());
        if (r->is_string() && r->str != info.endpoint)
          return done(make_error(
              ErrorKind::kInvalidArgument,
              "PSK identity \"" + info.identity + "\" already belongs to endpoint " + r->str));
        redis_.command({"EVAL", kGetSet, "1", keys::security(info.endpoint), to_record_json(info)},
                       lifetime_.guard([this, info, done](Result<RedisReply> old) {
                         if (!old) return done(old.error());
                         if (auto prev = parse_optional(*old);
                             prev && *prev && (*prev)->identity != info.identity)
                           redis_.command({"EVAL", kCompareAndDelete, "1",
                                           keys::identity_index((*prev)->identity), info.endpoint},
                                          ignore);
                         redis_.command({"SET", keys::identity_index(info.identity), info.endpoint},
                                        [done](Result<RedisReply> set) {
                                          if (!set) return done(set.error());
                                          done(true);
                                        });
                       }));
      }));
}

void RedisSecurityStore::get_by_endpoint(const std::string& endpoint,
                                         Done<std::optional<SecurityInfo>> done) {
  redis_.command({"GET", keys::security(endpoint)}, [done](Result<RedisReply> r) {
    if (!r) return done(r.error());
    done(parse_optional(*r));
  });
}

void RedisSecurityStore::get_by_identity(const std::string& identity,
                                         Done<std::optional<SecurityInfo>> done) {
  redis_.command({"GET", keys::identity_index(identity)},
                 lifetime_.guard([this, identity, done](Result<RedisReply> r) {
                   if (!r) return done(r.error());
                   if (!r->is_string()) return done(std::optional<SecurityInfo>{});
                   get_by_endpoint(r->str,
                                   [identity, done](Result<std::optional<SecurityInfo>> info) {
                                     if (info && *info && (*info)->identity != identity)
                                       return done(std::optional<SecurityInfo>{});  // stale
                                     done(std::move(info));
                                   });
                 }));
}

void RedisSecurityStore::remove(const std::string& endpoint, Done<bool> done) {
  redis_.command({"EVAL", kTake, "1", keys::security(endpoint)},
                 lifetime_.guard([this, endpoint, done](Result<RedisReply> r) {
                   if (!r) return done(r.error());
                   auto old = parse_optional(*r);
                   if (old && *old)
                     redis_.command({"EVAL", kCompareAndDelete, "1",
                                     keys::identity_index((*old)->identity), endpoint},
                                    ignore);
                   done(r->is_string());
                 }));
}

void RedisSecurityStore::list(Done<std::vector<SecurityInfo>> done) {
  scan_string_values(redis_, keys::kSecurityPattern,
                     lifetime_.guard([done](Result<std::vector<std::string>> records) {
                       if (!records) return done(records.error());
                       std::vector<SecurityInfo> out;
                       for (const auto& text : *records)
                         if (auto info = security_info_from_record_json(text))
                           out.push_back(std::move(*info));
                       done(std::move(out));
                     }));
}

}  // namespace fogm2m::store
