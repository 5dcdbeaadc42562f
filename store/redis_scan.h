// Every string value whose key matches a pattern: SCAN pages on every node
// of the keyspace (each master of a Redis Cluster), each page read with one
// MGET (one per hash slot in a cluster). For tools and listings (the gateway's client and security
// lists), never for hot paths. Keys that vanish between SCAN and MGET are
// skipped; a key may be seen twice if it is rewritten during the scan (SCAN's
// guarantee), so callers de-duplicate by what the value names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/redis_client.h"
#include "store/done.h"

namespace fogm2m::store {

// `redis` must outlive the scan; `done` runs once with the values or the
// first error.
void scan_string_values(io::RedisClient& redis, std::string_view pattern,
                        Done<std::vector<std::string>> done);

}  // namespace fogm2m::store
