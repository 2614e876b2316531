// nn/layer_norm.h — torch.nn.LayerNorm over the last dimension, with the row statistics saved for backward.
#pragma once
#include <string>

#include "nn/parameter.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

class LayerNorm {
 public:
  LayerNorm() = default;
  // "<name>.weight", "<name>.bias" (C); weight 1, bias 0 (torch's default); no weight decay on either.
  LayerNorm(const std::string& name, int64_t C, float eps);

  Parameter weight;  // (C)
  Parameter bias;    // (C)
  float eps() const { return eps_; }

  // x (rows, C) → y (rows, C); saves mean/rstd (rows). y may alias x only when backward is not needed.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // dx (rows, C) overwrite (may alias dy); weight/bias grads accumulate. x = the input of the last forward.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t C_ = 0;
  float eps_ = 1e-12f;
  ScratchBuffer mean_, rstd_;  // (rows)
  ScratchBuffer discard_;      // 2 × (C) parameter-gradient sums of a frozen LayerNorm (thrown away)
};

}  // namespace accent
