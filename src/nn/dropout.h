// nn/dropout.h — torch.nn.Dropout as a module: identity in inference, inverted dropout in training.
//
// The mask is not stored: forward records the counter range it drew (ops/dropout.h DropoutDraw) and backward
// regenerates the same bits from it, so a module costs no activation memory for its mask.
#pragma once
#include "core/rng.h"
#include "nn/scratch.h"  // (kept for includers that relied on it)
#include "ops/backend.h"
#include "ops/dropout.h"

namespace accent {
struct TokenPacking;  // nn/token_packing.h
}

namespace accent {

class Dropout {
 public:
  Dropout() = default;
  explicit Dropout(float p) : p_(p) {}
  float p() const { return p_; }

  // y (n) = dropout(x) with the mask drawn from rng (advanced by n) — or a copy of x when rng is null (inference)
  // or p == 0. y may alias x.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng);
  // Only draws the mask for n elements (advances rng by n) and remembers it, for fused kernels that apply it
  // themselves; returns the draw (inactive when rng is null or p == 0).
  const DropoutDraw& draw(int64_t n, Rng* rng);
  // The same over packed rows (nn/token_packing.h): n = packing->rows × width; the draw reserves the padded
  // B·T × width range and maps each packed row to its padded row's bits. packing null = draw(n, rng).
  const DropoutDraw& draw(int64_t n, Rng* rng, const TokenPacking* packing);
  void forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng, const TokenPacking* packing);
  // dx = dy·mask/(1 − p) for the last forward/draw (a copy when it was the identity). dx may alias dy.
  void backward(const OpContext& ctx, const float* dy, float* dx, int64_t n);
  bool active() const { return last_.active(); }
  const DropoutDraw& last_draw() const { return last_; }

 private:
  float p_ = 0.0f;
  DropoutDraw last_;
};

}  // namespace accent
