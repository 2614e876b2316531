#include "models/modernbert_head.h"

namespace accent {

ModernBertHead::ModernBertHead(int64_t H, int64_t C, bool dense_bias, bool norm_bias, float eps, Activation act,
                               float dropout)
    : dense("head.dense", H, H, dense_bias),
      norm("head.norm", H, eps, norm_bias),
      classifier("classifier", H, C, /*bias=*/true),
      H_(H),
      act_(act),
      dropout_(dropout) {}

void ModernBertHead::forward(const OpContext& ctx, const float* x, float* logits, int64_t rows, Rng* rng) {
  const int64_t n = rows * H_;
  float* pre = pre_.f32(n);
  float* activated = activated_.f32(n);
  float* normed = normed_.f32(n);
  dense.forward(ctx, x, pre, rows);
  activation_forward(ctx, act_, pre, activated, n);
  norm.forward(ctx, activated, normed, rows);
  dropout_.forward(ctx, normed, normed, n, rng);
  classifier.forward(ctx, normed, logits, rows);
}

void ModernBertHead::backward(const OpContext& ctx, const float* x, const float* dlogits, float* dx, int64_t rows) {
  const int64_t n = rows * H_;
  float* pre = pre_.f32(n);
  float* activated = activated_.f32(n);
  float* normed = normed_.f32(n);
  classifier.backward(ctx, normed, dlogits, /*dx=*/normed, rows);
  dropout_.backward(ctx, normed, normed, n);
  norm.backward(ctx, activated, normed, /*dx=*/normed, rows);
  activation_backward(ctx, act_, pre, normed, /*dx=*/normed, n);
  dense.backward(ctx, x, normed, dx, rows);
}

void ModernBertHead::collect(ParameterList& out) {
  dense.collect(out);
  norm.collect(out);
  classifier.collect(out);
}

}  // namespace accent
