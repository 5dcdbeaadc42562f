#include "testbed/redis_client.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstdlib>

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

Result<RedisClient::Context> RedisClient::open(const std::string& netns, const std::string& host,
                                               uint16_t port, std::chrono::milliseconds timeout) {
  Result<ScopedNetns> inside = ScopedNetns::enter(netns);
  if (!inside) return inside.error();
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  redisContext* raw = redisConnectWithTimeout(host.c_str(), port, tv);
  if (raw == nullptr) return make_error(ErrorKind::kIo, "redis: out of memory");
  Context context(raw);
  const std::string where =
      host + ":" + std::to_string(port) + (netns.empty() ? "" : " (from " + netns + ")");
  if (raw->err != 0) return make_error(ErrorKind::kIo, "redis " + where + ": " + raw->errstr);
  if (redisSetTimeout(raw, tv) != REDIS_OK)
    return make_error(ErrorKind::kIo, "redis " + where + ": set timeout");
  return context;
}

Result<RedisClient> RedisClient::connect(const std::string& netns, const std::string& host,
                                         uint16_t port, std::chrono::milliseconds timeout) {
  Result<Context> context = open(netns, host, port, timeout);
  if (!context) return context.error();
  RedisClient client;
  client.netns_ = netns;
  client.timeout_ = timeout;
  client.context_ = std::move(*context);
  // A server without cluster support answers INFO cluster with nothing.
  if (auto info = client.command_on(client.context_.get(), {"INFO", "cluster"}, nullptr))
    client.clustered_ = info->text.find("cluster_enabled:1") != std::string::npos;
  return client;
}

Result<redisContext*> RedisClient::context_for(const std::string& address) {
  if (auto it = others_.find(address); it != others_.end() && it->second->err == 0)
    return it->second.get();
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos)
    return make_error(ErrorKind::kMalformed, "redis: bad node address " + address);
  const int port = std::atoi(address.c_str() + colon + 1);
  if (port <= 0 || port > 65535)
    return make_error(ErrorKind::kMalformed, "redis: bad node address " + address);
  Result<Context> context =
      open(netns_, address.substr(0, colon), static_cast<uint16_t>(port), timeout_);
  if (!context) return context.error();
  redisContext* raw = context->get();
  others_[address] = std::move(*context);
  return raw;
}

Result<RedisValue> RedisClient::command_on(redisContext* context,
                                           const std::vector<std::string>& args,
                                           std::string* moved_to) {
  if (context == nullptr || context->err != 0)
    return make_error(ErrorKind::kIo, "redis: not connected");
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data()));
  if (reply == nullptr) return make_error(ErrorKind::kIo, std::string("redis: ") + context->errstr);
  Result<RedisValue> result = RedisValue{};
  if (reply->type == REDIS_REPLY_ERROR) {
    const std::string text(reply->str, reply->len);
    if (moved_to != nullptr && text.starts_with("MOVED "))
      *moved_to = text.substr(text.rfind(' ') + 1);
    result = make_error(ErrorKind::kIo, "redis " + (args.empty() ? "" : args[0]) + ": " + text);
  } else {
    result = convert(reply);
  }
  freeReplyObject(reply);
  return result;
}

Result<RedisValue> RedisClient::command(const std::vector<std::string>& args) {
  redisContext* context = context_.get();
  for (int hop = 0;; ++hop) {
    std::string moved_to;
    Result<RedisValue> result = command_on(context, args, clustered_ ? &moved_to : nullptr);
    if (result || moved_to.empty() || hop == 3) return result;
    Result<redisContext*> next = context_for(moved_to);
    if (!next) return next.error();
    context = *next;
  }
}

Result<std::vector<std::string>> RedisClient::scan(redisContext* context,
                                                   const std::string& pattern) {
  std::vector<std::string> found;
  std::string cursor = "0";
  do {
    Result<RedisValue> page =
        command_on(context, {"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, nullptr);
    if (!page) return page.error();
    if (page->elements.size() != 2)
      return make_error(ErrorKind::kMalformed, "redis SCAN: unexpected reply");
    cursor = page->elements[0].text;
    for (const auto& key : page->elements[1].elements) found.push_back(key.text);
  } while (cursor != "0");
  return found;
}

Result<std::vector<std::string>> RedisClient::keys(const std::string& pattern) {
  if (!clustered_) return scan(context_.get(), pattern);
  // Every master's keys: CLUSTER SLOTS lists each slot range with its
  // master first ([start, end, [ip, port, id], replicas...]).
  Result<RedisValue> slots = command_on(context_.get(), {"CLUSTER", "SLOTS"}, nullptr);
  if (!slots) return slots.error();
  std::vector<std::string> masters;
  for (const auto& range : slots->elements) {
    if (range.elements.size() < 3 || range.elements[2].elements.size() < 2) continue;
    const std::string address = range.elements[2].elements[0].text + ":" +
                                std::to_string(range.elements[2].elements[1].integer);
    if (std::find(masters.begin(), masters.end(), address) == masters.end())
      masters.push_back(address);
  }
  std::vector<std::string> found;
  for (const auto& address : masters) {
    Result<redisContext*> context = context_for(address);
    if (!context) return context.error();
    Result<std::vector<std::string>> keys = scan(*context, pattern);
    if (!keys) return keys.error();
    found.insert(found.end(), keys->begin(), keys->end());
  }
  return found;
}

Result<std::map<std::string, std::string>> RedisClient::owners() {
  Result<std::vector<std::string>> names = keys(std::string(store::keys::kOwnerPattern));
  if (!names) return names.error();
  std::map<std::string, std::string> owners;
  const size_t kBatch = clustered_ ? 1 : 500;  // MGET stays within one slot
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
