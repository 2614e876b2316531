// ops/dropout.h — inverted dropout with a counter-based mask (torch.nn.functional.dropout, training mode).
//
// Contract: element i of a call with (seed, counter_base) is kept iff Rng(seed, counter_base + i).uniform() ≥ p,
// i.e. with probability 1 − p; kept elements are scaled by 1/(1 − p) (PyTorch: noise.bernoulli_(1−p).div_(1−p),
// y = x·noise). The mask is a pure function of (seed, counter_base + i): the same seed and counter give the same
// mask for any thread count, and a resumed run reproduces it. mask (n) stores 1 = kept, 0 = dropped.
// Backward: dx = dy·mask/(1 − p) (dx may alias dy). p = 1 drops everything (y = 0), as PyTorch.
//
// Because the mask is a pure function of (seed, counter), it need not be stored: a DropoutDraw names the counter
// range a forward used, and the backward (or a fused kernel) regenerates the same bits. keeps(i) is exactly the
// test dropout_forward applies, so the stored-mask and regenerated paths give the same mask bit for bit.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "ops/backend.h"

namespace accent {

// Element i of a draw (seed, counter) is kept iff Rng(seed, counter + i).uniform() ≥ p. Inline so fused kernels
// vectorise it (two SplitMix64 rounds per element; no state).
ACCENT_HD inline bool dropout_keeps(uint64_t seed, uint64_t counter, float p) {
  return Rng(seed, counter).uniform() >= p;
}

// The counter range one dropout call used. p == 0 (or a default DropoutDraw) = identity, nothing drawn.
//
// Packed rows (nn/token_packing.h): with row_map set, the draw was reserved for a padded (R, row_width) tensor and
// is applied to a packed one whose row r is padded row row_map[r]: element i of the packed tensor uses the counter
// of element row_map[i / row_width]·row_width + i % row_width, so a real token gets exactly the mask bits the padded
// path gives it (and the counters advance by the padded size, as they do there). row_map lives in the ops' memory.
struct DropoutDraw {
  float p = 0.0f;
  uint64_t seed = 0;
  uint64_t counter = 0;  // element i uses counter + i (or its padded element's counter with row_map)
  const int32_t* row_map = nullptr;
  int64_t row_width = 0;

  ACCENT_HD bool active() const { return p > 0.0f; }
  // The counter of element i.
  ACCENT_HD uint64_t counter_of(int64_t i) const {
    if (row_map == nullptr) return counter + static_cast<uint64_t>(i);
    return row_counter(i / row_width, row_width) + static_cast<uint64_t>(i % row_width);
  }
  // The counter of element 0 of row r of a (rows, C) tensor (C = row_width when row_map is set).
  ACCENT_HD uint64_t row_counter(int64_t r, int64_t C) const {
    return counter + static_cast<uint64_t>((row_map ? static_cast<int64_t>(row_map[r]) : r) * C);
  }
  ACCENT_HD bool keeps(int64_t i) const { return dropout_keeps(seed, counter_of(i), p); }
  // 1/(1 − p) for kept elements (0 when p = 1: everything dropped).
  ACCENT_HD float scale() const { return p >= 1.0f ? 0.0f : 1.0f / (1.0f - p); }
};

// Reserves n counters of rng for one dropout (advances rng by n) — or an inactive draw, rng untouched, when rng
// is null (inference) or p == 0.
DropoutDraw dropout_draw(float p, Rng* rng, int64_t n);

// y = x·keep/(1 − p) with the mask of `draw` (a copy when inactive); y may alias x.
void dropout_forward(const OpContext& ctx, const float* x, float* y, const DropoutDraw& draw, int64_t n);
// dx = dy·keep/(1 − p), the mask regenerated from `draw` (a copy when inactive); dx may alias dy.
void dropout_backward(const OpContext& ctx, const float* dy, const DropoutDraw& draw, float* dx, int64_t n);

void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                     uint64_t counter_base);
void dropout_backward(const OpContext& ctx, const float* dy, const uint8_t* mask, float* dx, int64_t n, float p);

// Same as dropout_forward with the mask drawn from `rng`'s stream at its current counter; advances rng by n.
void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, Rng& rng);

}  // namespace accent
