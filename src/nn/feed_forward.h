// nn/feed_forward.h — the position-wise feed-forward core: y = W2·act(W1·x + b1) + b2.
// (HF BertIntermediate + the dense of BertOutput; dropout/residual/LayerNorm belong to the caller.)
// Memory: only the pre-activation W1·x + b1 (rows, I) is kept per instance; act(pre) lives in this thread's
// shared scratch (nn/scratch.h) and backward recomputes it there for dW2 = dyᵀ·act(pre), together with act'(pre)
// (one pass, one erf for both: ops/activation.h activation_forward_with_derivative).
#pragma once
#include <string>

#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/activation.h"

namespace accent {

class FeedForward {
 public:
  FeedForward() = default;
  // in_name: (I, H) projection (BERT "….intermediate.dense"); out_name: (H, I) ("….output.dense").
  FeedForward(const std::string& in_name, const std::string& out_name, int64_t hidden, int64_t intermediate,
              Activation act);

  Linear dense_in, dense_out;
  Activation activation() const { return act_; }

  // x (rows, H) → y (rows, H)
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // dy (rows, H) → dx (rows, H) overwrite (+= when accumulate_dx; dx null = not wanted); parameter gradients
  // accumulate. x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                bool accumulate_dx = false);
  void collect(ParameterList& out);

 private:
  int64_t I_ = 0;
  Activation act_ = Activation::Gelu;
  ScratchBuffer pre_{SharedSlot::FeedForwardPre};  // (rows, I) W1·x + b1; reused for its gradient
};

}  // namespace accent
