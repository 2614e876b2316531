#include "ops/layernorm.h"

#include <algorithm>
#include <cmath>

namespace accent {

namespace {

// One row forward; shared by ref (called in a plain loop) and cpu (called from an OpenMP loop).
inline void layernorm_row(const float* x, const float* w, const float* b, float* y, float* mean_out,
                          float* rstd_out, int64_t C, float eps) {
  double sum = 0.0;
  for (int64_t c = 0; c < C; ++c) sum += x[c];
  const double mean = sum / static_cast<double>(C);
  double var = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    const double d = x[c] - mean;
    var += d * d;
  }
  var /= static_cast<double>(C);
  const float m = static_cast<float>(mean);
  const float rstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
  for (int64_t c = 0; c < C; ++c) y[c] = (x[c] - m) * rstd * w[c] + b[c];
  *mean_out = m;
  *rstd_out = rstd;
}

inline void layernorm_row_backward(const float* dy, const float* x, const float* w, float mean, float rstd,
                                   float* dx, int64_t C) {
  double sum_g = 0.0, sum_gx = 0.0;
  for (int64_t c = 0; c < C; ++c) {
    const float g = dy[c] * w[c];
    sum_g += g;
    sum_gx += static_cast<double>(g) * ((x[c] - mean) * rstd);
  }
  const float mean_g = static_cast<float>(sum_g / static_cast<double>(C));
  const float mean_gx = static_cast<float>(sum_gx / static_cast<double>(C));
  for (int64_t c = 0; c < C; ++c) {
    const float xhat = (x[c] - mean) * rstd;
    dx[c] = rstd * (dy[c] * w[c] - mean_g - xhat * mean_gx);
  }
}

}  // namespace

void layernorm_forward(const OpContext& ctx, const float* x, const float* weight, const float* bias, float* y,
                       float* mean, float* rstd, int64_t rows, int64_t C, float eps) {
  check_op_context(ctx, "layernorm_forward");
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
  if (ctx.backend == Backend::Ref) {
    for (int64_t c = 0; c < C; ++c) {
      float sw = 0.0f, sb = 0.0f;
      for (int64_t r = 0; r < rows; ++r) {
        sw += dy[r * C + c] * ((x[r * C + c] - mean[r]) * rstd[r]);
        sb += dy[r * C + c];
      }
      dweight[c] += sw;
      dbias[c] += sb;
    }
    for (int64_t r = 0; r < rows; ++r)
      layernorm_row_backward(dy + r * C, x + r * C, weight, mean[r], rstd[r], dx + r * C, C);
    return;
  }
  // Parameter gradients first (dx may alias dy): column blocks in parallel, rows in order — deterministic.
  constexpr int64_t kBlock = 64;
  const int64_t nblocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t c0 = blk * kBlock, c1 = std::min(C, c0 + kBlock);
    double sw[kBlock] = {}, sb[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float m = mean[r], s = rstd[r];
      const float* xr = x + r * C;
      const float* dyr = dy + r * C;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) {
        sw[c - c0] += dyr[c] * ((xr[c] - m) * s);
        sb[c - c0] += dyr[c];
      }
    }
    for (int64_t c = c0; c < c1; ++c) {
      dweight[c] += static_cast<float>(sw[c - c0]);
      dbias[c] += static_cast<float>(sb[c - c0]);
    }
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    layernorm_row_backward(dy + r * C, x + r * C, weight, mean[r], rstd[r], dx + r * C, C);
}

}  // namespace accent
