#include "nn/dropout.h"

namespace accent {

const DropoutDraw& Dropout::draw(int64_t n, Rng* rng) {
  last_ = dropout_draw(p_, rng, n);
  return last_;
}

void Dropout::forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng) {
  dropout_forward(ctx, x, y, draw(n, rng), n);
}

void Dropout::backward(const OpContext& ctx, const float* dy, float* dx, int64_t n) {
  dropout_backward(ctx, dy, last_, dx, n);
}

}  // namespace accent
