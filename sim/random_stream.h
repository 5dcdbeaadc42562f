// Seeded random streams, one per simulated entity (a device, the load
// generator, ...). A stream is xoshiro256** seeded through splitmix64 from
// (run seed, entity id), so an entity draws the same numbers whatever the
// other entities do, and a run is reproducible bit for bit from its seed.
#pragma once

#include <cmath>
#include <cstdint>

namespace fogm2m::sim {

__extension__ typedef unsigned __int128 Uint128;  // __extension__: no -Wpedantic warning

// splitmix64 step (Vigna): advances `state` and returns a well-mixed value.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stateless mix of two 64-bit values (seeds of sub-streams, hashes).
inline uint64_t mix64(uint64_t a, uint64_t b) {
  uint64_t s = a ^ (b * 0xd6e8feb86659fd93ULL);
  splitmix64(s);
  return splitmix64(s);
}

class RandomStream {
 public:
  // The stream of entity `entity` in a run seeded with `seed`.
  RandomStream(uint64_t seed, uint64_t entity) {
    uint64_t sm = mix64(seed, entity);
    for (auto& word : s_) word = splitmix64(sm);
  }

  // xoshiro256** (Blackman, Vigna): 64 uniformly distributed bits.
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n) (n > 0), by Lemire's multiply-shift (bias below 2^-32 for n < 2^32).
  uint32_t below(uint32_t n) {
    return static_cast<uint32_t>((static_cast<Uint128>(next()) * n) >> 64);
  }

  // Exponentially distributed with the given mean (> 0).
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  // The sigma of a lognormal with mean 1 and coefficient of variation `cv`;
  // computed once per run, not per draw.
  static double lognormal_sigma(double cv) { return cv > 0 ? std::sqrt(std::log1p(cv * cv)) : 0.0; }
  // A lognormal factor with mean 1 and the given sigma (1 when sigma <= 0);
  // the normal deviate by Box-Muller.
  double lognormal_unit_mean(double sigma) {
    if (sigma <= 0) return 1.0;
    const double z =
        std::sqrt(-2.0 * std::log1p(-uniform())) * std::cos(6.283185307179586 * uniform());
    return std::exp(sigma * z - sigma * sigma / 2);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace fogm2m::sim
