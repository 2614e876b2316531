// models/bert_attention.h — BertAttention = BertSelfAttention + BertSelfOutput (post-LN):
//   Y = LayerNorm(Dropout_h(SelfAttention(X)·Woᵀ + bo) + X)
// Parameters "<prefix>.self.{query,key,value}.*", "<prefix>.output.dense.*", "<prefix>.output.LayerNorm.*".
// Dropout + residual add + LayerNorm run as one fused op (ops/add_layernorm.h); per instance it keeps the
// attention context and the LayerNorm input (2 × (B, T, H)) besides SelfAttention's own buffers.
#pragma once
#include <string>

#include "models/bert_dims.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "nn/self_attention.h"

namespace accent {

class BertAttention {
 public:
  BertAttention() = default;
  BertAttention(const std::string& prefix, const BertDims& d);

  SelfAttention self;
  Linear output_dense;
  LayerNorm output_layer_norm;

  // x (B, T, H), mask_add (B, T) or null → y (B, T, H); y must not alias x. With a packing (nn/token_packing.h)
  // x, y, dy and dx hold the packed rows (N, H).
  void forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
               const TokenPacking* packing = nullptr);
  // dy → dx (overwrite, must not alias dy); parameter gradients accumulate. x = the forward's input.
  // dx == nullptr: no input gradient wanted (nothing below trains) — the residual path and SelfAttention's
  // dX products are skipped; every parameter gradient of this block is still produced.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                const TokenPacking* packing = nullptr);
  // The last layer of a sequence classifier: only the head rows' outputs (nn/token_packing.h HeadRows), y (B, H),
  // from the layer's rows x (packed with a packing): keys and values of every row, the rest on B rows.
  void forward_head_rows(const OpContext& ctx, const float* x, const float* mask_add, const HeadRows& rows, float* y,
                         int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy (B, H) → dx (the layer's rows, overwrite; null = not wanted).
  void backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx, const HeadRows& rows,
                          int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);

 private:
  int64_t H_ = 0;
  Dropout dropout_;
  ScratchBuffer x_head_{SharedSlot::BertAttentionHeadRows};    // (B, H) the head rows of x (forward_head_rows); then their query-path gradient
  ScratchBuffer dx_head_{SharedSlot::BertAttentionHeadRowsGrad};   // (B, H) the head rows' residual-path gradient
  ScratchBuffer context_{SharedSlot::BertAttentionContext};   // (B, T, H) self-attention output; reused for its gradient
  ScratchBuffer residual_{SharedSlot::BertAttentionResidual};  // (B, T, H) LayerNorm input (dropped projection + x); reused for d(projection)
};

}  // namespace accent
