// core/rng.h — a counter-based random number generator (reproducible, resumable, splittable).
//
// Every draw is a pure function of (seed, counter): value_i = mix(seed, i). Its whole state is two integers, so a
// checkpoint stores it exactly and resuming reproduces the same stream bit for bit. Independent streams for
// different purposes (init, dropout, shuffling) come from fork(tag).
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"

namespace accent {

class Rng {
 public:
  ACCENT_HD explicit Rng(uint64_t seed = 0, uint64_t counter = 0) : seed_(seed), counter_(counter) {}

  uint64_t seed() const { return seed_; }
  uint64_t counter() const { return counter_; }
  void set_counter(uint64_t c) { counter_ = c; }

  // A new independent stream derived from this one's seed and a tag (does not advance this stream).
  Rng fork(uint64_t tag) const { return Rng(mix(seed_ ^ mix(tag + 0x5851f42d4c957f2dULL)), 0); }

  ACCENT_HD uint64_t next_u64() { return mix(seed_ + mix(counter_++)); }
  uint32_t next_u32() { return static_cast<uint32_t>(next_u64() >> 32); }
  // Uniform in [0, 1) with 24 random bits (exactly representable as float).
  ACCENT_HD float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }
  // Uniform integer in [0, n) (Lemire's multiply-shift; bias < 2^-32 for the n accent uses).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next_u64()) * n) >> 64); }
  // Standard normal via Box–Muller (one value per two uniforms, no cached second value: state stays 2 integers).
  float normal() {
    double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * (1.0 / 9007199254740992.0);  // (0, 1]
    double u2 = static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0);
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

  // SplitMix64 finaliser: a bijective 64-bit mixer with good avalanche.
  ACCENT_HD static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t seed_;
  uint64_t counter_;
};

}  // namespace accent
