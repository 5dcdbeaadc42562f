#include "testbed/redis_client.h"

#include <hiredis/hiredis.h>

#include "store/keys.h"
#include "testbed/netns.h"

namespace fogm2m::testbed {

namespace {

RedisValue convert(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      value.kind = RedisValue::Kind::kString;
      value.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_INTEGER:
      value.kind = RedisValue::Kind::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_ARRAY:
      value.kind = RedisValue::Kind::kArray;
      for (size_t i = 0; i < reply->elements; ++i)
        value.elements.push_back(convert(reply->element[i]));
      break;
    default:
      break;
  }
  return value;
}

}  // namespace

void RedisClient::Free::operator()(redisContext* context) const {
  redisFree(context);
}

Result<RedisClient> RedisClient::connect(const std::string& netns, const std::string& host,
                                         uint16_t port, std::chrono::milliseconds timeout) {
  Result<ScopedNetns> inside = ScopedNetns::enter(netns);
  if (!inside) return inside.error();
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  redisContext* raw = redisConnectWithTimeout(host.c_str(), port, tv);
  if (raw == nullptr) return make_error(ErrorKind::kIo, "redis: out of memory");
  RedisClient client;
  client.context_.reset(raw);
  const std::string where =
      host + ":" + std::to_string(port) + (netns.empty() ? "" : " (from " + netns + ")");
  if (raw->err != 0) return make_error(ErrorKind::kIo, "redis " + where + ": " + raw->errstr);
  if (redisSetTimeout(raw, tv) != REDIS_OK)
    return make_error(ErrorKind::kIo, "redis " + where + ": set timeout");
  return client;
}

Result<RedisValue> RedisClient::command(const std::vector<std::string>& args) {
  if (!context_ || context_->err != 0) return make_error(ErrorKind::kIo, "redis: not connected");
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr)
    return make_error(ErrorKind::kIo, std::string("redis: ") + context_->errstr);
  Result<RedisValue> result = RedisValue{};
  if (reply->type == REDIS_REPLY_ERROR) {
    result = make_error(ErrorKind::kIo, "redis " + (args.empty() ? "" : args[0]) + ": " +
                                            std::string(reply->str, reply->len));
  } else {
    result = convert(reply);
  }
  freeReplyObject(reply);
  return result;
}

Result<std::vector<std::string>> RedisClient::keys(const std::string& pattern) {
  std::vector<std::string> found;
  std::string cursor = "0";
  do {
    Result<RedisValue> page = command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (!page) return page.error();
    if (page->elements.size() != 2)
      return make_error(ErrorKind::kMalformed, "redis SCAN: unexpected reply");
    cursor = page->elements[0].text;
    for (const auto& key : page->elements[1].elements) found.push_back(key.text);
  } while (cursor != "0");
  return found;
}

Result<std::map<std::string, std::string>> RedisClient::owners() {
  Result<std::vector<std::string>> names = keys(std::string(store::keys::kOwnerPattern));
  if (!names) return names.error();
  std::map<std::string, std::string> owners;
  constexpr size_t kBatch = 500;
  for (size_t start = 0; start < names->size(); start += kBatch) {
    std::vector<std::string> args = {"MGET"};
    const size_t end = std::min(names->size(), start + kBatch);
    args.insert(args.end(), names->begin() + static_cast<long>(start),
                names->begin() + static_cast<long>(end));
    Result<RedisValue> values = command(args);
    if (!values) return values.error();
    for (size_t i = start; i < end && i - start < values->elements.size(); ++i) {
      const RedisValue& v = values->elements[i - start];
      if (v.kind != RedisValue::Kind::kString) continue;  // expired meanwhile
      if (auto ep = store::keys::endpoint_of((*names)[i], store::keys::kOwnerPrefix))
        owners[*ep] = v.text;
    }
  }
  return owners;
}

Result<std::vector<std::string>> RedisClient::cluster_nodes() {
  Result<RedisValue> members = command({"ZRANGE", std::string(store::keys::kNodes), "0", "-1"});
  if (!members) return members.error();
  std::vector<std::string> nodes;
  for (const auto& m : members->elements) nodes.push_back(m.text);
  return nodes;
}

}  // namespace fogm2m::testbed
