// nn/self_attention.h — multi-head scaled dot-product self-attention with an additive key mask
// (HF BertSelfAttention, eager path; shared by BERT, RoBERTa and ELECTRA).
//
//   Q, K, V = x·Wᵀ + b                  (B, T, H) → heads (B, NH, T, D), D = H / NH
//   P       = softmax(Q·Kᵀ / √D + M)    M (B, T) additive, (1 − mask)·finfo.min; P (B, NH, T, T)
//   P'      = Dropout_attn(P)
//   context = merge_heads(P'·V)         (B, T, H)
// The output projection, residual and LayerNorm belong to the caller (BertSelfOutput).
#pragma once
#include <string>

#include "core/rng.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/scratch.h"

namespace accent {

class SelfAttention {
 public:
  SelfAttention() = default;
  // Parameters "<name>.query.*", "<name>.key.*", "<name>.value.*" (H, H).
  SelfAttention(const std::string& name, int64_t hidden, int64_t heads, float attention_dropout);

  Linear query, key, value;
  int64_t heads() const { return NH_; }

  // x (B, T, H), mask_add (B, T) or null → context (B, T, H). rng null = inference (no dropout).
  void forward(const OpContext& ctx, const float* x, const float* mask_add, float* context, int64_t B, int64_t T,
               Rng* rng);
  // dcontext (B, T, H) → dx (B, T, H) overwrite; parameter gradients accumulate. x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B, int64_t T);
  void collect(ParameterList& out);

 private:
  int64_t H_ = 0, NH_ = 0, D_ = 0;
  Dropout attention_dropout_;
  ScratchBuffer projections_;   // 3 × (B, T, H): q | k | v projections; reused for dq | dk | dv in backward
  ScratchBuffer heads_;         // 3 × (B, NH, T, D): qh | kh | vh; kh, vh slots reused for dkh, dvh
  ScratchBuffer probs_;         // (B, NH, T, T) softmax output P
  ScratchBuffer probs_dropped_; // (B, NH, T, T) P' (only when dropout is active)
  ScratchBuffer dprobs_;        // (B, NH, T, T) backward temporary
  ScratchBuffer context_heads_; // (B, NH, T, D) P'·V; reused for dcontext heads, then dqh
};

}  // namespace accent
