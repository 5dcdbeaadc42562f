#include "store/redis_scan.h"

#include <map>
#include <memory>

namespace fogm2m::store {

namespace {

// One scan of the whole keyspace: the cursor loop runs on each of the
// client's scan targets in turn (one for a single server, every master of a
// cluster).
struct Scan {
  io::RedisClient& redis;
  std::string pattern;
  std::vector<std::string> targets;
  size_t target = 0;
  std::vector<std::string> values;
  Done<std::vector<std::string>> done;
};

void scan_page(std::shared_ptr<Scan> scan, std::string cursor);

// Reads the values of `keys` and appends them to the scan's values: one
// MGET for a single server; in a cluster, one MGET per hash slot (MGET
// across slots is refused with CROSSSLOT).
void read_values(const std::shared_ptr<Scan>& scan, std::vector<std::string> keys,
                 std::function<void(Status)> after) {
  std::vector<std::vector<std::string>> batches;
  if (!scan->redis.clustered()) {
    batches.emplace_back(std::move(keys));
  } else {
    std::map<uint16_t, std::vector<std::string>> by_slot;
    for (auto& k : keys) by_slot[io::redis_cluster_slot(k)].push_back(std::move(k));
    for (auto& [slot, ks] : by_slot) batches.push_back(std::move(ks));
  }
  struct Batch {
    size_t waiting;
    Status failed;
    std::function<void(Status)> after;
  };
  auto state = std::make_shared<Batch>(Batch{batches.size(), Status{}, std::move(after)});
  for (auto& ks : batches) {
    std::vector<std::string> mget{"MGET"};
    mget.insert(mget.end(), std::make_move_iterator(ks.begin()), std::make_move_iterator(ks.end()));
    scan->redis.command(mget, [scan, state](Result<io::RedisReply> values) {
      if (!values) {
        if (state->failed) state->failed = values.error();
      } else {
        for (auto& v : values->elements)
          if (v.is_string()) scan->values.push_back(std::move(v.str));
      }
      if (--state->waiting == 0) state->after(state->failed);
    });
  }
}

void scan_page(std::shared_ptr<Scan> scan, std::string cursor) {
  const std::string_view argv[] = {"SCAN", cursor, "MATCH", scan->pattern, "COUNT", "1000"};
  scan->redis.command_at(scan->targets[scan->target], argv, [scan](Result<io::RedisReply> r) {
    if (!r) return scan->done(r.error());
    if (!r->is_array() || r->elements.size() != 2)
      return scan->done(make_error(ErrorKind::kIo, "SCAN: unexpected reply"));
    std::string next = r->elements[0].str;
    auto after = [scan, next](Status read) {
      if (!read) return scan->done(read.error());
      if (next != "0") return scan_page(scan, next);
      if (++scan->target < scan->targets.size()) return scan_page(scan, "0");
      scan->done(std::move(scan->values));
    };
    if (r->elements[1].elements.empty()) return after(Status{});
    std::vector<std::string> keys;
    keys.reserve(r->elements[1].elements.size());
    for (auto& k : r->elements[1].elements) keys.push_back(std::move(k.str));
    read_values(scan, std::move(keys), std::move(after));
  });
}

}  // namespace

void scan_string_values(io::RedisClient& redis, std::string_view pattern,
                        Done<std::vector<std::string>> done) {
  auto scan = std::make_shared<Scan>(
      Scan{redis, std::string(pattern), redis.scan_targets(), 0, {}, std::move(done)});
  if (scan->targets.empty())
    return redis.command({"PING"}, [scan](Result<io::RedisReply> r) {
      if (!r) return scan->done(r.error());
      scan->done(std::vector<std::string>{});
    });
  scan_page(scan, "0");
}

}  // namespace fogm2m::store
