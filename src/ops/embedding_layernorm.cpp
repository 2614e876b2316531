#include "ops/embedding_layernorm.h"

#include <algorithm>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/dropout_rows.h"
#include "ops/embedding.h"
#include "ops/layernorm.h"
#include "ops/layernorm_rows.h"

namespace accent {

void embedding_layernorm_forward(const OpContext& ctx, const EmbeddingLookup* lookups, int count,
                                 const float* weight, const float* bias, const DropoutDraw& draw, float* sum, float* y,
                                 float* mean, float* rstd, int64_t rows, int64_t C, float eps) {
  check_op_context(ctx, "embedding_layernorm_forward");
  ACCENT_CHECK(count >= 1, "embedding_layernorm_forward: needs at least one lookup");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(embedding_layernorm_forward, lookups, count, weight, bias, draw,
                          sum, y, mean, rstd, rows, C, eps);
  const int64_t n = rows * C;
  if (ctx.backend == Backend::Ref) {  // the unfused sequence
    for (int k = 0; k < count; ++k)
      embedding_forward(ctx, lookups[k].ids, lookups[k].table, sum, rows, lookups[k].V, C, /*accumulate=*/k > 0,
                        lookups[k].name);
    layernorm_forward(ctx, sum, weight, bias, y, mean, rstd, rows, C, eps);
    dropout_forward(ctx, y, y, draw, n);
    return;
  }
  for (int k = 0; k < count; ++k)  // validate before the parallel loop (which must not throw)
    for (int64_t r = 0; r < rows; ++r)
      ACCENT_CHECK(lookups[k].ids[r] >= 0 && lookups[k].ids[r] < lookups[k].V, lookups[k].name, ": index ",
                   lookups[k].ids[r], " at position ", r, " is out of range (table has ", lookups[k].V, " rows)");
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    float* s = sum + r * C;
    const float* first = lookups[0].table + static_cast<int64_t>(lookups[0].ids[r]) * C;
    std::copy(first, first + C, s);
    for (int k = 1; k < count; ++k) {
      const float* row = lookups[k].table + static_cast<int64_t>(lookups[k].ids[r]) * C;
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) s[c] += row[c];
    }
    float* yr = y + r * C;
    layernorm_rows::layernorm_row(s, weight, bias, yr, mean + r, rstd + r, C, eps);
    if (draw.active()) dropout_rows::dropout_row(yr, yr, C, draw, r);
  }
}

void embedding_layernorm_backward(const OpContext& ctx, const float* dy, const float* sum, const float* weight,
                                  const float* mean, const float* rstd, const DropoutDraw& draw, float* dsum,
                                  float* dweight, float* dbias, int64_t rows, int64_t C) {
  check_op_context(ctx, "embedding_layernorm_backward");
  // The LayerNorm backward needs the whole of g for its parameter sums before any row's dsum overwrites it, so
  // the dropout backward is its own (regenerating, in-place) pass; then layernorm_backward as the plain op.
  dropout_backward(ctx, dy, draw, dsum, rows * C);
  layernorm_backward(ctx, dsum, sum, weight, mean, rstd, dsum, dweight, dbias, rows, C);
}

}  // namespace accent
