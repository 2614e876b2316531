// ops/disentangled_scores.cpp — see disentangled_scores.h.
#include "ops/disentangled_scores.h"

#include <algorithm>

#include "core/error.h"

namespace accent {

void disentangled_scores_forward(const OpContext& ctx, const float* c2p, const float* p2c, const int32_t* idx,
                                 float* out, int64_t blocks, int64_t T, int64_t R) {
  check_cpu_only_op(ctx, "disentangled_scores_forward", "DeBERTa's relative attention");
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const float* c = c2p ? c2p + b * T * R : nullptr;
    const float* p = p2c ? p2c + b * T * R : nullptr;
    float* o = out + b * T * T;
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) {
        const int64_t r = idx[i * T + j];
        o[i * T + j] = (c ? c[i * R + r] : 0.0f) + (p ? p[j * R + r] : 0.0f);
      }
  }
}

void disentangled_scores_backward(const OpContext& ctx, const float* dout, const int32_t* idx, float* dc2p,
                                  float* dp2c, int64_t blocks, int64_t T, int64_t R) {
  check_cpu_only_op(ctx, "disentangled_scores_backward", "DeBERTa's relative attention");
  const bool parallel = ctx.backend != Backend::Ref;
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const float* d = dout + b * T * T;
    float* c = dc2p ? dc2p + b * T * R : nullptr;
    float* p = dp2c ? dp2c + b * T * R : nullptr;
    if (c) std::fill(c, c + T * R, 0.0f);
    if (p) std::fill(p, p + T * R, 0.0f);
    for (int64_t i = 0; i < T; ++i)
      for (int64_t j = 0; j < T; ++j) {
        const int64_t r = idx[i * T + j];
        if (c) c[i * R + r] += d[i * T + j];
        if (p) p[j * R + r] += d[i * T + j];
      }
  }
}

}  // namespace accent
