// Pre-shared-key security info of one endpoint (LwM2M security mode PSK).
// The key never appears in logs, error messages or bus responses: to_json
// for responses leaves it out; only the store's own record carries it.
#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "lwm2m/result.h"

namespace fogm2m::store {

struct SecurityInfo {
  std::string endpoint;
  std::string identity;  // PSK identity, UTF-8
  std::string key;       // raw key bytes

  friend bool operator==(const SecurityInfo&, const SecurityInfo&) = default;
};

// {"ep","identity","key":"<hex>"}: the stored record.
std::string to_record_json(const SecurityInfo& info);
Result<SecurityInfo> security_info_from_record_json(std::string_view text);

// Checks what every SecurityStore requires of an entry: endpoint, identity
// and key non-empty. Returns the error to report, if any.
std::optional<Error> validate_security_info(const SecurityInfo& info);

// {"ep","identity"}: what responses may show.
boost::json::value to_public_json(const SecurityInfo& info);

}  // namespace fogm2m::store
