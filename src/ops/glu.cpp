// ops/glu.cpp — see glu.h.
#include "ops/glu.h"

#include "core/error.h"
#include "ops/activation_math.h"

namespace accent {

namespace {

void check_backend(const OpContext& ctx, const char* op) {
  check_op_context(ctx, op);
  ACCENT_CHECK(ctx.backend != Backend::Cuda, op, ": the gated linear unit has no CUDA kernel yet");
}

}  // namespace

void glu_forward(const OpContext& ctx, Activation act, const float* x, float* y, int64_t rows, int64_t I) {
  check_backend(ctx, "glu_forward");
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t r = 0; r < rows; ++r) {
    const float* in = x + r * 2 * I;
    for (int64_t i = 0; i < I; ++i) y[r * I + i] = activation_math::forward_one(act, in[i]) * in[I + i];
  }
}

void glu_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t rows,
                  int64_t I) {
  check_backend(ctx, "glu_backward");
  const bool parallel = ctx.backend != Backend::Ref;
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
