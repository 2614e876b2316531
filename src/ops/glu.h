// ops/glu.h — the gated linear unit of ModernBERT's MLP (ModernBertMLP: input, gate = Wi(x).chunk(2, dim=-1);
// act(input) * gate):
//   y[r, i] = act(x[r, i]) · x[r, I + i]                         x (rows, 2I), y (rows, I)
// Backward: dx[r, i] = dy[r, i] · x[r, I + i] · act'(x[r, i]);  dx[r, I + i] = dy[r, i] · act(x[r, i]).
// CPU and ref backends (ref: ops/activation_math.h's element formulas; cpu: GELU through ops/gelu_fast.h's
// vectorised erf, as activation_forward); no CUDA kernel yet (an error says so).
#pragma once
#include <cstdint>

#include "ops/activation.h"
#include "ops/backend.h"

namespace accent {

void glu_forward(const OpContext& ctx, Activation act, const float* x, float* y, int64_t rows, int64_t I);
// dx (rows, 2I) overwritten; x = the forward's input.
void glu_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t rows,
                  int64_t I);

}  // namespace accent
