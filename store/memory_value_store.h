// ValueStore kept in this process (single node, tests).
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <unordered_map>

#include "store/value_store.h"

namespace fogm2m::store {

class MemoryValueStore final : public ValueStore {
 public:
  explicit MemoryValueStore(boost::asio::io_context& io) : io_(io) {}

  void put(const std::string& endpoint, const std::vector<LastValue>& values,
           Done<bool> done) override;
  void get(const std::string& endpoint, Done<std::vector<LastValue>> done) override;
  void remove(const std::string& endpoint, Done<bool> done) override;

 private:
  boost::asio::io_context& io_;
  // endpoint -> path -> value
  std::unordered_map<std::string, std::map<std::string, LastValue>> by_endpoint_;
};

}  // namespace fogm2m::store
