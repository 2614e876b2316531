// nn/attention_core.h — scaled dot-product attention over heads that are already split, forward and hand-written
// backward: the part every self-attention shares (the BERT family's SelfAttention, GPT-2's causal block). The
// projections that make the heads, and the output projection, belong to the caller.
//
//   S       = Q·Kᵀ / scale_divisor          Q, K, V (B, NH, T, D); S (B, NH, T, T)
//             causal: S[.., i, j > i] = finfo.min, filled before the scale (min/√D is still "never attended": its
//             probability is exactly 0 either way; HF GPT-2 scales first); local (half_window w ≥ 0, ModernBERT's
//             sliding layers): S[.., i, j] = finfo.min where |i − j| > w, the same way
//             score_addend R (B, NH, T, T) or none (DeBERTa's relative terms): S = (Q·Kᵀ + R) / scale_divisor
//   P       = softmax(S + M)                M (B, T) additive key mask, (1 − mask)·finfo.min, or none
//   P'      = Dropout_attn(P)
//   context = merge_heads(P'·V)             (B, T, NH·D)
// Backward (the same formulas as autograd): dP' = dctx·Vᵀ; dV = P'ᵀ·dctx; dS = softmax'(dropout'(dP')) / scale
// (one fused pass); dQ = dS·K; dK = dSᵀ·Q. Causal entries have probability 0, so their score gradient is already 0.
//
// Memory: per instance the heads Q|K|V (3 × (B, NH, T, D), written by the caller through heads()) and P; P' is
// never stored (its dropout mask is regenerated from the counter range, ops/dropout.h); P'·V and every backward
// temporary live in this thread's shared scratch (nn/scratch.h), one copy for all layers.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "nn/dropout.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/backend.h"

namespace accent {

class AttentionCore {
 public:
  AttentionCore() = default;
  AttentionCore(int64_t hidden, int64_t heads, float attention_dropout, float scale_divisor, bool causal,
                int64_t half_window = -1);

  // Q | K | V heads, (3, B, NH, T, D), for the caller to fill before forward() (grown to fit B, T).
  float* heads(int64_t B, int64_t T);
  // mask_add (B, T) or null → context (B, T, NH·D). rng null = inference (no dropout). score_addend (B, NH, T, T)
  // or null: added to Q·Kᵀ before the scale.
  void forward(const OpContext& ctx, const float* mask_add, float* context, int64_t B, int64_t T, Rng* rng,
               const float* score_addend = nullptr);

  struct HeadGradients {
    const float* dq;  // (B, NH, T, D), in this thread's shared scratch: valid until the next attention call
    const float* dk;  // (B, NH, T, D), over the K heads
    const float* dv;  // (B, NH, T, D), over the V heads
    const float* dscores;  // (B, NH, Tq, T) d/d(Q·Kᵀ + R), the gradient of score_addend; shared scratch, as dq
  };
  // dcontext (B, T, NH·D) → the gradients of the three head blocks, after forward() with the same B, T.
  HeadGradients backward(const OpContext& ctx, const float* dcontext, int64_t B, int64_t T);

  // One query row per sequence (nn/token_packing.h HeadRows: what a classification head reads): Q (B, NH, 1, D) in
  // the first B·NH·D values of heads()' Q block, K and V full → context (B, NH·D) of those rows only. The dropout draw
  // covers the full (B, NH, T, T) probabilities, each row mapped to its own (rows.probs), so the kept bits are the
  // full forward's. probs() is then (B, NH, 1, T). A causal core takes the causal cut of each row from mask_add
  // (B, T), which the caller builds for its rows.
  void forward_rows(const OpContext& ctx, const float* mask_add, const HeadRows& rows, float* context, int64_t B,
                    int64_t T, Rng* rng);
  // dcontext (B, NH·D) → dq (B, NH, 1, D), dk and dv (B, NH, T, D), after forward_rows with the same B, T.
  HeadGradients backward_rows(const OpContext& ctx, const float* dcontext, int64_t B, int64_t T);
  // The attention probabilities P (B, NH, T, T) of the last forward (before dropout: what HF returns with
  // output_attentions=True in eval mode), in the ops' memory; null before the first forward.
  const float* probs() const { return last_probs_; }
  int64_t heads() const { return NH_; }

 private:
  // Both forms: Tq query rows per sequence (T, or 1 with `rows`).
  void run_forward(const OpContext& ctx, const float* mask_add, const HeadRows* rows, float* context, int64_t B,
                   int64_t Tq, int64_t T, Rng* rng, const float* score_addend = nullptr);
  HeadGradients run_backward(const OpContext& ctx, const float* dcontext, int64_t B, int64_t Tq, int64_t T);

  int64_t NH_ = 0, D_ = 0;
  float scale_divisor_ = 1.0f;
  bool causal_ = false;
  int64_t half_window_ = -1;  // < 0: global attention
  Dropout attention_dropout_;
  ScratchBuffer heads_{SharedSlot::AttentionCoreHeads};  // 3 × (B, NH, T, D): qh | kh | vh; kh, vh reused for dkh, dvh in backward
  ScratchBuffer probs_{SharedSlot::AttentionCoreProbs};  // (B, NH, T, T) softmax output P (the dropout draw is kept in attention_dropout_)
  const float* last_probs_ = nullptr;
};

}  // namespace accent
