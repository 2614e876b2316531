#include "ops/attention_softmax.h"

#include <cmath>
#include <limits>

#include "ops/cuda/kernels.h"
#include "ops/dropout_rows.h"
#include "ops/gelu_fast.h"

namespace accent {

namespace {

inline void softmax_row(const float* s, const float* mask, float* p, int64_t Tk, float scale_divisor) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < Tk; ++j) {
    const float v = s[j] / scale_divisor + (mask ? mask[j] : 0.0f);
    p[j] = v;
    max = v > max ? v : max;
  }
  float sum = 0.0f;
  for (int64_t j = 0; j < Tk; ++j) {
    p[j] = std::exp(p[j] - max);
    sum += p[j];
  }
  const float inv = 1.0f / sum;
  for (int64_t j = 0; j < Tk; ++j) p[j] *= inv;
}

inline void softmax_row_backward(const float* p, const float* dp, float* ds, int64_t Tk, float scale_divisor) {
  float dot = 0.0f;
  for (int64_t j = 0; j < Tk; ++j) dot += dp[j] * p[j];
  for (int64_t j = 0; j < Tk; ++j) ds[j] = p[j] * (dp[j] - dot) / scale_divisor;
}

// Vectorisable variant for the cpu path: same math, reductions reordered by the compiler (omp simd).
inline void softmax_row_fast(const float* s, const float* mask, float* p, int64_t Tk, float scale_divisor) {
  float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
  for (int64_t j = 0; j < Tk; ++j) {
    const float v = s[j] / scale_divisor + (mask ? mask[j] : 0.0f);
    p[j] = v;
    max = v > max ? v : max;
  }
  float sum = 0.0f;
  // e^{v − max} by the vectorised polynomial of ops/gelu_fast.h (relative error < 2e-7, libm's expf ~6e-8);
  // exactly 0 for masked keys, so padded positions still get probability 0.
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < Tk; ++j) {
    p[j] = fast::exp_neg_or_zero(p[j] - max);
    sum += p[j];
  }
  const float inv = 1.0f / sum;
#pragma omp simd
  for (int64_t j = 0; j < Tk; ++j) p[j] *= inv;
}

inline void softmax_row_backward_fast(const float* p, const float* dp, float* ds, int64_t Tk, float scale_divisor) {
  float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
  for (int64_t j = 0; j < Tk; ++j) dot += dp[j] * p[j];
  const float inv_scale = 1.0f / scale_divisor;
#pragma omp simd
  for (int64_t j = 0; j < Tk; ++j) ds[j] = p[j] * (dp[j] - dot) * inv_scale;
}

// Softmax backward with the dropout backward folded in: dp_j = dq_j·keep_j·scale; optionally P'_j = p_j·keep_j·scale.
inline void softmax_dropout_row_backward_fast(const float* p, const float* dq, float* ds, float* dropped, int64_t Tk,
                                              float scale_divisor, const DropoutDraw& d, int64_t r) {
  const uint64_t seed = d.seed, base = d.row_counter(r, Tk);
  const float prob = d.p, scale = d.scale();
  float dot = 0.0f;
  if (dropped) {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < Tk; ++j) {
      const bool keep = dropout_keeps(seed, base + static_cast<uint64_t>(j), prob);
      const float dp = keep ? dq[j] * scale : 0.0f;
      dropped[j] = keep ? p[j] * scale : 0.0f;
      ds[j] = dp;  // staged (ds may alias dq: element j is read before it is written)
      dot += dp * p[j];
    }
  } else {
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < Tk; ++j) {
      const float dp = dropout_keeps(seed, base + static_cast<uint64_t>(j), prob) ? dq[j] * scale : 0.0f;
      ds[j] = dp;
      dot += dp * p[j];
    }
  }
  const float inv_scale = 1.0f / scale_divisor;
#pragma omp simd
  for (int64_t j = 0; j < Tk; ++j) ds[j] = p[j] * (ds[j] - dot) * inv_scale;
}

}  // namespace

