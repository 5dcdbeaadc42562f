// What an HTTP request to the gateway asks for: its method and target
// ("/api/clients/dev-1/3313/0/5702?format=TLV&timeout=5") read into one
// ApiRoute. The routes are the Leshan demo server's (LESHAN-API.md), plus
// the gateway's own (/metrics, /ws, the web UI's files).
//
// Network input: never throws; an error says what is wrong, and its kind
// picks the HTTP status: kNotFound 404 (no such route), kUnsupported 405
// (the route exists, not with this method), kMalformed / kInvalidArgument
// 400.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lwm2m/path.h"
#include "lwm2m/result.h"

namespace fogm2m::gateway {

enum class ApiOperation {
  kListClients,      // GET    /api/clients
  kGetClient,        // GET    /api/clients/{ep}
  kRead,             // GET    /api/clients/{ep}/{path}
  kDiscover,         // GET    /api/clients/{ep}/{path}/discover
  kWrite,            // PUT    /api/clients/{ep}/{o}/{i}[/{r}]
  kWriteAttributes,  // PUT    /api/clients/{ep}/{path}/attributes
  kExecute,          // POST   /api/clients/{ep}/{o}/{i}/{r}
  kCreate,           // POST   /api/clients/{ep}/{o}[/{i}]
  kDelete,           // DELETE /api/clients/{ep}/{o}/{i}
  kObserve,          // POST   /api/clients/{ep}/{path}/observe
  kCancelObserve,    // DELETE /api/clients/{ep}/{path}/observe
  kListSecurity,     // GET    /api/security/clients
  kPutSecurity,      // PUT    /api/security/clients
  kDeleteSecurity,   // DELETE /api/security/clients/{ep}
  kEvents,           // GET    /api/event[?ep=X]          (Server-Sent Events)
  kObjectSpecs,      // GET    /api/objectspecs[/{ep}]     (the object models)
  kMetrics,          // GET    /metrics                    (Prometheus)
  kStomp,            // GET    /ws                         (WebSocket upgrade, STOMP 1.2)
  kAsset,            // GET    / or /{file}                (the web UI)
  // Composite operations (LwM2M 1.1); "composite" is no LwM2M path segment.
  kReadComposite,           // GET    /api/clients/{ep}/composite?paths=/3/0/9,/3313/0
  kWriteComposite,          // PUT    /api/clients/{ep}/composite  (body: {path: node})
  kObserveComposite,        // POST   /api/clients/{ep}/composite/observe?paths=...
  kCancelObserveComposite,  // DELETE /api/clients/{ep}/composite/observe?paths=...
};

const char* to_string(ApiOperation op);

struct ApiRoute {
  ApiOperation op = ApiOperation::kAsset;
  std::string endpoint;  // percent-decoded
  lwm2m::Path path;
  // Query parameters in order, percent-decoded ('+' is a space).
  std::vector<std::pair<std::string, std::string>> query;
  std::string asset;  // kAsset: the file name ("index.html" for "/")
  // kReadComposite, kObserveComposite, kCancelObserveComposite: the
  // "paths" query parameter (comma-separated), each once, none the root.
  std::vector<lwm2m::Path> paths;

  // The first value of query parameter `name`, or nullptr.
  const std::string* param(std::string_view name) const;
};

inline constexpr size_t kMaxTargetLength = 4096;

Result<ApiRoute> parse_api_route(std::string_view method, std::string_view target);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); kMalformed
// on a truncated or non-hex escape.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace fogm2m::gateway
