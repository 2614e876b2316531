// nn/self_attention.h — multi-head scaled dot-product self-attention with an additive key mask
// (HF BertSelfAttention, eager path; shared by BERT, RoBERTa, ELECTRA and DistilBERT).
//
//   Q, K, V = x·Wᵀ + b                  (B, T, H) → heads (B, NH, T, D), D = H / NH
//   context = attention(Q, K, V, M)     softmax(Q·Kᵀ / √D + M), dropout, ·V, merged (nn/attention_core.h)
// The output projection, residual and LayerNorm belong to the caller (BertSelfOutput).
//
// Memory: the three projections go one at a time through this thread's shared staging slot; the heads and P are
// the attention core's. In inference (a forward no backward follows) they run as one product of the stacked weights
// (nn/fused_projection.h), the same numbers.
#pragma once
#include <string>

#include "core/rng.h"
#include "nn/attention_core.h"
#include "nn/fused_projection.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"

namespace accent {

class SelfAttention {
 public:
  SelfAttention() = default;
  // Parameters "<name>.query.*", "<name>.key.*", "<name>.value.*" (H, H).
  SelfAttention(const std::string& name, int64_t hidden, int64_t heads, float attention_dropout);

  Linear query, key, value;
  int64_t heads() const { return NH_; }
  const AttentionCore& core() const { return core_; }

  // x (B, T, H), mask_add (B, T) or null → context (B, T, H). rng null = inference (no dropout).
  // With a packing (nn/token_packing.h) x and context hold the packed rows (N, H): the projections run on them,
  // attention on the padded heads they are scattered into.
  void forward(const OpContext& ctx, const float* x, const float* mask_add, float* context, int64_t B, int64_t T,
               Rng* rng, const TokenPacking* packing = nullptr);
  // dcontext (B, T, H) → dx (B, T, H), overwritten (or += when accumulate_dx); parameter gradients accumulate.
  // x = the forward's input. dx == nullptr: no input gradient wanted (e.g. the lowest layer when nothing below
  // trains) — the three dX = dQ·Wq + dK·Wk + dV·Wv products are skipped; parameter gradients are still produced.
  // With a packing, x, dcontext and dx hold packed rows as in forward.
  void backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B, int64_t T,
                bool accumulate_dx = false, const TokenPacking* packing = nullptr);
  // Only the head rows' queries (nn/token_packing.h HeadRows; the last layer of a sequence classifier): keys and
  // values from x (the layer's rows, packed with a packing), the query from x_head (B, H), the head rows of x →
  // context (B, H) of those rows.
  void forward_head_rows(const OpContext& ctx, const float* x, const float* x_head, const float* mask_add,
                         const HeadRows& rows, float* context, int64_t B, int64_t T, Rng* rng,
                         const TokenPacking* packing);
  // dcontext (B, H) → dx (the layer's rows, overwritten: the key and value paths), dx_head (B, H, overwritten: the
  // query path; the caller adds it to dx's head rows). Either may be null (not wanted).
  void backward_head_rows(const OpContext& ctx, const float* x, const float* x_head, const float* dcontext, float* dx,
                          float* dx_head, int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);

 private:
  // A projection of the layer's rows (packed or B·T) → its heads (B, NH, T, D); packed rows go through the padded
  // layout, pad rows zero. And back: a head block's gradient → the layer's rows.
  void to_heads(const OpContext& ctx, const float* projected, float* head_block, int64_t B, int64_t T,
                const TokenPacking* packing);
  float* from_heads(const OpContext& ctx, const float* head_block, int64_t B, int64_t T, const TokenPacking* packing);
  // One projection of x (rows, H) → out: from xq (x quantized once for all the int8 projections) when given.
  static void project(const OpContext& ctx, const Linear& proj, const float* x, const QuantizedRows* xq, float* out,
                      int64_t rows);

  int64_t H_ = 0, NH_ = 0, D_ = 0;
  AttentionCore core_;
  FusedProjection qkv_;  // inference: query, key and value as one product
};

}  // namespace accent
