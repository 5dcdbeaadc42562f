#include "lwm2m/result.h"

namespace fogm2m {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kMalformed:
      return "malformed";
    case ErrorKind::kInvalidArgument:
      return "invalid argument";
    case ErrorKind::kNotFound:
      return "not found";
    case ErrorKind::kTypeMismatch:
      return "type mismatch";
    case ErrorKind::kUnsupported:
      return "unsupported";
    case ErrorKind::kIo:
      return "I/O error";
    case ErrorKind::kTimeout:
      return "timeout";
  }
  return "unknown";
}

}  // namespace fogm2m
