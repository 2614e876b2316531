#include "train/grad_clip.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace accent {

namespace {

// Σ x² in double, deterministic for any thread count: fixed blocks summed with vector lanes, then the block sums
// added in order.
double sum_of_squares(const float* x, int64_t n) {
  constexpr int64_t kBlock = 1 << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  // Grow-only per calling thread, so a training step allocates nothing once the largest tensor has been seen; the
  // pointer is taken here because the worker threads would see thread_locals of their own.
  thread_local std::vector<double> partial_storage;
  if (static_cast<int64_t>(partial_storage.size()) < blocks) partial_storage.resize(static_cast<size_t>(blocks));
  double* partial = partial_storage.data();
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t lo = b * kBlock, hi = std::min(n, lo + kBlock);
    double sq = 0.0;
#pragma omp simd reduction(+ : sq)
    for (int64_t i = lo; i < hi; ++i) sq += static_cast<double>(x[i]) * x[i];
    partial[b] = sq;
  }
  double total = 0.0;
  for (int64_t b = 0; b < blocks; ++b) total += partial[b];
  return total;
}

}  // namespace

double grad_global_norm(const ParameterList& params) {
  // torch: norms = [‖g‖ per tensor] (float results), total = ‖stack(norms)‖. Sums are accumulated in double here.
  double total_sq = 0.0;
  for (const Parameter* p : params) {
    if (!p->trainable) continue;
    const float norm = static_cast<float>(std::sqrt(sum_of_squares(p->grad.f32(), p->grad.numel())));
    total_sq += static_cast<double>(norm) * norm;
  }
  return static_cast<float>(std::sqrt(total_sq));
}

double clip_grad_norm(const ParameterList& params, double max_norm) {
  const double total = grad_global_norm(params);
  if (max_norm <= 0.0 || !std::isfinite(total)) return total;
  const float coef = static_cast<float>(max_norm) / (static_cast<float>(total) + 1e-6f);
  if (coef < 1.0f) {
    for (Parameter* p : params) {
      if (!p->trainable) continue;
      float* g = p->grad.f32();
      const int64_t n = p->grad.numel();
#pragma omp parallel for simd schedule(static) if (n >= 32768)
      for (int64_t i = 0; i < n; ++i) g[i] *= coef;
    }
  }
  return total;
}

}  // namespace accent
