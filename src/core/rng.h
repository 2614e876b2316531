// core/rng.h — a counter-based random number generator (reproducible, resumable, splittable).
//
// Every draw is a pure function of (seed, counter): value_i = mix(seed, i). Its whole state is two integers, so a
// checkpoint stores it exactly and resuming reproduces the same stream bit for bit. Independent streams for
// different purposes (init, dropout, shuffling) come from fork(tag).
//
// Sharding (data-parallel training): a draw of n values for a tensor whose rows are split over `count` processes
// takes reserve(n). Process `index` holds rows index·n … (index+1)·n−1 of the whole batch's (count·n) tensor, so
// it uses counters start + index·n …, and every process advances the counter by count·n: each rank's dropout mask
// is exactly its slice of the mask one process would draw for the whole batch, and the counters stay equal on all
// ranks (a checkpoint of rank 0 resumes every rank). Unsharded (count 1), reserve(n) is the plain draw of n.
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

  void set_shard(uint32_t index, uint32_t count) {
    shard_index_ = index;
    shard_count_ = count == 0 ? 1 : count;
  }
  uint32_t shard_index() const { return shard_index_; }
  uint32_t shard_count() const { return shard_count_; }
  // The first counter of this process's n values (see Sharding above); advances the stream past all shards.
  uint64_t reserve(uint64_t n) {
    const uint64_t start = counter_ + static_cast<uint64_t>(shard_index_) * n;
    counter_ += static_cast<uint64_t>(shard_count_) * n;
    return start;
  }

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
  uint32_t shard_index_ = 0;
  uint32_t shard_count_ = 1;
};

}  // namespace accent
