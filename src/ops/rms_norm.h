// ops/rms_norm.h — RMS normalisation over the last dimension (Qwen2RMSNorm / LlamaRMSNorm).
//
// Contract, per row r of x (rows, C):
//   rstd = 1/√(Σx²/C + eps)                           (the statistic in fp32, as HF upcasts to it)
//   y = (x·rstd)·w                                     rstd (rows) is saved for backward; the weight is plain w
// Backward with x̂ = x·rstd, g = dy·w:
//   dx = rstd·(g − x̂·mean(g·x̂))                       (overwrites dx; dx may alias dy)
//   dw += Σ_rows dy·x̂                                  (accumulates; null dweight = frozen, not computed)
// The row sums run in double. CPU and ref backends; the CUDA backend has no kernel yet (an error says so).
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

void rms_norm_forward(const OpContext& ctx, const float* x, const float* weight, float* y, float* rstd, int64_t rows,
                      int64_t C, float eps);
void rms_norm_backward(const OpContext& ctx, const float* dy, const float* x, const float* weight, const float* rstd,
                       float* dx, float* dweight, int64_t rows, int64_t C);

}  // namespace accent
