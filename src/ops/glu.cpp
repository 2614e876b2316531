// ops/glu.cpp — see glu.h.
#include "ops/glu.h"

#include "core/error.h"
#include "ops/activation_math.h"
#include "ops/gelu_fast.h"

namespace accent {

void glu_forward(const OpContext& ctx, Activation act, const float* x, float* y, int64_t rows, int64_t I) {
  check_cpu_only_op(ctx, "glu_forward", "the gated linear unit");
  const bool parallel = ctx.backend != Backend::Ref;
  if (parallel && act == Activation::Gelu) {  // ModernBERT's GeGLU: the vectorised erf (ops/gelu_fast.h)
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* in = x + r * 2 * I;
      float* out = y + r * I;
#pragma omp simd
      for (int64_t i = 0; i < I; ++i) out[i] = fast::gelu(in[i]) * in[I + i];
    }
    return;
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * 2 * I;
    for (int64_t i = 0; i < I; ++i) y[r * I + i] = activation_math::forward_one(act, in[i]) * in[I + i];
  }
}

void glu_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t rows,
                  int64_t I) {
  check_cpu_only_op(ctx, "glu_backward", "the gated linear unit");
  const bool parallel = ctx.backend != Backend::Ref;
  if (parallel && act == Activation::Gelu) {  // GELU(v) = v·Φ(v), GELU'(v) = Φ(v) + v·e^{−v²/2}/√(2π) in one pass
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const float* in = x + r * 2 * I;
      const float* g = dy + r * I;
      float* d = dx + r * 2 * I;
#pragma omp simd
      for (int64_t i = 0; i < I; ++i) {
        float cdf, gauss;
        fast::normal_cdf_and_gauss(in[i], &cdf, &gauss);
        d[i] = g[i] * in[I + i] * (cdf + in[i] * gauss * 0.39894228040143267794f);
        d[I + i] = g[i] * in[i] * cdf;
      }
    }
    return;
  }
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * 2 * I;
    float* d = dx + r * 2 * I;
    for (int64_t i = 0; i < I; ++i) {
      const float g = dy[r * I + i];
      d[i] = g * in[I + i] * activation_math::derivative_one(act, in[i]);
      d[I + i] = g * activation_math::forward_one(act, in[i]);
    }
  }
}

}  // namespace accent
