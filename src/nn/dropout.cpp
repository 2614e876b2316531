#include "nn/dropout.h"

#include <algorithm>

#include "ops/dropout.h"

namespace accent {

void Dropout::forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng) {
  active_ = rng != nullptr && p_ > 0.0f;
  if (!active_) {
    if (x != y) std::copy(x, x + n, y);
    return;
  }
  dropout_forward(ctx, x, y, mask_.u8(n), n, p_, *rng);
}

void Dropout::backward(const OpContext& ctx, const float* dy, float* dx, int64_t n) {
  if (!active_) {
    if (dx != dy) std::copy(dy, dy + n, dx);
    return;
  }
  dropout_backward(ctx, dy, mask_.u8(n), dx, n, p_);
}

}  // namespace accent
