#pragma once
// Rng: the one random source of the domain and the scheduler. Always passed in (seeded by the
// owner), so jitter and backoff are reproducible in tests. std::mt19937_64's output sequence is
// fixed by the standard; the helpers below turn it into numbers without the implementation-defined
// std::uniform_*_distribution, so a seed gives the same schedule on every standard library.
// Not thread-safe (a value type; its owner serialises use).

#include <cstdint>
#include <random>

namespace greenfleet::base {

using Rng = std::mt19937_64;

// Uniform in [0, 1).
inline double uniformUnit(Rng& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);  // 2^53
}

// A well-mixed 64-bit hash (splitmix64's finaliser); stable across runs and builds.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace greenfleet::base
