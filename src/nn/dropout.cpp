#include "nn/dropout.h"

#include "nn/token_packing.h"

namespace accent {

const DropoutDraw& Dropout::draw(int64_t n, Rng* rng) {
  last_ = dropout_draw(p_, rng, n);
  return last_;
}

const DropoutDraw& Dropout::draw(int64_t n, Rng* rng, const TokenPacking* packing) {
  if (packing == nullptr || packing->rows == 0) return draw(n, rng);
  const int64_t width = n / packing->rows;
  last_ = dropout_draw(p_, rng, packing->padded_rows() * width);
  if (last_.active()) {
    last_.row_map = packing->row_index;
    last_.row_width = width;
  }
  return last_;
}

void Dropout::forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng,
                      const TokenPacking* packing) {
  dropout_forward(ctx, x, y, draw(n, rng, packing), n);
}

void Dropout::forward(const OpContext& ctx, const float* x, float* y, int64_t n, Rng* rng) {
  dropout_forward(ctx, x, y, draw(n, rng), n);
}

void Dropout::backward(const OpContext& ctx, const float* dy, float* dx, int64_t n) {
  dropout_backward(ctx, dy, last_, dx, n);
}

}  // namespace accent
