#include "store/redis_scan.h"

#include <memory>

namespace fogm2m::store {

namespace {

struct Scan {
  io::RedisLink& redis;
  std::string pattern;
  std::vector<std::string> values;
  Done<std::vector<std::string>> done;
};

void scan_page(std::shared_ptr<Scan> scan, std::string cursor) {
  scan->redis.command({"SCAN", cursor, "MATCH", scan->pattern, "COUNT", "1000"},
                      [scan](Result<io::RedisReply> r) {
                        if (!r) return scan->done(r.error());
                        if (!r->is_array() || r->elements.size() != 2)
                          return scan->done(make_error(ErrorKind::kIo, "SCAN: unexpected reply"));
                        std::string next = r->elements[0].str;
                        auto after = [scan, next](Result<io::RedisReply> values) {
                          if (!values) return scan->done(values.error());
                          for (auto& v : values->elements)
                            if (v.is_string()) scan->values.push_back(std::move(v.str));
                          if (next == "0") return scan->done(std::move(scan->values));
                          scan_page(scan, next);
                        };
                        if (r->elements[1].elements.empty())
                          return after(io::RedisReply{io::RedisReply::Type::kArray, {}, 0, {}});
                        std::vector<std::string> mget{"MGET"};
                        for (const auto& k : r->elements[1].elements) mget.push_back(k.str);
                        scan->redis.command(mget, std::move(after));
                      });
}

}  // namespace

void scan_string_values(io::RedisLink& redis, std::string_view pattern,
                        Done<std::vector<std::string>> done) {
  scan_page(std::make_shared<Scan>(Scan{redis, std::string(pattern), {}, std::move(done)}), "0");
}

}  // namespace fogm2m::store
