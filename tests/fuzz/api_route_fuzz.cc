// Fuzz target: the gateway's HTTP routing (method and target of a request,
// percent-escapes and query included). Input: "METHOD TARGET". Whatever
// parses must name an operation, and a client route an endpoint.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/api_route.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fogm2m::gateway;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const size_t space = text.find(' ');
  if (space == std::string_view::npos) return 0;
  auto route = parse_api_route(text.substr(0, space), text.substr(space + 1));
  if (!route) return 0;
  switch (route->op) {
    case ApiOperation::kGetClient:
    case ApiOperation::kRead:
    case ApiOperation::kWrite:
    case ApiOperation::kExecute:
    case ApiOperation::kDelete:
      if (route->endpoint.empty()) std::abort();
      break;
    default:
      break;
  }
  if (route->op == ApiOperation::kRead && route->path.is_root()) std::abort();
  (void)to_string(route->op);
  return 0;
}
