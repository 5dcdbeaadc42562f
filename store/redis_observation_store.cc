#include "store/redis_observation_store.h"

#include <memory>
#include <optional>

#include "store/keys.h"
#include "store/redis_scripts.h"

namespace fogm2m::store {

namespace {

using io::RedisReply;

// Reads and deletes every observation of one endpoint: KEYS[1] is its token
// set, ARGV[1] the observation key prefix "OBS:TKN:{ep}" (same slot).
constexpr std::string_view kTakeAll = R"lua(
local out = {}
for _, t in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = ARGV[1] .. t
  local v = redis.call('GET', k)
  if v then out[#out + 1] = v end
  redis.call('DEL', k)
end
redis.call('DEL', KEYS[1])
return out)lua";

std::vector<Observation> parse_all(const RedisReply& r) {
  std::vector<Observation> out;
  for (const auto& e : r.elements)
    if (e.is_string())
      if (auto obs = observation_from_json_string(e.str)) out.push_back(std::move(*obs));
  return out;
}

}  // namespace

// The record and the endpoint's token set in one transaction (one slot);
// the token index, in a slot of its own, beside it. Done once both are
// written.
void RedisObservationStore::add(const Observation& obs, Done<bool> done) {
  const std::string key = keys::observation(obs.endpoint, obs.token_hex);
  const std::string record = to_json_string(obs);
  const std::string tokens = keys::tokens(obs.endpoint);
  const std::string_view set[] = {"SET", key, record};
  const std::string_view sadd[] = {"SADD", tokens, obs.token_hex};
  const io::RedisClient::Argv commands[] = {set, sadd};
  struct Both {
    explicit Both(Done<bool> d) : done(std::move(d)) {}
    Done<bool> done;
    int left = 2;
    std::optional<Error> error;
    void settle(const Result<RedisReply>& r) {
      if (!r && !error) error = r.error();
      if (--left > 0) return;
      if (error) return done(*error);
      done(true);
    }
  };
  auto both = std::make_shared<Both>(std::move(done));
  redis_.command({"SET", keys::token_index(obs.token_hex), obs.endpoint},
                 [both](Result<RedisReply> r) { both->settle(r); });
  redis_.transaction(tokens, commands, [both](Result<RedisReply> r) { both->settle(r); });
}

void RedisObservationStore::find_by_token(const std::string& token_hex,
                                          Done<std::optional<Observation>> done) {
  redis_.command({"GET", keys::token_index(token_hex)},
                 lifetime_.guard([this, token_hex, done](Result<RedisReply> r) {
                   if (!r) return done(r.error());
                   if (!r->is_string()) return done(std::optional<Observation>{});
                   get(r->str, token_hex, done);  // the record must be there too
                 }));
}

void RedisObservationStore::unindex(const std::vector<std::string>& tokens_hex) {
  for (const std::string& t : tokens_hex)
    redis_.command({"DEL", keys::token_index(t)}, [](Result<RedisReply>) {});
}

void RedisObservationStore::get(const std::string& endpoint, const std::string& token_hex,
                                Done<std::optional<Observation>> done) {
  redis_.command({"GET", keys::observation(endpoint, token_hex)}, [done](Result<RedisReply> r) {
    if (!r) return done(r.error());
    if (!r->is_string()) return done(std::optional<Observation>{});
    auto obs = observation_from_json_string(r->str);
    if (!obs) return done(obs.error());
    done(std::optional<Observation>(std::move(*obs)));
  });
}

void RedisObservationStore::remove(const std::string& endpoint, const std::string& token_hex,
                                   Done<bool> done) {
  const std::string key = keys::observation(endpoint, token_hex);
  const std::string tokens = keys::tokens(endpoint);
  const std::string_view del[] = {"DEL", key};
  const std::string_view srem[] = {"SREM", tokens, token_hex};
  const io::RedisClient::Argv commands[] = {del, srem};
  redis_.transaction(tokens, commands, [done](Result<RedisReply> r) {
    if (!r) return done(r.error());
    done(r->is_array() && !r->elements.empty() && r->elements[0].integer > 0);
  });
  unindex({token_hex});
}

void RedisObservationStore::list(const std::string& endpoint, Done<std::vector<Observation>> done) {
  redis_.command({"SMEMBERS", keys::tokens(endpoint)},
                 lifetime_.guard([this, endpoint, done](Result<RedisReply> r) {
                   if (!r) return done(r.error());
                   if (r->elements.empty()) return done(std::vector<Observation>{});
                   std::vector<std::string> mget{"MGET"};
                   for (const auto& t : r->elements)
                     mget.push_back(keys::observation(endpoint, t.str));
                   redis_.command(mget, [done](Result<RedisReply> values) {
                     if (!values) return done(values.error());
                     done(parse_all(*values));
                   });
                 }));
}

void RedisObservationStore::remove_all(const std::string& endpoint,
                                       Done<std::vector<Observation>> done) {
  const std::string prefix = keys::observation(endpoint, "");
  redis_.command({"EVAL", kTakeAll, "1", keys::tokens(endpoint), prefix},
                 lifetime_.guard([this, done](Result<RedisReply> r) {
                   if (!r) return done(r.error());
                   std::vector<Observation> taken = parse_all(*r);
                   std::vector<std::string> tokens;
                   for (const Observation& obs : taken) tokens.push_back(obs.token_hex);
                   unindex(tokens);
                   done(std::move(taken));
                 }));
}

}  // namespace fogm2m::store
