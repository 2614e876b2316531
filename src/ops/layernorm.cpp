#include "ops/layernorm.h"

#include "ops/cuda/kernels.h"
#include "ops/layernorm_rows.h"

namespace accent {

using namespace layernorm_rows;

void layernorm_forward(const OpContext& ctx, const float* x, const float* weight, const float* bias, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t C, float eps) {
  check_op_context(ctx, "layernorm_forward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(layernorm_forward, x, weight, bias, y, mean, rstd, rows, C, eps);
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r)
      layernorm_row(x + r * C, weight, bias, y + r * C, mean + r, rstd + r, C, eps);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) layernorm_row(x + r * C, weight, bias, y + r * C, mean + r, rstd + r, C, eps);
}

void layernorm_backward(const OpContext& ctx, const float* dy, const float* x, const float* weight,
                        const float* mean, const float* rstd, float* dx, float* dweight, float* dbias, int64_t rows,
                        int64_t C) {
  check_op_context(ctx, "layernorm_backward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(layernorm_backward, dy, x, weight, mean, rstd, dx, dweight, dbias, rows, C);
  if (ctx.backend == Backend::Ref) {
    for (int64_t c = 0; c < C; ++c) {
      float sw = 0.0f, sb = 0.0f;
      for (int64_t r = 0; r < rows; ++r) {
        sw += dy[r * C + c] * ((x[r * C + c] - mean[r]) * rstd[r]);
        sb += dy[r * C + c];
      }
      if (dweight) dweight[c] += sw;
      if (dbias) dbias[c] += sb;
    }
    for (int64_t r = 0; r < rows; ++r)
      layernorm_row_backward(dy + r * C, x + r * C, weight, mean[r], rstd[r], dx + r * C, C);
    return;
  }
  // Parameter gradients first (dx may alias dy), then the rows.
  param_grads_cpu(dy, x, mean, rstd, dweight, dbias, rows, C);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    layernorm_row_backward(dy + r * C, x + r * C, weight, mean[r], rstd[r], dx + r * C, C);
}

}  // namespace accent
