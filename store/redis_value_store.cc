#include "store/redis_value_store.h"

#include <algorithm>

#include "store/keys.h"

namespace fogm2m::store {

void RedisValueStore::put(const std::string& endpoint, const std::vector<LastValue>& values,
                          Done<bool> done) {
  if (values.empty())
    return redis_.command({"PING"}, [done](Result<io::RedisReply> r) {
      if (!r) return done(r.error());
      done(true);
    });
  std::vector<std::string> argv{"HSET", keys::values(endpoint)};
  argv.reserve(2 + 2 * values.size());
  for (const LastValue& v : values) {
    argv.push_back(v.path);
    argv.push_back(last_value_json(v));
  }
  redis_.command(argv, [done](Result<io::RedisReply> r) {
    if (!r) return done(r.error());
    if (r->is_error()) return done(make_error(ErrorKind::kIo, "HSET: " + r->str));
    done(true);
  });
}

void RedisValueStore::get(const std::string& endpoint, Done<std::vector<LastValue>> done) {
  redis_.command({"HGETALL", keys::values(endpoint)}, [done](Result<io::RedisReply> r) {
    if (!r) return done(r.error());
    if (r->is_error()) return done(make_error(ErrorKind::kIo, "HGETALL: " + r->str));
    std::vector<LastValue> out;
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2)
      if (auto v = last_value_from_json(r->elements[i].str, r->elements[i + 1].str))
        out.push_back(std::move(*v));
    std::sort(out.begin(), out.end(),
              [](const LastValue& a, const LastValue& b) { return a.path < b.path; });
    done(std::move(out));
  });
}

void RedisValueStore::remove(const std::string& endpoint, Done<bool> done) {
  redis_.command({"DEL", keys::values(endpoint)}, [done](Result<io::RedisReply> r) {
    if (!r) return done(r.error());
    done(r->is_integer() && r->integer > 0);
  });
}

}  // namespace fogm2m::store
