#include "ops/tensor_ops.h"

#include <algorithm>

#include "ops/cuda/kernels.h"

namespace accent {

// Pure data movement and additions: ref and cpu compute bit-identical results; cpu only adds OpenMP.

void add(const OpContext& ctx, const float* a, const float* b, float* y, int64_t n) {
  check_op_context(ctx, "add");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(add, a, b, y, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i];
}

void add_inplace(const OpContext& ctx, const float* a, float* y, int64_t n) {
  check_op_context(ctx, "add_inplace");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(add_inplace, a, y, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] += a[i];
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] += a[i];
}

void multiply_inplace(const OpContext& ctx, const float* a, float* y, int64_t n) {
  check_op_context(ctx, "multiply_inplace");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(multiply_inplace, a, y, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] *= a[i];
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] *= a[i];
}

void split_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  check_op_context(ctx, "split_heads");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(split_heads, x, y, B, T, NH, D);
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        const float* src = x + (b * T + t) * NH * D + h * D;
        std::copy(src, src + D, y + ((b * NH + h) * T + t) * D);
      }
}

void merge_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  check_op_context(ctx, "merge_heads");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(merge_heads, x, y, B, T, NH, D);
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for collapse(2) schedule(static) if (parallel)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t t = 0; t < T; ++t) {
        const float* src = x + ((b * NH + h) * T + t) * D;
        std::copy(src, src + D, y + (b * T + t) * NH * D + h * D);
      }
}

void gather_rows(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t C, int64_t index) {
  check_op_context(ctx, "gather_rows");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(gather_rows, x, y, B, T, C, index);
  for (int64_t b = 0; b < B; ++b) std::copy(x + (b * T + index) * C, x + (b * T + index + 1) * C, y + b * C);
}

void scatter_rows(const OpContext& ctx, const float* dy, float* dx, int64_t B, int64_t T, int64_t C, int64_t index) {
  check_op_context(ctx, "scatter_rows");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(scatter_rows, dy, dx, B, T, C, index);
  std::fill(dx, dx + B * T * C, 0.0f);
  for (int64_t b = 0; b < B; ++b) std::copy(dy + b * C, dy + (b + 1) * C, dx + (b * T + index) * C);
}

}  // namespace accent
