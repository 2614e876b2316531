#include "ops/embedding.h"

#include <algorithm>

#include "core/error.h"
#include "ops/cuda/kernels.h"

namespace accent {

void embedding_forward(const OpContext& ctx, const int32_t* ids, const float* table, float* y, int64_t rows,
                       int64_t V, int64_t C, bool accumulate, const char* table_name) {
  check_op_context(ctx, "embedding_forward");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(embedding_forward, ids, table, y, rows, V, C, accumulate, table_name);
  for (int64_t r = 0; r < rows; ++r)
    ACCENT_CHECK(ids[r] >= 0 && ids[r] < V, table_name, ": index ", ids[r], " at position ", r,
                 " is out of range (table has ", V, " rows)");
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < C; ++c) y[r * C + c] = (accumulate ? y[r * C + c] : 0.0f) + table[ids[r] * C + c];
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = table + static_cast<int64_t>(ids[r]) * C;
    float* dst = y + r * C;
    if (accumulate) {
#pragma omp simd
      for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
    } else {
      std::copy(src, src + C, dst);
    }
  }
}

void embedding_backward(const OpContext& ctx, const int32_t* ids, const float* dy, float* dtable, int64_t rows,
                        int64_t V, int64_t C, int64_t padding_idx) {
  check_op_context(ctx, "embedding_backward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(embedding_backward, ids, dy, dtable, rows, V, C, padding_idx);
  for (int64_t r = 0; r < rows; ++r)
    ACCENT_CHECK(ids[r] >= 0 && ids[r] < V, "embedding backward: index ", ids[r], " out of range [0, ", V, ")");
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r) {
      if (ids[r] == padding_idx) continue;
      for (int64_t c = 0; c < C; ++c) dtable[ids[r] * C + c] += dy[r * C + c];
    }
    return;
  }
  // Column blocks in parallel, rows in order inside a block: repeated ids never race and the summation order
  // is the same as ref's for any thread count.
  constexpr int64_t kBlock = 64;
  const int64_t nblocks = (C + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t c0 = blk * kBlock, c1 = std::min(C, c0 + kBlock);
    for (int64_t r = 0; r < rows; ++r) {
      if (ids[r] == padding_idx) continue;
      float* dst = dtable + static_cast<int64_t>(ids[r]) * C;
      const float* src = dy + r * C;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
    }
  }
}

}  // namespace accent
