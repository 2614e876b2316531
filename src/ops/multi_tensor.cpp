#include "ops/multi_tensor.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dtype.h"
#include "ops/cuda/kernels.h"

namespace accent {

namespace {

// One tensor's update on the cpu, with the zero_grad flag and whether a bf16 copy is written as constants: each
// loop vectorises with no test per element.
template <bool kZeroGrad, bool kBf16Copy>
void adamw_update_tensor(const AdamWTensor& a, const AdamWScalars& scalars, bool parallel) {
  const AdamWScalars s = scalars;  // a local: no store through p, m, v or g can change it
  const float grad_scale = s.grad_scale;
  float* p = a.param;
  float* g = a.grad;
  float* m = a.exp_avg;
  float* v = a.exp_avg_sq;
  uint16_t* p16 = a.bf16_copy;
  const float decay = a.decay_factor;
  // Elementwise and memory-bound (7 floats moved per element, 8 with zero_grad, and 2 bytes more with the copy):
  // threads over the tensor, vector lanes within (sqrt vectorises: the build passes -fno-math-errno). Every
  // element's arithmetic is the same float sequence whatever the split.
#pragma omp parallel for simd schedule(static) if (parallel && a.n >= 32768)
  for (int64_t i = 0; i < a.n; ++i) {
    adamw_update_element(p[i], m[i], v[i], g[i] * grad_scale, decay, s);
    if constexpr (kZeroGrad) g[i] = 0.0f;
    if constexpr (kBf16Copy) p16[i] = f32_to_bf16(p[i]);
  }
}

}  // namespace

void adamw_update(const OpContext& ctx, const AdamWTensor* tensors, int count, const AdamWScalars& s) {
  check_op_context(ctx, "adamw_update");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(adamw_update, tensors, count, s);
  const bool parallel = ctx.backend != Backend::Ref;
  for (int t = 0; t < count; ++t) {
    const AdamWTensor& a = tensors[t];
    if (s.zero_grad)
      a.bf16_copy ? adamw_update_tensor<true, true>(a, s, parallel) : adamw_update_tensor<true, false>(a, s, parallel);
    else
      a.bf16_copy ? adamw_update_tensor<false, true>(a, s, parallel) : adamw_update_tensor<false, false>(a, s, parallel);
  }
}

namespace {

// Σ x² in double, deterministic for any thread count: fixed blocks summed with vector lanes, then the block sums
// added in order.
double sum_of_squares(const float* x, int64_t n, bool parallel) {
  constexpr int64_t kBlock = 1 << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  // Grow-only per calling thread, so a training step allocates nothing once the largest tensor has been seen; the
  // pointer is taken here because the worker threads would see thread_locals of their own.
  thread_local std::vector<double> partial_storage;
  if (static_cast<int64_t>(partial_storage.size()) < blocks) partial_storage.resize(static_cast<size_t>(blocks));
  double* partial = partial_storage.data();
#pragma omp parallel for schedule(static) if (parallel && blocks > 1)
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

double global_grad_norm(const OpContext& ctx, const GradTensor* tensors, int count) {
  check_op_context(ctx, "global_grad_norm");
  if (ctx.backend == Backend::Cuda) {
#if ACCENT_WITH_CUDA
    return cuda::global_grad_norm(tensors, count);
#else
    fail_cuda_not_built("global_grad_norm");
#endif
  }
  // torch: norms = [‖g‖ per tensor] (float results), total = ‖stack(norms)‖. Sums are accumulated in double here.
  double total_sq = 0.0;
  for (int t = 0; t < count; ++t) {
    const float norm = static_cast<float>(std::sqrt(sum_of_squares(tensors[t].grad, tensors[t].n,
                                                                   ctx.backend != Backend::Ref)));
    total_sq += static_cast<double>(norm) * norm;
  }
  return static_cast<float>(std::sqrt(total_sq));
}

void scale_tensors(const OpContext& ctx, const GradTensor* tensors, int count, float coef) {
  check_op_context(ctx, "scale_tensors");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(scale_tensors, tensors, count, coef);
  const bool parallel = ctx.backend != Backend::Ref;
  for (int t = 0; t < count; ++t) {
    float* g = tensors[t].grad;
    const int64_t n = tensors[t].n;
#pragma omp parallel for simd schedule(static) if (parallel && n >= 32768)
    for (int64_t i = 0; i < n; ++i) g[i] *= coef;
  }
}

}  // namespace accent
