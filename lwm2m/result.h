// Errors as values for the LwM2M core and everything above it.
//
// A Result<T> holds either a T or an Error. Parsers of network input return
// Results and never throw, so a malformed datagram costs one error message and
// nothing else. (std::expected is C++23; this is the small part of it we use.)
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace fogm2m {

enum class ErrorKind {
  kMalformed,        // input bytes or text do not follow the format
  kInvalidArgument,  // well-formed, but a value is out of its allowed range
  kNotFound,         // the thing asked for does not exist
  kTypeMismatch,     // a value is not of the type the model says
  kUnsupported,      // valid, but this implementation does not handle it
  kIo,               // file, socket or process failure
  kTimeout,          // a peer did not answer in time
};

const char* to_string(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kMalformed;
  std::string
      message;  // complete sentence fragment, e.g. "TLV: length 9 exceeds 4 remaining bytes"
};

inline Error make_error(ErrorKind kind, std::string message) {
  return Error{kind, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations that return nothing.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace fogm2m
