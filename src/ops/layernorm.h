// ops/layernorm.h — layer normalisation over the last dimension (torch.nn.LayerNorm).
//
// Contract, per row r of x (rows, C):
//   mean = Σx/C ; var = Σ(x−mean)²/C (biased) ; rstd = 1/√(var + eps)
//   y = (x − mean)·rstd·w + b                         mean, rstd (rows) are saved for backward
// Backward with x̂ = (x − mean)·rstd, g = dy·w:
//   dx = rstd·(g − mean(g) − x̂·mean(g·x̂))            (overwrites dx; dx may alias dy)
//   dw += Σ_rows dy·x̂ ; db += Σ_rows dy               (parameter gradients accumulate)
// dweight / dbias may be null (a frozen parameter): that sum is not computed. bias may be null (no bias: b = 0).
// Row statistics are computed in double (PyTorch uses a float cascade; both well inside 1e-6 relative).
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

void layernorm_forward(const OpContext& ctx, const float* x, const float* weight, const float* bias, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t C, float eps);
void layernorm_backward(const OpContext& ctx, const float* dy, const float* x, const float* weight,
                        const float* mean, const float* rstd, float* dx, float* dweight, float* dbias, int64_t rows,
                        int64_t C);

}  // namespace accent
