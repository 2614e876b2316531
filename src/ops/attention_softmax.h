// ops/attention_softmax.h — the scaled, masked softmax of attention scores (HF BertSelfAttention, eager path).
//
// Contract, for scores (B, NH, Tq, Tk) and an optional additive key mask (B, Tk):
//   probs[b,h,i,:] = softmax_j( scores[b,h,i,j] / scale_divisor + mask_add[b,j] )
// HF divides by √D (v4: `attention_scores / math.sqrt(head_size)`) and adds (1 − mask)·finfo(float32).min, so a
// padded key gets probability exactly 0 and a fully masked row becomes uniform (as in PyTorch).
// Backward (dprobs → dscores, overwrite; dscores may alias dprobs):
//   dscores = probs·(dprobs − Σ_j dprobs·probs) / scale_divisor
// Fused with attention dropout (HF: self.dropout(attention_probs)), the mask described by a DropoutDraw over the
// flat (B, NH, Tq, Tk) index, exactly the mask ops/dropout.h would draw for that buffer:
//   forward   probs = softmax(...) (saved) and dropped = probs·keep/(1 − p) (P', the operand of P'·V)
//   backward  dprobs = dropped_grad·keep/(1 − p) (mask regenerated, not stored), then the softmax backward
// so backward needs only P, never a stored P' or mask.
#pragma once
#include <cstdint>

#include "ops/backend.h"
#include "ops/dropout.h"

namespace accent {

// finfo(torch.float32).min, the value HF multiplies (1 − attention_mask) by.
constexpr float kAttentionMaskMin = -3.4028234663852886e38f;

struct AttentionDims {
  int64_t B = 0, NH = 0, Tq = 0, Tk = 0;
};

void attention_softmax_forward(const OpContext& ctx, const float* scores, const float* mask_add, float* probs,
                               const AttentionDims& dims, float scale_divisor);
void attention_softmax_backward(const OpContext& ctx, const float* probs, const float* dprobs, float* dscores,
                                const AttentionDims& dims, float scale_divisor);

// probs as above; dropped (may be null when the draw is inactive) = dropout(probs). probs may alias scores.
void attention_softmax_dropout_forward(const OpContext& ctx, const float* scores, const float* mask_add, float* probs,
                                       float* dropped, const AttentionDims& dims, float scale_divisor,
                                       const DropoutDraw& draw);
// ddropped = gradient of P' → dscores (overwrite; may alias ddropped), the mask regenerated from draw. When
// `dropped` is given (active draw only) the same pass also writes P' again — what the forward's dropped was — for
// the caller's dV = P'ᵀ·dcontext product, so backward draws the mask once.
void attention_softmax_dropout_backward(const OpContext& ctx, const float* probs, const float* ddropped,
                                        float* dscores, const AttentionDims& dims, float scale_divisor,
                                        const DropoutDraw& draw, float* dropped = nullptr);

// mask_add[b, j] = (1 − attention_mask[b, j]) · finfo(float).min ; attention_mask null = all ones (adds zeros).
void attention_additive_mask(const int32_t* attention_mask, float* mask_add, int64_t B, int64_t T);

}  // namespace accent
