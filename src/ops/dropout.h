// ops/dropout.h — inverted dropout with a counter-based mask (torch.nn.functional.dropout, training mode).
//
// Contract: element i of a call with (seed, counter_base) is kept iff Rng(seed, counter_base + i).uniform() ≥ p,
// i.e. with probability 1 − p; kept elements are scaled by 1/(1 − p) (PyTorch: noise.bernoulli_(1−p).div_(1−p),
// y = x·noise). The mask is a pure function of (seed, counter_base + i): the same seed and counter give the same
// mask for any thread count, and a resumed run reproduces it. mask (n) stores 1 = kept, 0 = dropped.
// Backward: dx = dy·mask/(1 − p) (dx may alias dy). p = 1 drops everything (y = 0), as PyTorch.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "ops/backend.h"

namespace accent {

void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                     uint64_t counter_base);
void dropout_backward(const OpContext& ctx, const float* dy, const uint8_t* mask, float* dx, int64_t n, float p);

// Same as dropout_forward with the mask drawn from `rng`'s stream at its current counter; advances rng by n.
void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, Rng& rng);

}  // namespace accent
