// Where the cluster keeps the last values a device sent on its own (LwM2M
// 1.1 Send, TS-Core 6.4.6): per endpoint, per resource path, the newest
// value and when the node received it. The values are kept as node JSON
// text (bus/node_json.h), which the store does not read. Redis: the hash
// VAL:EP:{ep} (keys.h); in memory for a single node and tests. Asynchronous
// like the other stores (done.h). A value is replaced by a newer one of the
// same path; a path the device stops sending keeps its last value until
// the registration ends and remove() is called.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/done.h"

namespace fogm2m::store {

struct LastValue {
  std::string path;       // "/3313/0/5702"
  std::string node_json;  // the node at `path`, as node JSON text
  int64_t time_ms = 0;    // Unix ms the node received it
  friend bool operator==(const LastValue&, const LastValue&) = default;
};

class ValueStore {
 public:
  virtual ~ValueStore() = default;

  // Keeps `values` as the newest of `endpoint` (each replacing the one of
  // its path).
  virtual void put(const std::string& endpoint, const std::vector<LastValue>& values,
                   Done<bool> done) = 0;
  // Every last value of `endpoint`, in path order; empty when none.
  virtual void get(const std::string& endpoint, Done<std::vector<LastValue>> done) = 0;
  // Forgets every value of `endpoint`; the result says whether there were any.
  virtual void remove(const std::string& endpoint, Done<bool> done) = 0;
};

// The hash field value of one LastValue ({"ts":..,"node":..}) and back;
// nullopt for a value that is not one.
std::string last_value_json(const LastValue& value);
std::optional<LastValue> last_value_from_json(const std::string& path, std::string_view text);

}  // namespace fogm2m::store
