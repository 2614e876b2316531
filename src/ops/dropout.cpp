#include "ops/dropout.h"

#include <algorithm>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/dropout_rows.h"

namespace accent {

namespace {
inline float keep_scale(float p) { return p >= 1.0f ? 0.0f : 1.0f / (1.0f - p); }
}  // namespace

void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, uint64_t seed,
                     uint64_t counter_base) {
  check_op_context(ctx, "dropout_forward");
  ACCENT_CHECK(p >= 0.0f && p <= 1.0f, "dropout probability has to be between 0 and 1, but got ", p);
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(dropout_forward_mask, x, y, mask, n, DropoutDraw{p, seed, counter_base});
  const float scale = keep_scale(p);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) {
      Rng r(seed, counter_base + static_cast<uint64_t>(i));
      mask[i] = r.uniform() >= p ? 1 : 0;
      y[i] = mask[i] ? x[i] * scale : 0.0f;
    }
    return;
  }
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    Rng r(seed, counter_base + static_cast<uint64_t>(i));
    const uint8_t keep = r.uniform() >= p ? 1 : 0;
    mask[i] = keep;
    y[i] = keep ? x[i] * scale : 0.0f;
  }
}

void dropout_forward(const OpContext& ctx, const float* x, float* y, uint8_t* mask, int64_t n, float p, Rng& rng) {
  const uint64_t base = rng.reserve(static_cast<uint64_t>(n));  // this process's slice (core/rng.h: Sharding)
  dropout_forward(ctx, x, y, mask, n, p, rng.seed(), base);
}

DropoutDraw dropout_draw(float p, Rng* rng, int64_t n) {
  ACCENT_CHECK(p >= 0.0f && p <= 1.0f, "dropout probability has to be between 0 and 1, but got ", p);
  DropoutDraw d;
  if (rng == nullptr || p == 0.0f) return d;
  d.p = p;
  d.seed = rng->seed();
  d.counter = rng->reserve(static_cast<uint64_t>(n));  // this process's slice (core/rng.h: Sharding)
  return d;
}

namespace {
// y = x·keep·scale over n elements, the mask regenerated from the draw (shared by forward and backward).
void apply_draw(const OpContext& ctx, const float* x, const DropoutDraw& d, float* y, int64_t n) {
  if (!d.active()) {
    if (x != y) std::copy(x, x + n, y);
    return;
  }
  const float scale = d.scale();
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] = d.keeps(i) ? x[i] * scale : 0.0f;
    return;
  }
  if (d.row_map != nullptr) {  // packed rows: each row's counters start at its padded row's
    const int64_t C = d.row_width;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < n / C; ++r) dropout_rows::dropout_row(x + r * C, y + r * C, C, d, r);
    return;
  }
  const uint64_t seed = d.seed, base = d.counter;
  const float p = d.p;
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = dropout_keeps(seed, base + static_cast<uint64_t>(i), p) ? x[i] * scale : 0.0f;
}
}  // namespace

void dropout_forward(const OpContext& ctx, const float* x, float* y, const DropoutDraw& draw, int64_t n) {
  check_op_context(ctx, "dropout_forward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(dropout_forward, x, y, draw, n);
  apply_draw(ctx, x, draw, y, n);
}

void dropout_backward(const OpContext& ctx, const float* dy, const DropoutDraw& draw, float* dx, int64_t n) {
  check_op_context(ctx, "dropout_backward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(dropout_backward, dy, draw, dx, n);
  apply_draw(ctx, dy, draw, dx, n);
}

void dropout_backward(const OpContext& ctx, const float* dy, const uint8_t* mask, float* dx, int64_t n, float p) {
  check_op_context(ctx, "dropout_backward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(dropout_backward_mask, dy, mask, dx, n, p);
  const float scale = keep_scale(p);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

}  // namespace accent
