// Helpers shared by the ops tests: random buffers, finite differences, robust relative error.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "core/rng.h"

namespace accent::testing {

inline std::vector<float> random_vector(int64_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = scale * rng.normal();
  return v;
}

// max|a − b| / max(max|b|, tiny): relative to the reference tensor's scale, robust to near-zero entries.
// `floor` is the smallest scale divided by: a tensor whose exact gradient is zero (e.g. the key bias of
// attention, which softmax's shift invariance cancels) is compared absolutely against it.
inline double relative_error(const float* a, const double* b, int64_t n, double floor = 1e-12) {
  double diff = 0.0, scale = floor;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(b[i]));
  }
  return diff / scale;
}
inline double relative_error(const std::vector<float>& a, const std::vector<float>& b, double floor = 1e-12) {
  std::vector<double> bd(b.begin(), b.end());
  return relative_error(a.data(), bd.data(), static_cast<int64_t>(a.size()), floor);
}

// Central finite differences of a scalar loss with respect to every element of `x` (perturbed in place).
inline std::vector<double> numeric_gradient(std::vector<float>& x, const std::function<double()>& loss,
                                            float eps = 1e-2f) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float saved = x[i];
    x[i] = saved + eps;
    const double up = loss();
    x[i] = saved - eps;
    const double down = loss();
    x[i] = saved;
    // The actual step after rounding to float keeps the quotient honest.
    g[i] = (up - down) / (static_cast<double>(saved + eps) - static_cast<double>(saved - eps));
  }
  return g;
}

// Σ w·y in double: the scalar whose gradient with respect to y is w.
inline double weighted_sum(const std::vector<float>& y, const std::vector<float>& w) {
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * w[i];
  return s;
}

}  // namespace accent::testing
