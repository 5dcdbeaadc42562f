// The emulated devices' random numbers: splitmix64, 8 bytes of state per
// stream, good enough statistics, the same sequence everywhere for a seed
// (a fleet holds 100k devices, each with several streams).
#pragma once

#include <cstdint>

namespace fogm2m::emulated {

// The next 64 random bits of `state`.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1).
inline double uniform01(uint64_t& state) {
  return static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
}

}  // namespace fogm2m::emulated
