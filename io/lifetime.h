// How an object's asynchronous callbacks learn that the object is gone.
//
// The one idiom of fogm2m for callbacks that may run after their object was
// destroyed (a store reply, a timer, a transport's completion, a posted
// handler): the object owns a Lifetime, declared as its last member so it
// ends first, and wraps every such callback with guard(). A guarded callback
// called after the Lifetime ended does nothing (and returns nothing).
//
//   class Service {
//     void start() { store_.get(key, lifetime_.guard([this](Result<X> r) { use(r); })); }
//     ...
//     io::Lifetime lifetime_;  // last member
//   };
//
// A guard costs one weak reference (16 bytes) in the callback and one atomic
// load per call. Not thread-safe: the owner must end (be destroyed) on the
// thread that runs its callbacks. Objects whose state is shared with asio
// handlers through a shared_ptr may instead guard with weak_from_this(); the
// rule is the same: never a raw `this` in a callback that can outlive it.
#pragma once

#include <memory>
#include <utility>

namespace fogm2m::io {

class Lifetime {
 public:
  Lifetime() = default;
  Lifetime(const Lifetime&) = delete;
  Lifetime& operator=(const Lifetime&) = delete;

  // `fn` wrapped: called with the same arguments while this Lifetime exists,
  // a no-op afterwards. `fn` must return void.
  template <class Fn>
  auto guard(Fn fn) const {
    return [alive = std::weak_ptr<const char>(token_), fn = std::move(fn)](auto&&... args) mutable {
      if (!alive.expired()) fn(std::forward<decltype(args)>(args)...);
    };
  }

  // `fn` wrapped for a callback that returns a value: `fallback` once this
  // Lifetime ended.
  template <class R, class Fn>
  auto guard_or(R fallback, Fn fn) const {
    return [alive = std::weak_ptr<const char>(token_), fallback = std::move(fallback),
            fn = std::move(fn)](auto&&... args) mutable -> R {
      if (alive.expired()) return fallback;
      return fn(std::forward<decltype(args)>(args)...);
    };
  }

 private:
  std::shared_ptr<const char> token_ = std::make_shared<const char>('\0');
};

}  // namespace fogm2m::io
