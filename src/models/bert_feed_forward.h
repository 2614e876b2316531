// models/bert_feed_forward.h — BertIntermediate + BertOutput (post-LN):
//   Y = LayerNorm(Dropout_h(act(X·W1ᵀ + b1)·W2ᵀ + b2) + X)
// Parameters "<layer>.intermediate.dense.*" (I, H), "<layer>.output.dense.*" (H, I), "<layer>.output.LayerNorm.*".
// Dropout + residual add + LayerNorm run as one fused op (ops/add_layernorm.h).
#pragma once
#include <string>

#include "models/bert_dims.h"
#include "nn/dropout.h"
#include "nn/feed_forward.h"
#include "nn/layer_norm.h"
#include "nn/scratch.h"

namespace accent {

class BertFeedForward {
 public:
  BertFeedForward() = default;
  BertFeedForward(const std::string& layer_prefix, const BertDims& d);

  FeedForward ffn;
  LayerNorm output_layer_norm;

  // x (rows, H) → y (rows, H); y must not alias x. packing: the rows are packed tokens (nn/token_packing.h),
  // for the dropout draw.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows, Rng* rng,
               const TokenPacking* packing = nullptr);
  // dy → dx (overwrite, must not alias dy; null = not wanted). x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t H_ = 0;
  Dropout dropout_;
  ScratchBuffer residual_{SharedSlot::BertFeedForwardResidual};  // (rows, H) LayerNorm input; reused for d(ffn output)
};

}  // namespace accent
