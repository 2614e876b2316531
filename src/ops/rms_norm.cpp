// ops/rms_norm.cpp — see rms_norm.h. The CPU path is the ref loop with the rows (and, for the weight gradient,
// the columns) spread over OpenMP threads.
#include "ops/rms_norm.h"

#include <cmath>

#include "core/error.h"

namespace accent {
namespace {

void row_forward(const float* x, const float* w, float* y, float* rstd, int64_t C, float eps) {
  double sum = 0.0;  // in double over SIMD lanes (not one serial chain of double adds)
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < C; ++c) sum += static_cast<double>(x[c]) * x[c];
  const float r = static_cast<float>(1.0 / std::sqrt(sum / static_cast<double>(C) + eps));
  *rstd = r;
  for (int64_t c = 0; c < C; ++c) y[c] = (x[c] * r) * w[c];
}

void row_backward(const float* dy, const float* x, const float* w, float rstd, float* dx, int64_t C) {
  double dot = 0.0;  // Σ g·x̂
#pragma omp simd reduction(+ : dot)
  for (int64_t c = 0; c < C; ++c) dot += static_cast<double>(dy[c]) * w[c] * (x[c] * rstd);
  const float mean_dot = static_cast<float>(dot / static_cast<double>(C));
  for (int64_t c = 0; c < C; ++c) dx[c] = rstd * (dy[c] * w[c] - (x[c] * rstd) * mean_dot);
}

void weight_grad_column(const float* dy, const float* x, const float* rstd, float* dweight, int64_t rows, int64_t C,
                        int64_t c) {
  double sum = 0.0;
  for (int64_t r = 0; r < rows; ++r) sum += static_cast<double>(dy[r * C + c]) * (x[r * C + c] * rstd[r]);
  dweight[c] += static_cast<float>(sum);
}

void check_backend(const OpContext& ctx, const char* op) { check_cpu_only_op(ctx, op, "RMSNorm"); }

}  // namespace

void rms_norm_forward(const OpContext& ctx, const float* x, const float* weight, float* y, float* rstd, int64_t rows,
                      int64_t C, float eps) {
  check_backend(ctx, "rms_norm_forward");
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r) row_forward(x + r * C, weight, y + r * C, rstd + r, C, eps);
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) row_forward(x + r * C, weight, y + r * C, rstd + r, C, eps);
}

void rms_norm_backward(const OpContext& ctx, const float* dy, const float* x, const float* weight, const float* rstd,
                       float* dx, float* dweight, int64_t rows, int64_t C) {
  check_backend(ctx, "rms_norm_backward");
  // The weight gradient first: dx may alias dy.
  if (ctx.backend == Backend::Ref) {
    if (dweight)
      for (int64_t c = 0; c < C; ++c) weight_grad_column(dy, x, rstd, dweight, rows, C, c);
    for (int64_t r = 0; r < rows; ++r) row_backward(dy + r * C, x + r * C, weight, rstd[r], dx + r * C, C);
    return;
  }
  if (dweight) {
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < C; ++c) weight_grad_column(dy, x, rstd, dweight, rows, C, c);
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) row_backward(dy + r * C, x + r * C, weight, rstd[r], dx + r * C, C);
}

}  // namespace accent
