#include "ops/loss.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "ops/cuda/kernels.h"

namespace accent {

float cross_entropy_loss(const OpContext& ctx, const float* logits, const int64_t* targets, float* dlogits, int64_t N,
                         int64_t C) {
  check_op_context(ctx, "cross_entropy_loss");
  if (ctx.backend == Backend::Cuda) {
#if ACCENT_WITH_CUDA
    return cuda::cross_entropy_loss(logits, targets, dlogits, N, C);
#else
    fail_cuda_not_built("cross_entropy_loss");
#endif
  }
  int64_t count = 0;
  for (int64_t n = 0; n < N; ++n) {
    if (targets[n] == kIgnoreIndex) continue;
    ACCENT_CHECK(targets[n] >= 0 && targets[n] < C, "cross_entropy: label ", targets[n], " of batch row ", n,
                 " is out of range for ", C, " classes (use -100 to ignore a row)");
    ++count;
  }
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const float* z = logits + n * C;
    float* dz = dlogits ? dlogits + n * C : nullptr;
    if (targets[n] == kIgnoreIndex) {
      if (dz)
        for (int64_t c = 0; c < C; ++c) dz[c] = 0.0f;
      continue;
    }
    double max = z[0];
    for (int64_t c = 1; c < C; ++c) max = z[c] > max ? z[c] : max;
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(z[c] - max);
    const double logsumexp = max + std::log(sum);
    total += logsumexp - z[targets[n]];
    if (dz) {
      for (int64_t c = 0; c < C; ++c) {
        const double p = std::exp(z[c] - logsumexp);
        dz[c] = static_cast<float>((p - (c == targets[n] ? 1.0 : 0.0)) / static_cast<double>(count));
      }
    }
  }
  if (count == 0) return std::numeric_limits<float>::quiet_NaN();
  return static_cast<float>(total / static_cast<double>(count));
}

float bce_with_logits_loss(const OpContext& ctx, const float* logits, const float* targets, float* dlogits, int64_t N,
                           int64_t C) {
  check_op_context(ctx, "bce_with_logits_loss");
  if (ctx.backend == Backend::Cuda) {
#if ACCENT_WITH_CUDA
    return cuda::bce_with_logits_loss(logits, targets, dlogits, N, C);
#else
    fail_cuda_not_built("bce_with_logits_loss");
#endif
  }
  const int64_t n = N * C;
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double z = logits[i], y = targets[i];
    total += (z > 0.0 ? z : 0.0) - z * y + std::log1p(std::exp(-std::fabs(z)));
    if (dlogits) dlogits[i] = static_cast<float>((1.0 / (1.0 + std::exp(-z)) - y) / static_cast<double>(n));
  }
  return n == 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(total / static_cast<double>(n));
}

float mse_loss(const OpContext& ctx, const float* predictions, const float* targets, float* dpredictions, int64_t N,
               int64_t C) {
  check_op_context(ctx, "mse_loss");
  if (ctx.backend == Backend::Cuda) {
#if ACCENT_WITH_CUDA
    return cuda::mse_loss(predictions, targets, dpredictions, N, C);
#else
    fail_cuda_not_built("mse_loss");
#endif
  }
  const int64_t n = N * C;
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(predictions[i]) - targets[i];
    total += d * d;
    if (dpredictions) dpredictions[i] = static_cast<float>(2.0 * d / static_cast<double>(n));
  }
  return n == 0 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(total / static_cast<double>(n));
}

}  // namespace accent
