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
  float* heads = heads_.f32(3 * n);
  float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(n);  // one projection at a time
  query.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, qh, B, T, NH_, D_);
  key.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, kh, B, T, NH_, D_);
  value.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, vh, B, T, NH_, D_);

  float* probs = probs_.f32(nprobs);
  GemmShape scores{B * NH_, T, T, D_, false, true};  // Q (T, D) · Kᵀ, K stored (T, D)
  gemm(ctx, scores, qh, kh, nullptr, probs, false);
  // The dropout draw is taken at the same point of the rng stream as an unfused Dropout module would take it.
  const DropoutDraw& draw = attention_dropout_.draw(nprobs, rng);
  float* dropped = draw.active() ? shared_scratch(SharedSlot::AttentionProbsA).f32(nprobs) : nullptr;
  attention_softmax_dropout_forward(ctx, probs, mask_add, probs, dropped, AttentionDims{B, NH_, T, T},
                                    std::sqrt(static_cast<float>(D_)), draw);
  const float* used = dropped ? dropped : probs;
  float* ctx_heads = shared_scratch(SharedSlot::AttentionContext).f32(n);
  GemmShape weighted{B * NH_, T, D_, T, false, false};  // P' (T, T) · V (T, D)
  gemm(ctx, weighted, used, vh, nullptr, ctx_heads, false);
  merge_heads(ctx, ctx_heads, context, B, T, NH_, D_);
}

void SelfAttention::backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B,
                             int64_t T, bool accumulate_dx) {
  const int64_t rows = B * T, n = rows * H_, nprobs = B * NH_ * T * T;
  float* heads = heads_.f32(3 * n);
  float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  const float* probs = probs_.f32(nprobs);
  const DropoutDraw& draw = attention_dropout_.last_draw();
  float* dctx_h = shared_scratch(SharedSlot::AttentionContext).f32(n);
  float* dscores = shared_scratch(SharedSlot::AttentionProbsB).f32(nprobs);

  split_heads(ctx, dcontext, dctx_h, B, T, NH_, D_);
  // dP' = dctx_h · Vᵀ  (T, D)·(D, T)
  gemm(ctx, GemmShape{B * NH_, T, T, D_, false, true}, dctx_h, vh, nullptr, dscores, false);
  // dS = softmax backward of (dP'·mask/(1 − p)), in place; the same pass re-materialises P' (mask regenerated
  // from the draw, never stored) for dV.
  float* dropped = draw.active() ? shared_scratch(SharedSlot::AttentionProbsA).f32(nprobs) : nullptr;
  attention_softmax_dropout_backward(ctx, probs, dscores, dscores, AttentionDims{B, NH_, T, T},
                                     std::sqrt(static_cast<float>(D_)), draw, dropped);
  // dV = P'ᵀ · dctx_h — written over vh, which nothing needs any more.
  gemm(ctx, GemmShape{B * NH_, T, D_, T, true, false}, dropped ? dropped : probs, dctx_h, nullptr, vh, false);
  // dQ = dS · K (into the context-heads slot), then dK = dSᵀ · Q (over kh, read by the previous product only).
  float* dqh = dctx_h;
  gemm(ctx, GemmShape{B * NH_, T, D_, T, false, false}, dscores, kh, nullptr, dqh, false);
  gemm(ctx, GemmShape{B * NH_, T, D_, T, true, false}, dscores, qh, nullptr, kh, false);
  // One merged gradient at a time through the staging slot; dx == nullptr makes Linear skip its dX product.
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(n);
  merge_heads(ctx, dqh, stage, B, T, NH_, D_);
  query.backward(ctx, x, stage, dx, rows, accumulate_dx);
  merge_heads(ctx, kh, stage, B, T, NH_, D_);
  key.backward(ctx, x, stage, dx, rows, /*accumulate_dx=*/true);
  merge_heads(ctx, vh, stage, B, T, NH_, D_);
  value.backward(ctx, x, stage, dx, rows, /*accumulate_dx=*/true);
}

void SelfAttention::collect(ParameterList& out) {
  query.collect(out);
  key.collect(out);
  value.collect(out);
}

}  // namespace accent
