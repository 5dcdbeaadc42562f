// Where the cluster keeps PSK security info: SEC:EP:{ep} records and the
// SEC:ID:<identity> index. Asynchronous like RegistrationStore (see there).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/done.h"
#include "store/security_info.h"

namespace fogm2m::store {

class SecurityStore {
 public:
  virtual ~SecurityStore() = default;

  // Adds or replaces the info of info.endpoint. kInvalidArgument when the
  // identity already belongs to another endpoint, or identity/key are empty.
  virtual void put(const SecurityInfo& info, Done<bool> done) = 0;
  virtual void get_by_endpoint(const std::string& endpoint,
                               Done<std::optional<SecurityInfo>> done) = 0;
  virtual void get_by_identity(const std::string& identity,
                               Done<std::optional<SecurityInfo>> done) = 0;
  // Removes the info of `endpoint`; the result says whether it existed.
  virtual void remove(const std::string& endpoint, Done<bool> done) = 0;
  // Every entry (for the gateway's listing; not for hot paths).
  virtual void list(Done<std::vector<SecurityInfo>> done) = 0;
};

}  // namespace fogm2m::store
