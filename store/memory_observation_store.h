// ObservationStore kept in this process (single node, tests).
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <unordered_map>

#include "store/observation_store.h"

namespace fogm2m::store {

class MemoryObservationStore final : public ObservationStore {
 public:
  explicit MemoryObservationStore(boost::asio::io_context& io) : io_(io) {}

  void add(const Observation& obs, Done<bool> done) override;
  void get(const std::string& endpoint, const std::string& token_hex,
           Done<std::optional<Observation>> done) override;
  void find_by_token(const std::string& token_hex, Done<std::optional<Observation>> done) override;
  void remove(const std::string& endpoint, const std::string& token_hex, Done<bool> done) override;
  void list(const std::string& endpoint, Done<std::vector<Observation>> done) override;
  void remove_all(const std::string& endpoint, Done<std::vector<Observation>> done) override;

 private:
  template <class T>
  void reply(Done<T> done, Result<T> result);

  boost::asio::io_context& io_;
  // endpoint -> token -> observation
  std::unordered_map<std::string, std::map<std::string, Observation>> by_endpoint_;
  std::unordered_map<std::string, std::string> endpoint_by_token_;
};

}  // namespace fogm2m::store
