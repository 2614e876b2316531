#include "nn/attention_core.h"

#include "core/error.h"
#include "ops/attention_softmax.h"
#include "ops/matmul.h"
#include "ops/tensor_ops.h"

namespace accent {

AttentionCore::AttentionCore(int64_t hidden, int64_t heads, float attention_dropout, float scale_divisor, bool causal,
                             int64_t half_window)
    : NH_(heads),
      D_(heads > 0 ? hidden / heads : 0),
      scale_divisor_(scale_divisor),
      causal_(causal),
      half_window_(half_window),
      attention_dropout_(attention_dropout) {
  ACCENT_CHECK(heads > 0 && hidden % heads == 0, "attention: hidden size (", hidden,
               ") is not a multiple of the number of attention heads (", heads, ")");
}

float* AttentionCore::heads(int64_t B, int64_t T) { return heads_.f32(3 * B * NH_ * T * D_); }

void AttentionCore::forward(const OpContext& ctx, const float* mask_add, float* context, int64_t B, int64_t T,
                            Rng* rng, const float* score_addend) {
  run_forward(ctx, mask_add, nullptr, context, B, T, T, rng, score_addend);
}

AttentionCore::HeadGradients AttentionCore::backward(const OpContext& ctx, const float* dcontext, int64_t B,
                                                     int64_t T) {
  return run_backward(ctx, dcontext, B, T, T);
}

void AttentionCore::forward_rows(const OpContext& ctx, const float* mask_add, const HeadRows& rows, float* context,
                                 int64_t B, int64_t T, Rng* rng) {
  run_forward(ctx, mask_add, &rows, context, B, 1, T, rng);
}

AttentionCore::HeadGradients AttentionCore::backward_rows(const OpContext& ctx, const float* dcontext, int64_t B,
                                                          int64_t T) {
  return run_backward(ctx, dcontext, B, 1, T);
}

void AttentionCore::run_forward(const OpContext& ctx, const float* mask_add, const HeadRows* rows, float* context,
                                int64_t B, int64_t Tq, int64_t T, Rng* rng, const float* score_addend) {
  const int64_t n = B * NH_ * T * D_, nq = B * NH_ * Tq * D_, nprobs = B * NH_ * Tq * T;
  const float* heads = heads_.f32(3 * n);
  const float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  float* probs = probs_.f32(nprobs);
  last_probs_ = probs;
  gemm(ctx, GemmShape{B * NH_, Tq, T, D_, false, true}, qh, kh, nullptr, probs, false);  // Q (Tq, D) · Kᵀ
  if (score_addend) add_inplace(ctx, score_addend, probs, nprobs);
  if (causal_ && !rows) fill_causal(ctx, probs, B * NH_, T);  // with rows, the caller's mask holds the causal cut
  ACCENT_CHECK(half_window_ < 0 || !rows, "attention: a local window has no head-rows form");
  if (half_window_ >= 0) fill_outside_window(ctx, probs, B * NH_, T, half_window_);
  // The dropout draw is taken at the same point of the rng stream as an unfused Dropout module would take it
  // (over the full probabilities, rows mapped, when only some query rows run).
  const DropoutDraw& draw = attention_dropout_.draw(nprobs, rng, rows ? &rows->probs : nullptr);
  float* dropped = draw.active() ? shared_scratch(SharedSlot::AttentionProbsA).f32(nprobs) : nullptr;
  attention_softmax_dropout_forward(ctx, probs, mask_add, probs, dropped, AttentionDims{B, NH_, Tq, T},
                                    scale_divisor_, draw);
  float* ctx_heads = shared_scratch(SharedSlot::AttentionContext).f32(nq);
  gemm(ctx, GemmShape{B * NH_, Tq, D_, T, false, false}, dropped ? dropped : probs, vh, nullptr, ctx_heads,
       false);  // P' (Tq, T) · V (T, D)
  merge_heads(ctx, ctx_heads, context, B, Tq, NH_, D_);
}

AttentionCore::HeadGradients AttentionCore::run_backward(const OpContext& ctx, const float* dcontext, int64_t B,
                                                         int64_t Tq, int64_t T) {
  const int64_t n = B * NH_ * T * D_, nq = B * NH_ * Tq * D_, nprobs = B * NH_ * Tq * T;
  float* heads = heads_.f32(3 * n);
  float *qh = heads, *kh = heads + n, *vh = heads + 2 * n;
  const float* probs = probs_.f32(nprobs);
  const DropoutDraw& draw = attention_dropout_.last_draw();
  float* dctx_h = shared_scratch(SharedSlot::AttentionContext).f32(nq);
  float* dscores = shared_scratch(SharedSlot::AttentionProbsB).f32(nprobs);

  split_heads(ctx, dcontext, dctx_h, B, Tq, NH_, D_);
  // dP' = dctx_h · Vᵀ  (Tq, D)·(D, T)
  gemm(ctx, GemmShape{B * NH_, Tq, T, D_, false, true}, dctx_h, vh, nullptr, dscores, false);
  // dS = softmax backward of (dP'·mask/(1 − p)), in place; the same pass re-materialises P' (mask regenerated
  // from the draw, never stored) for dV.
  float* dropped = draw.active() ? shared_scratch(SharedSlot::AttentionProbsA).f32(nprobs) : nullptr;
  attention_softmax_dropout_backward(ctx, probs, dscores, dscores, AttentionDims{B, NH_, Tq, T}, scale_divisor_, draw,
                                     dropped);
  // dV = P'ᵀ · dctx_h — written over vh, which nothing needs any more.
  gemm(ctx, GemmShape{B * NH_, T, D_, Tq, true, false}, dropped ? dropped : probs, dctx_h, nullptr, vh, false);
  // dQ = dS · K (into the context-heads slot), then dK = dSᵀ · Q (over kh, read by the previous product only).
  float* dqh = dctx_h;
  gemm(ctx, GemmShape{B * NH_, Tq, D_, T, false, false}, dscores, kh, nullptr, dqh, false);
  gemm(ctx, GemmShape{B * NH_, T, D_, Tq, true, false}, dscores, qh, nullptr, kh, false);
  return HeadGradients{dqh, kh, vh, dscores};
}

}  // namespace accent
