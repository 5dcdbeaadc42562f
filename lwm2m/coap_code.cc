#include "lwm2m/coap_code.h"

#include <cstdio>

namespace fogm2m::lwm2m {

namespace {

struct Name {
  CoapCode code;
  const char* name;
};

constexpr Name kNames[] = {
    {CoapCode::kEmpty, "EMPTY"},
    {CoapCode::kGet, "GET"},
    {CoapCode::kPost, "POST"},
    {CoapCode::kPut, "PUT"},
    {CoapCode::kDelete, "DELETE"},
    {CoapCode::kFetch, "FETCH"},
    {CoapCode::kPatch, "PATCH"},
    {CoapCode::kIpatch, "IPATCH"},
    {CoapCode::kCreated, "CREATED"},
    {CoapCode::kDeleted, "DELETED"},
    {CoapCode::kValid, "VALID"},
    {CoapCode::kChanged, "CHANGED"},
    {CoapCode::kContent, "CONTENT"},
    {CoapCode::kContinue, "CONTINUE"},
    {CoapCode::kBadRequest, "BAD_REQUEST"},
    {CoapCode::kUnauthorized, "UNAUTHORIZED"},
    {CoapCode::kBadOption, "BAD_OPTION"},
    {CoapCode::kForbidden, "FORBIDDEN"},
    {CoapCode::kNotFound, "NOT_FOUND"},
    {CoapCode::kMethodNotAllowed, "METHOD_NOT_ALLOWED"},
    {CoapCode::kNotAcceptable, "NOT_ACCEPTABLE"},
    {CoapCode::kRequestEntityIncomplete, "REQUEST_ENTITY_INCOMPLETE"},
    {CoapCode::kPreconditionFailed, "PRECONDITION_FAILED"},
    {CoapCode::kRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE"},
    {CoapCode::kUnsupportedContentFormat, "UNSUPPORTED_CONTENT_FORMAT"},
    {CoapCode::kInternalServerError, "INTERNAL_SERVER_ERROR"},
    {CoapCode::kNotImplemented, "NOT_IMPLEMENTED"},
    {CoapCode::kBadGateway, "BAD_GATEWAY"},
    {CoapCode::kServiceUnavailable, "SERVICE_UNAVAILABLE"},
    {CoapCode::kGatewayTimeout, "GATEWAY_TIMEOUT"},
    {CoapCode::kProxyingNotSupported, "PROXYING_NOT_SUPPORTED"},
};

}  // namespace

std::string coap_code_string(uint8_t code) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%d.%02d", code >> 5, code & 31);
  return buf;
}

std::string coap_code_name(uint8_t code) {
  for (const auto& n : kNames)
    if (static_cast<uint8_t>(n.code) == code) return n.name;
  char buf[16];
  std::snprintf(buf, sizeof buf, "CODE_%d_%02d", code >> 5, code & 31);
  return buf;
}

}  // namespace fogm2m::lwm2m
