// ops/layernorm_rows.h — the per-row LayerNorm kernels shared by ops/layernorm.cpp and the fused ops that end or
// start with a LayerNorm (ops/add_layernorm.cpp), so the fused paths compute bit for bit what the plain op does.
// Internal to ops/.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace accent::layernorm_rows {

// One row forward; shared by ref (called in a plain loop) and cpu (called from an OpenMP loop).
inline void layernorm_row(const float* x, const float* w, const float* b, float* y, float* mean_out,
                          float* rstd_out, int64_t C, float eps) {
  // Sums in double, over SIMD lanes (a lane-wise order instead of one serial chain: a serial double add is a
  // 4-cycle dependency per element, which made LayerNorm a tenth of an int8 forward).
  double sum = 0.0;
#pragma omp simd reduction(+ : sum)
  for (int64_t c = 0; c < C; ++c) sum += x[c];
  const double mean = sum / static_cast<double>(C);
  double var = 0.0;
#pragma omp simd reduction(+ : var)
  for (int64_t c = 0; c < C; ++c) {
    const double d = x[c] - mean;
    var += d * d;
  }
  var /= static_cast<double>(C);
  const float m = static_cast<float>(mean);
  const float rstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
  if (b) {
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) y[c] = (x[c] - m) * rstd * w[c] + b[c];
  } else {  // a LayerNorm without bias (ModernBERT's norm_bias = false)
#pragma omp simd
    for (int64_t c = 0; c < C; ++c) y[c] = (x[c] - m) * rstd * w[c];
  }
  *mean_out = m;
  *rstd_out = rstd;
}

inline void layernorm_row_backward(const float* dy, const float* x, const float* w, float mean, float rstd,
                                   float* dx, int64_t C) {
  double sum_g = 0.0, sum_gx = 0.0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
  for (int64_t c = 0; c < C; ++c) {
    const float g = dy[c] * w[c];
    sum_g += g;
    sum_gx += static_cast<double>(g) * ((x[c] - mean) * rstd);
  }
  const float mean_g = static_cast<float>(sum_g / static_cast<double>(C));
  const float mean_gx = static_cast<float>(sum_gx / static_cast<double>(C));
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    const float xhat = (x[c] - mean) * rstd;
    dx[c] = rstd * (dy[c] * w[c] - mean_g - xhat * mean_gx);
  }
}

// dweight += Σ_rows dy·x̂ ; dbias += Σ_rows dy — column blocks in parallel, rows in order (deterministic).
// A null dweight / dbias (a frozen parameter) is not accumulated; both null = nothing to do.
inline void param_grads_cpu(const float* dy, const float* x, const float* mean, const float* rstd, float* dweight,
                            float* dbias, int64_t rows, int64_t C) {
  if (!dweight && !dbias) return;
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
      if (dweight) dweight[c] += static_cast<float>(sw[c - c0]);
      if (dbias) dbias[c] += static_cast<float>(sb[c - c0]);
    }
  }
}

}  // namespace accent::layernorm_rows
