#include "data/numpy_random.h"

#include <numeric>
#include <utility>

#include "core/error.h"

namespace accent {

namespace {
constexpr int kN = 624;
constexpr int kM = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfU;
constexpr uint32_t kUpperMask = 0x80000000U;
constexpr uint32_t kLowerMask = 0x7fffffffU;
}  // namespace

NumpyRandomState::NumpyRandomState(uint32_t seed) {
  // numpy mt19937_seed: key[0] = seed; key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >> 30)) + i  (mod 2^32).
  uint32_t s = seed;
  for (int i = 0; i < kN; ++i) {
    key_[i] = s;
    s = 1812433253U * (s ^ (s >> 30)) + static_cast<uint32_t>(i + 1);
  }
  pos_ = kN;
}

void NumpyRandomState::regenerate() {
  int i = 0;
  for (; i < kN - kM; ++i) {
    uint32_t y = (key_[i] & kUpperMask) | (key_[i + 1] & kLowerMask);
    key_[i] = key_[i + kM] ^ (y >> 1) ^ (-(y & 1U) & kMatrixA);
  }
  for (; i < kN - 1; ++i) {
    uint32_t y = (key_[i] & kUpperMask) | (key_[i + 1] & kLowerMask);
    key_[i] = key_[i + (kM - kN)] ^ (y >> 1) ^ (-(y & 1U) & kMatrixA);
  }
  uint32_t y = (key_[kN - 1] & kUpperMask) | (key_[0] & kLowerMask);
  key_[kN - 1] = key_[kM - 1] ^ (y >> 1) ^ (-(y & 1U) & kMatrixA);
  pos_ = 0;
}

uint32_t NumpyRandomState::next_uint32() {
  if (pos_ == kN) regenerate();
  uint32_t y = key_[pos_++];
  // Tempering.
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

uint64_t NumpyRandomState::random_interval(uint64_t max) {
  if (max == 0) return 0;
  uint64_t mask = max;
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  mask |= mask >> 32;
  uint64_t value;
  if (max <= 0xffffffffULL) {
    while ((value = (next_uint32() & mask)) > max) {
    }
  } else {
    // numpy's next_uint64 for MT19937: (hi << 32) | lo from two consecutive draws.
    auto next_u64 = [this] {
      uint64_t hi = next_uint32();
      return (hi << 32) | next_uint32();
    };
    while ((value = (next_u64() & mask)) > max) {
    }
  }
  return value;
}

void NumpyRandomState::shuffle(std::vector<int64_t>& x) {
  for (int64_t i = static_cast<int64_t>(x.size()) - 1; i >= 1; --i) {
    auto j = static_cast<int64_t>(random_interval(static_cast<uint64_t>(i)));
    std::swap(x[i], x[j]);
  }
}

std::vector<int64_t> NumpyRandomState::permutation(int64_t n) {
  ACCENT_CHECK(n >= 0, "permutation: n must be >= 0, got ", n);
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  shuffle(p);
  return p;
}

std::vector<int64_t> NumpyRandomState::choice_without_replacement(const std::vector<int64_t>& a, int64_t size) {
  ACCENT_CHECK(size >= 0 && size <= static_cast<int64_t>(a.size()), "choice(replace=False): size ", size,
               " is outside [0, ", a.size(), "]");
  std::vector<int64_t> idx = permutation(static_cast<int64_t>(a.size()));
  std::vector<int64_t> out(static_cast<size_t>(size));
  for (int64_t k = 0; k < size; ++k) out[k] = a[idx[k]];
  return out;
}

}  // namespace accent
