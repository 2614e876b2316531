// ops/gelu_fast.h — exact (erf) GELU and its derivative (and the vectorisable e^y they use, also used by the
// attention softmax) in a form the compiler vectorises (AVX-512 lanes): no
// libm calls, no branches the vectoriser cannot turn into blends. Used by the cpu backend; ref keeps std::erf.
//
// With z = |x|/√2 and E = e^{−z²} (= e^{−x²/2}):
//   erfc(z) ≈ t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))·E,  t = 1/(1 + p·z)   (Abramowitz & Stegun 7.1.26,
//   |error in erf| ≤ 1.5e-7). Φ(x) = 1 − erfc(z)/2 for x ≥ 0, erfc(z)/2 for x < 0 (no cancellation for x ≪ 0).
//   GELU(x) = x·Φ(x) (torch.nn.functional.gelu, approximate='none');  GELU'(x) = Φ(x) + x·E/√(2π).
// e^y: y = n·ln2 + r (n rounded with the 1.5·2^23 trick, ln2 split in two for an exact reduction), e^r by its
// degree-6 Taylor polynomial (|r| ≤ ln2/2: relative error < 2e-7), 2^n built in the exponent bits.
#pragma once
#include <cstdint>
#include <cstring>

namespace accent::fast {

inline float exp_neg(float y) {  // e^y for y ≤ 0 (flushes to 0 below −87)
  y = y < -87.0f ? -87.0f : y;
  const float shifted = y * 1.44269504088896341f + 12582912.0f;  // 1.5·2^23: rounds to the nearest integer
  const float n = shifted - 12582912.0f;
  const float r = (y - n * 0.693145751953125f) - n * 1.428606820309417232e-6f;
  const float p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

// e^y for y ≤ 0 that is exactly 0 below −87 (where e^y < 1.7e-38), as libm's expf underflows towards 0: the
// softmax of a masked key (score + finfo.min) must be exactly 0 as in PyTorch. Branch-free (a blend).
inline float exp_neg_or_zero(float y) {
  const float e = exp_neg(y);
  return y < -87.0f ? 0.0f : e;
}

// Φ(x) (standard normal CDF) and e^{−x²/2}.
inline void normal_cdf_and_gauss(float x, float* cdf, float* gauss) {
  const float z = (x < 0.0f ? -x : x) * 0.70710678118654752440f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  const float e = exp_neg(-z * z);
  const float poly =
      t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float half_erfc = 0.5f * poly * e;
  *cdf = x < 0.0f ? half_erfc : 1.0f - half_erfc;
  *gauss = e;
}

inline float gelu(float x) {
  float cdf, gauss;
  normal_cdf_and_gauss(x, &cdf, &gauss);
  return x * cdf;
}

inline float gelu_derivative(float x) {
  float cdf, gauss;
  normal_cdf_and_gauss(x, &cdf, &gauss);
  return cdf + x * gauss * 0.39894228040143267794f;
}

}  // namespace accent::fast
