#include "ops/add_layernorm.h"

#include <vector>

#include "ops/cuda/kernels.h"
#include "ops/dropout_rows.h"
#include "ops/layernorm.h"
#include "ops/layernorm_rows.h"
#include "ops/tensor_ops.h"

namespace accent {

using namespace layernorm_rows;
using dropout_rows::dropout_row;

void add_layernorm_forward(const OpContext& ctx, const float* branch, const float* residual, const DropoutDraw& draw,
                           const float* weight, const float* bias, float* sum, float* y, float* mean, float* rstd,
                           int64_t rows, int64_t C, float eps) {
  check_op_context(ctx, "add_layernorm_forward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(add_layernorm_forward, branch, residual, draw, weight, bias,
                          sum, y, mean, rstd, rows, C, eps);
  const int64_t n = rows * C;
  if (ctx.backend == Backend::Ref) {  // the unfused sequence
    dropout_forward(ctx, branch, sum, draw, n);
    add_inplace(ctx, residual, sum, n);
    layernorm_forward(ctx, sum, weight, bias, y, mean, rstd, rows, C, eps);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* br = branch + r * C;
    const float* res = residual + r * C;
    float* s = sum + r * C;
    if (draw.active()) {
      dropout_row(br, s, C, draw, r);
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) s[c] += res[c];
    } else {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) s[c] = br[c] + res[c];
    }
    layernorm_row(s, weight, bias, y + r * C, mean + r, rstd + r, C, eps);
  }
}

void add_layernorm_backward(const OpContext& ctx, const float* dy, const float* sum, const float* weight,
                            const float* mean, const float* rstd, const DropoutDraw& draw, float* dsum, float* dbranch,
                            float* dweight, float* dbias, int64_t rows, int64_t C) {
  check_op_context(ctx, "add_layernorm_backward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(add_layernorm_backward, dy, sum, weight, mean, rstd,
                          draw, dsum, dbranch, dweight, dbias, rows, C);
  const int64_t n = rows * C;
  if (ctx.backend == Backend::Ref) {  // the unfused sequence
    std::vector<float> g(static_cast<size_t>(n));
    layernorm_backward(ctx, dy, sum, weight, mean, rstd, g.data(), dweight, dbias, rows, C);
    if (dsum) std::copy(g.begin(), g.end(), dsum);
    dropout_backward(ctx, g.data(), draw, dbranch, n);
    return;
  }
  param_grads_cpu(dy, sum, mean, rstd, dweight, dbias, rows, C);  // reads every row of sum before any is overwritten
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* db = dbranch + r * C;
    float* g = dsum ? dsum + r * C : db;  // d(sum) of this row (in dbranch's row when not wanted)
    layernorm_row_backward(dy + r * C, sum + r * C, weight, mean[r], rstd[r], g, C);
    if (draw.active()) {
      dropout_row(g, db, C, draw, r);
    } else if (g != db) {
      std::copy(g, g + C, db);
    }
  }
}

}  // namespace accent
