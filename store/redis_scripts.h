// Small Redis scripts and helpers shared by the Redis stores.
#pragma once

#include <string_view>

#include "io/redis_asio.h"

namespace fogm2m::store::redis_scripts {

// Deletes KEYS[1] only while it still holds ARGV[1] (an index entry that
// points at the record being removed, not at a newer one).
inline constexpr std::string_view kCompareAndDelete = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0)lua";

// For pipelined index maintenance whose failure readers tolerate (they
// verify index entries against records).
inline void ignore(Result<io::RedisReply>) {}

}  // namespace fogm2m::store::redis_scripts
