// nn/rms_norm.h — Qwen2RMSNorm / LlamaRMSNorm over the last dimension (ops/rms_norm.h), with the row statistic
// saved for backward.
#pragma once
#include <string>

#include "nn/parameter.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

class RmsNorm {
 public:
  RmsNorm() = default;
  // "<name>.weight" (C), initialised to ones as HF does; no weight decay (a norm weight).
  RmsNorm(const std::string& name, int64_t C, float eps);

  Parameter weight;  // (C)
  float eps() const { return eps_; }

  // x (rows, C) → y (rows, C); saves rstd (rows). y may alias x only when backward is not needed.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // dx (rows, C) overwrite (may alias dy); the weight gradient accumulates. x = the input of the last forward.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t C_ = 0;
  float eps_ = 1e-6f;
  ScratchBuffer rstd_{SharedSlot::RmsNormRstd};  // (rows); in inference one for all norms
};

}  // namespace accent
