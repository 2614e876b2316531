// nn/dropout.h — torch.nn.Dropout as a module: identity in inference, inverted dropout with a saved mask in training.
#pragma once
#include "core/rng.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

class Dropout {
 public:
  Dropout() = default;
  explicit Dropout(float p) : p_(p) {}
  float p() const { return p_; }

  // y (n) = dropout(x) with the mask drawn from rng (advanced by n) — or a copy of x when rng is null (inference)
  // or p == 0. y may alias x.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng);
  // dx = dy·mask/(1 − p) for the last forward (a copy when it was the identity). dx may alias dy.
  void backward(const OpContext& ctx, const float* dy, float* dx, int64_t n);
  bool active() const { return active_; }

 private:
  float p_ = 0.0f;
  bool active_ = false;
  ScratchBuffer mask_;  // (n) u8
};

}  // namespace accent
