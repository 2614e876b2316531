#include "ops/tensor_ops.h"

#include <algorithm>

#include "core/error.h"
#include "ops/attention_softmax.h"
#include "ops/cuda/kernels.h"
#include "ops/memory.h"

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

void scale_inplace(const OpContext& ctx, float s, float* y, int64_t n) {
  check_op_context(ctx, "scale_inplace");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(scale_inplace, s, y, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] *= s;
    return;
  }
#pragma omp parallel for simd schedule(static) if (n >= 32768)
  for (int64_t i = 0; i < n; ++i) y[i] *= s;
}

namespace {

// x (B, T, P, NH, D) ↔ heads (P, B, NH, T, D), one D-row at a time: to_heads copies x → heads, else heads → x.
void permute_heads(const OpContext& ctx, const float* from, float* to, int64_t B, int64_t T, int64_t P, int64_t NH,
                   int64_t D, bool to_heads) {
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for collapse(3) schedule(static) if (parallel)
  for (int64_t p = 0; p < P; ++p)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < NH; ++h)
        for (int64_t t = 0; t < T; ++t) {
          const int64_t rows_at = (((b * T + t) * P + p) * NH + h) * D, heads_at = (((p * B + b) * NH + h) * T + t) * D;
          const float* src = from + (to_heads ? rows_at : heads_at);
          std::copy(src, src + D, to + (to_heads ? heads_at : rows_at));
        }
}

// One dispatcher for the four views of permute_heads (P = 1: one projection; P = 3: a fused q|k|v).
void permute_heads_op(const char* op, const OpContext& ctx, const float* from, float* to, int64_t B, int64_t T,
                      int64_t P, int64_t NH, int64_t D, bool to_heads) {
  check_op_context(ctx, op);
  if (ctx.backend == Backend::Cuda) {
    if (to_heads) return ACCENT_ON_CUDA(split_heads, from, to, B, T, P, NH, D);
    return ACCENT_ON_CUDA(merge_heads, from, to, B, T, P, NH, D);
  }
  permute_heads(ctx, from, to, B, T, P, NH, D, to_heads);
}

}  // namespace

void split_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  permute_heads_op("split_heads", ctx, x, y, B, T, 1, NH, D, true);
}
void merge_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  permute_heads_op("merge_heads", ctx, x, y, B, T, 1, NH, D, false);
}
void split_qkv_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  permute_heads_op("split_qkv_heads", ctx, x, y, B, T, 3, NH, D, true);
}
void merge_qkv_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D) {
  permute_heads_op("merge_qkv_heads", ctx, x, y, B, T, 3, NH, D, false);
}

void fill_causal(const OpContext& ctx, float* scores, int64_t BNH, int64_t T) {
  check_op_context(ctx, "fill_causal");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(fill_causal, scores, BNH, T);
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t m = 0; m < BNH; ++m)
    for (int64_t i = 0; i < T; ++i)
      std::fill(scores + (m * T + i) * T + i + 1, scores + (m * T + i + 1) * T, kAttentionMaskMin);
}

void fill_outside_window(const OpContext& ctx, float* scores, int64_t BNH, int64_t T, int64_t half_window) {
  check_cpu_only_op(ctx, "fill_outside_window", "local attention");
  ACCENT_CHECK(half_window >= 0, "fill_outside_window: half window ", half_window, " is negative");
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t m = 0; m < BNH; ++m)
    for (int64_t i = 0; i < T; ++i) {
      float* row = scores + (m * T + i) * T;
      const int64_t lo = std::max<int64_t>(0, i - half_window), hi = std::min<int64_t>(T, i + half_window + 1);
      std::fill(row, row + lo, kAttentionMaskMin);
      std::fill(row + hi, row + T, kAttentionMaskMin);
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

// The GPU runs these as the embedding lookup and its scatter-add (a table of R rows indexed by `index`): with
// distinct indices the scatter-add into zeros is the scatter.
void gather_token_rows(const OpContext& ctx, const float* x, const int32_t* index, float* y, int64_t N, int64_t R,
                       int64_t C) {
  check_op_context(ctx, "gather_token_rows");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(embedding_forward, index, x, y, N, R, C, false, "token rows");
#pragma omp parallel for schedule(static) if (ctx.backend == Backend::Cpu)
  for (int64_t i = 0; i < N; ++i) std::copy(x + index[i] * C, x + (index[i] + 1) * C, y + i * C);
}

void scatter_token_rows(const OpContext& ctx, const float* x, const int32_t* index, float* y, int64_t N, int64_t R,
                        int64_t C) {
  check_op_context(ctx, "scatter_token_rows");
  fill_zero(ctx, y, static_cast<size_t>(R * C) * sizeof(float));
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(embedding_backward, index, x, y, N, R, C, -1);
#pragma omp parallel for schedule(static) if (ctx.backend == Backend::Cpu)
  for (int64_t i = 0; i < N; ++i) std::copy(x + i * C, x + (i + 1) * C, y + index[i] * C);
}

}  // namespace accent
