// ops/cuda/loss.cu — the classification losses (loss.h) on the GPU: one block does the whole batch (N × C is tiny),
// in double like the cpu path, and writes the gradient for the backward that follows on the same stream. The loss
// value comes back to the host (the one synchronisation of a training step that the Trainer logs anyway).
#include <cmath>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/reduce.cuh"
#include "ops/cuda/runtime.h"
#include "ops/loss.h"

namespace accent::cuda {

namespace {

constexpr int kLossThreads = 256;

struct LossResult {
  double total;
  long long count;       // rows that count (cross-entropy) or elements (bce/mse)
  long long bad_row;     // first row with an out-of-range label, or -1
  long long bad_label;
};

__global__ void cross_entropy_kernel(const float* logits, const int64_t* targets, float* dlogits, int64_t N, int64_t C,
                                     LossResult* out) {
  __shared__ double shared[32];
  __shared__ long long first_bad;
  if (threadIdx.x == 0) first_bad = -1;
  __syncthreads();
  double local_count = 0.0;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
    const int64_t t = targets[n];
    if (t == kIgnoreIndex) continue;
    if (t < 0 || t >= C) {
      atomicMin(reinterpret_cast<unsigned long long*>(&first_bad), static_cast<unsigned long long>(n));
      continue;
    }
    local_count += 1.0;
  }
  const double count = block_sum(local_count, shared);
  if (first_bad != -1) {
    if (threadIdx.x == 0) {
      out->bad_row = first_bad;
      out->bad_label = targets[first_bad];
    }
    return;
  }
  double local_total = 0.0;
  for (int64_t n = threadIdx.x; n < N; n += blockDim.x) {
    const float* z = logits + n * C;
    float* dz = dlogits ? dlogits + n * C : nullptr;
    const int64_t t = targets[n];
    if (t == kIgnoreIndex) {
      if (dz)
        for (int64_t c = 0; c < C; ++c) dz[c] = 0.0f;
      continue;
    }
    double mx = z[0];
    for (int64_t c = 1; c < C; ++c) mx = z[c] > mx ? z[c] : mx;
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) sum += exp(z[c] - mx);
    const double logsumexp = mx + log(sum);
    local_total += logsumexp - z[t];
    if (dz)
      for (int64_t c = 0; c < C; ++c) dz[c] = static_cast<float>((exp(z[c] - logsumexp) - (c == t ? 1.0 : 0.0)) / count);
  }
  const double total = block_sum(local_total, shared);
  if (threadIdx.x == 0) {
    out->total = total;
    out->count = static_cast<long long>(count);
    out->bad_row = -1;
  }
}

// bce_with_logits (kind 0) and mse (kind 1) over all N·C elements.
__global__ void elementwise_loss_kernel(int kind, const float* z_in, const float* y_in, float* dz, int64_t n,
                                        LossResult* out) {
  __shared__ double shared[32];
  double local = 0.0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const double z = z_in[i], y = y_in[i];
    if (kind == 0) {
      local += (z > 0.0 ? z : 0.0) - z * y + log1p(exp(-fabs(z)));
      if (dz) dz[i] = static_cast<float>((1.0 / (1.0 + exp(-z)) - y) / static_cast<double>(n));
    } else {
      const double d = z - y;
      local += d * d;
      if (dz) dz[i] = static_cast<float>(2.0 * d / static_cast<double>(n));
    }
  }
  const double total = block_sum(local, shared);
  if (threadIdx.x == 0) {
    out->total = total;
    out->count = n;
    out->bad_row = -1;
  }
}

LossResult fetch(const LossResult* device) {
  LossResult host{};
  check(cudaMemcpyAsync(&host, device, sizeof host, cudaMemcpyDeviceToHost, stream()), "loss");
  check(cudaStreamSynchronize(stream()), "loss");
  return host;
}

LossResult* result_slot() {
  return static_cast<LossResult*>(workspace(Workspace::ErrorFlag, sizeof(LossResult)));
}

}  // namespace

float cross_entropy_loss(const float* logits, const int64_t* targets, float* dlogits, int64_t N, int64_t C) {
  if (N == 0) return std::nanf("");
  LossResult* slot = result_slot();
  cross_entropy_kernel<<<1, kLossThreads, 0, stream()>>>(logits, targets, dlogits, N, C, slot);
  check_launch("cross_entropy_loss");
  const LossResult r = fetch(slot);
  ACCENT_CHECK(r.bad_row < 0, "cross_entropy: label ", r.bad_label, " of batch row ", r.bad_row,
               " is out of range for ", C, " classes (use -100 to ignore a row)");
  if (r.count == 0) return std::nanf("");
  return static_cast<float>(r.total / static_cast<double>(r.count));
}

float bce_with_logits_loss(const float* logits, const float* targets, float* dlogits, int64_t N, int64_t C) {
  if (N * C == 0) return std::nanf("");
  LossResult* slot = result_slot();
  elementwise_loss_kernel<<<1, kLossThreads, 0, stream()>>>(0, logits, targets, dlogits, N * C, slot);
  check_launch("bce_with_logits_loss");
  const LossResult r = fetch(slot);
  return static_cast<float>(r.total / static_cast<double>(r.count));
}

float mse_loss(const float* predictions, const float* targets, float* dpredictions, int64_t N, int64_t C) {
  if (N * C == 0) return std::nanf("");
  LossResult* slot = result_slot();
  elementwise_loss_kernel<<<1, kLossThreads, 0, stream()>>>(1, predictions, targets, dpredictions, N * C, slot);
  check_launch("mse_loss");
  const LossResult r = fetch(slot);
  return static_cast<float>(r.total / static_cast<double>(r.count));
}

}  // namespace accent::cuda