void attention_softmax_forward(const OpContext& ctx, const float* scores, const float* mask_add, float* probs,
                               const AttentionDims& d, float scale_divisor) {
  check_op_context(ctx, "attention_softmax_forward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(attention_softmax_forward, scores, mask_add, probs, d, scale_divisor);
  const int64_t rows = d.B * d.NH * d.Tq;
  const int64_t rows_per_batch = d.NH * d.Tq;
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r) {
      const float* mask = mask_add ? mask_add + (r / rows_per_batch) * d.Tk : nullptr;
      softmax_row(scores + r * d.Tk, mask, probs + r * d.Tk, d.Tk, scale_divisor);
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* mask = mask_add ? mask_add + (r / rows_per_batch) * d.Tk : nullptr;
    softmax_row_fast(scores + r * d.Tk, mask, probs + r * d.Tk, d.Tk, scale_divisor);
  }
}

void attention_softmax_backward(const OpContext& ctx, const float* probs, const float* dprobs, float* dscores,
                                const AttentionDims& d, float scale_divisor) {
  check_op_context(ctx, "attention_softmax_backward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(attention_softmax_backward, probs, dprobs, dscores, d, scale_divisor);
  const int64_t rows = d.B * d.NH * d.Tq;
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r)
      softmax_row_backward(probs + r * d.Tk, dprobs + r * d.Tk, dscores + r * d.Tk, d.Tk, scale_divisor);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    softmax_row_backward_fast(probs + r * d.Tk, dprobs + r * d.Tk, dscores + r * d.Tk, d.Tk, scale_divisor);
}

void attention_softmax_dropout_forward(const OpContext& ctx, const float* scores, const float* mask_add, float* probs,
                                       float* dropped, const AttentionDims& d, float scale_divisor,
                                       const DropoutDraw& draw) {
  check_op_context(ctx, "attention_softmax_dropout_forward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(attention_softmax_dropout_forward, scores, mask_add, probs, dropped, d, scale_divisor, draw);
  const int64_t rows = d.B * d.NH * d.Tq, rows_per_batch = d.NH * d.Tq, n = rows * d.Tk;
  if (ctx.backend == Backend::Ref) {  // the composition of the two reference ops
    attention_softmax_forward(ctx, scores, mask_add, probs, d, scale_divisor);
    if (draw.active()) dropout_forward(ctx, probs, dropped, draw, n);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* mask = mask_add ? mask_add + (r / rows_per_batch) * d.Tk : nullptr;
    softmax_row_fast(scores + r * d.Tk, mask, probs + r * d.Tk, d.Tk, scale_divisor);
    if (draw.active()) dropout_rows::dropout_row(probs + r * d.Tk, dropped + r * d.Tk, d.Tk, draw, r);
  }
}

void attention_softmax_dropout_backward(const OpContext& ctx, const float* probs, const float* ddropped,
                                        float* dscores, const AttentionDims& d, float scale_divisor,
                                        const DropoutDraw& draw, float* dropped) {
  check_op_context(ctx, "attention_softmax_dropout_backward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(attention_softmax_dropout_backward, probs, ddropped, dscores, d, scale_divisor,
                          draw, dropped);
  const int64_t rows = d.B * d.NH * d.Tq, n = rows * d.Tk;
  if (!draw.active()) dropped = nullptr;  // P' = P: nothing to re-materialise
  if (ctx.backend == Backend::Ref || !draw.active()) {
    if (dropped) dropout_forward(ctx, probs, dropped, draw, n);
    dropout_backward(ctx, ddropped, draw, dscores, n);  // regenerated mask (a copy when inactive)
    attention_softmax_backward(ctx, probs, dscores, dscores, d, scale_divisor);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    softmax_dropout_row_backward_fast(probs + r * d.Tk, ddropped + r * d.Tk, dscores + r * d.Tk,
                                      dropped ? dropped + r * d.Tk : nullptr, d.Tk, scale_divisor, draw, r);
}

void attention_additive_mask(const int32_t* attention_mask, float* mask_add, int64_t B, int64_t T) {
  for (int64_t i = 0; i < B * T; ++i) {
    // (1 − m)·min: m = 1 → 0, m = 0 → min (HF computes it in float; any other m is scaled likewise).
    const float m = attention_mask ? static_cast<float>(attention_mask[i]) : 1.0f;
    mask_add[i] = (1.0f - m) * kAttentionMaskMin;
  }
}

}  // namespace accent
