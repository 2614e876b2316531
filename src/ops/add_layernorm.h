// ops/add_layernorm.h — residual add and LayerNorm in one pass (HF BertSelfOutput / BertOutput, post-LN):
//
//   sum = Dropout(branch) + residual          (B·T, C)   dropout mask from a DropoutDraw over the flat index
//   y   = LayerNorm(sum)                      saves sum, mean, rstd (rows) for backward
// Backward, from dy:
//   dsum    = LayerNorm backward (ops/layernorm.h)            = the gradient reaching `residual`
//   dbranch = dsum·keep/(1 − p), the mask regenerated          = the gradient reaching `branch`
//   dw += Σ dy·x̂ ; db += Σ dy
// The cpu path runs the same row kernels as layernorm_forward/backward and the same mask test as dropout, so it
// equals the unfused sequence (dropout, add, layernorm) bit for bit; ref is literally that sequence.
#pragma once
#include <cstdint>

#include "ops/backend.h"
#include "ops/dropout.h"

namespace accent {

// sum may alias branch (not residual); y must not alias sum.
void add_layernorm_forward(const OpContext& ctx, const float* branch, const float* residual, const DropoutDraw& draw,
                           const float* weight, const float* bias, float* sum, float* y, float* mean, float* rstd,
                           int64_t rows, int64_t C, float eps);
// dsum (overwrite) may be null when the residual's gradient is not wanted; dbranch (overwrite) may alias sum
// (the saved LayerNorm input is dead once its gradient is known), never dy or dsum. dweight/dbias accumulate
// (null = a frozen parameter: its sum is not computed).
void add_layernorm_backward(const OpContext& ctx, const float* dy, const float* sum, const float* weight,
                            const float* mean, const float* rstd, const DropoutDraw& draw, float* dsum, float* dbranch,
                            float* dweight, float* dbias, int64_t rows, int64_t C);

}  // namespace accent
