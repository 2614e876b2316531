#include "nn/self_attention.h"

#include <cmath>

#include "core/error.h"
#include "ops/attention_softmax.h"
#include "ops/matmul.h"
#include "ops/tensor_ops.h"

namespace accent {

SelfAttention::SelfAttention(const std::string& name, int64_t hidden, int64_t heads, float attention_dropout)
    : query(name + ".query", hidden, hidden),
      key(name + ".key", hidden, hidden),
      value(name + ".value", hidden, hidden),
      H_(hidden),
      NH_(heads),
      D_(heads > 0 ? hidden / heads : 0),
      attention_dropout_(attention_dropout) {
  ACCENT_CHECK(heads > 0 && hidden % heads == 0, name, ": hidden size (", hidden,
               ") is not a multiple of the number of attention heads (", heads, ")");
}

void SelfAttention::forward(const OpContext& ctx, const float* x, const float* mask_add, float* context, int64_t B,
                            int64_t T, Rng* rng) {
  const int64_t rows = B * T, n = rows * H_, nprobs = B * NH_ * T * T;
  float* proj = projections_.f32(3 * n);
  float* heads = heads_.f32(3 * n);
  float *q = proj, *k = proj + n, *v = proj + 2 * n;
  float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  query.forward(ctx, x, q, rows);
  key.forward(ctx, x, k, rows);
  value.forward(ctx, x, v, rows);
  split_heads(ctx, q, qh, B, T, NH_, D_);
  split_heads(ctx, k, kh, B, T, NH_, D_);
  split_heads(ctx, v, vh, B, T, NH_, D_);

  float* probs = probs_.f32(nprobs);
  GemmShape scores{B * NH_, T, T, D_, false, true};  // Q (T, D) · Kᵀ, K stored (T, D)
  gemm(ctx, scores, qh, kh, nullptr, probs, false);
  const AttentionDims dims{B, NH_, T, T};
  attention_softmax_forward(ctx, probs, mask_add, probs, dims, std::sqrt(static_cast<float>(D_)));

  const float* used = probs;
  if (rng != nullptr && attention_dropout_.p() > 0.0f) {
    float* dropped = probs_dropped_.f32(nprobs);
    attention_dropout_.forward(ctx, probs, dropped, nprobs, rng);
    used = dropped;
  } else {
    attention_dropout_.forward(ctx, probs, probs, nprobs, nullptr);  // records "inactive" for backward
  }
  float* ctx_heads = context_heads_.f32(n);
  GemmShape weighted{B * NH_, T, D_, T, false, false};  // P' (T, T) · V (T, D)
  gemm(ctx, weighted, used, vh, nullptr, ctx_heads, false);
  merge_heads(ctx, ctx_heads, context, B, T, NH_, D_);
}

void SelfAttention::backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B,
                             int64_t T) {
  const int64_t rows = B * T, n = rows * H_, nprobs = B * NH_ * T * T;
  float* proj = projections_.f32(3 * n);
  float* heads = heads_.f32(3 * n);
  float *dq = proj, *dk = proj + n, *dv = proj + 2 * n;
  float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  float* probs = probs_.f32(nprobs);
  const float* used = attention_dropout_.active() ? probs_dropped_.f32(nprobs) : probs;
  float* dprobs = dprobs_.f32(nprobs);
  float* dctx_h = context_heads_.f32(n);

  split_heads(ctx, dcontext, dctx_h, B, T, NH_, D_);
  // dP' = dctx_h · Vᵀ  (T, D)·(D, T)
  gemm(ctx, GemmShape{B * NH_, T, T, D_, false, true}, dctx_h, vh, nullptr, dprobs, false);
  // dV = P'ᵀ · dctx_h  — written over vh, which nothing needs any more.
  gemm(ctx, GemmShape{B * NH_, T, D_, T, true, false}, used, dctx_h, nullptr, vh, false);
  attention_dropout_.backward(ctx, dprobs, dprobs, nprobs);
  attention_softmax_backward(ctx, probs, dprobs, dprobs, AttentionDims{B, NH_, T, T},
                             std::sqrt(static_cast<float>(D_)));
  // dQ = dS · K (into the context-heads slot), then dK = dSᵀ · Q (over kh, read by the previous product only).
  float* dqh = dctx_h;
  gemm(ctx, GemmShape{B * NH_, T, D_, T, false, false}, dprobs, kh, nullptr, dqh, false);
  gemm(ctx, GemmShape{B * NH_, T, D_, T, true, false}, dprobs, qh, nullptr, kh, false);
  merge_heads(ctx, dqh, dq, B, T, NH_, D_);
  merge_heads(ctx, kh, dk, B, T, NH_, D_);
  merge_heads(ctx, vh, dv, B, T, NH_, D_);
  query.backward(ctx, x, dq, dx, rows, /*accumulate_dx=*/false);
  key.backward(ctx, x, dk, dx, rows, /*accumulate_dx=*/true);
  value.backward(ctx, x, dv, dx, rows, /*accumulate_dx=*/true);
}

void SelfAttention::collect(ParameterList& out) {
  query.collect(out);
  key.collect(out);
  value.collect(out);
}

}  // namespace accent
