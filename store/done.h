// The completion of every store operation, and the contract all stores keep:
// `done` runs exactly once, later, on the io_context thread of the store
// (never from inside the call that was given it), with the result or the
// error. A store whose backend is gone (Redis unreachable) answers with kIo;
// it never drops a callback. Callers therefore need not care which
// implementation (Redis, in-memory) they hold.
#pragma once

#include <functional>

#include "lwm2m/result.h"

namespace fogm2m::store {

template <class T>
using Done = std::function<void(Result<T>)>;

}  // namespace fogm2m::store
