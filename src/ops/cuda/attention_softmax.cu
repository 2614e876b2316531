// ops/cuda/attention_softmax.cu — scaled, masked softmax of attention scores with the fused attention dropout
// (attention_softmax.h) on the GPU. One block per score row (b, h, i); the row's maximum and sum are block
// reductions. The dropout mask is the shared counter-based draw over the flat (B, NH, Tq, Tk) index, never stored.
#include "ops/attention_softmax.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/reduce.cuh"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

constexpr int kSoftmaxThreads = 128;

// probs = softmax(scores/scale_divisor + mask_add[b]); dropped (when the draw is active) = probs·keep/(1 − p).
// probs may alias scores: each element is read (pass 1 and 2) by the thread that writes it (pass 3).
__global__ void softmax_forward_kernel(const float* scores, const float* mask_add, float* probs, float* dropped,
                                       int64_t rows_per_batch, int64_t Tk, float scale_divisor, DropoutDraw draw) {
  __shared__ float shared[32];
  const int64_t r = blockIdx.x;
  const float* s = scores + r * Tk;
  const float* mask = mask_add ? mask_add + (r / rows_per_batch) * Tk : nullptr;
  float local_max = -INFINITY;
  for (int64_t j = threadIdx.x; j < Tk; j += blockDim.x)
    local_max = fmaxf(local_max, s[j] / scale_divisor + (mask ? mask[j] : 0.0f));
  const float row_max = block_max(local_max, shared);
  float local_sum = 0.0f;
  for (int64_t j = threadIdx.x; j < Tk; j += blockDim.x)
    local_sum += expf(s[j] / scale_divisor + (mask ? mask[j] : 0.0f) - row_max);
  const float inv = 1.0f / block_sum(local_sum, shared);
  const float keep_scale = draw.scale();
  for (int64_t j = threadIdx.x; j < Tk; j += blockDim.x) {
    const float p = expf(s[j] / scale_divisor + (mask ? mask[j] : 0.0f) - row_max) * inv;
    probs[r * Tk + j] = p;
    if (draw.active()) dropped[r * Tk + j] = draw.keeps(r * Tk + j) ? p * keep_scale : 0.0f;
  }
}

// dscores = p·(dp − Σ dp·p)/scale_divisor with dp = ddropped·keep/(1 − p) under an active draw (ddropped itself
// otherwise); dropped (optional, active draw) = P' re-materialised. dscores may alias ddropped.
__global__ void softmax_backward_kernel(const float* probs, const float* ddropped, float* dscores, float* dropped,
                                        int64_t Tk, float scale_divisor, DropoutDraw draw) {
  __shared__ float shared[32];
  const int64_t r = blockIdx.x;
  const float keep_scale = draw.scale();
  float local_dot = 0.0f;
  for (int64_t j = threadIdx.x; j < Tk; j += blockDim.x) {
    const int64_t i = r * Tk + j;
    const float dp = draw.active() ? (draw.keeps(i) ? ddropped[i] * keep_scale : 0.0f) : ddropped[i];
    local_dot += dp * probs[i];
  }
  const float dot = block_sum(local_dot, shared);
  const float inv_scale = 1.0f / scale_divisor;
  for (int64_t j = threadIdx.x; j < Tk; j += blockDim.x) {
    const int64_t i = r * Tk + j;
    const bool keep = !draw.active() || draw.keeps(i);
    const float dp = draw.active() ? (keep ? ddropped[i] * keep_scale : 0.0f) : ddropped[i];
    const float p = probs[i];
    if (dropped) dropped[i] = keep ? p * keep_scale : 0.0f;
    dscores[i] = p * (dp - dot) * inv_scale;
  }
}

}  // namespace

void attention_softmax_dropout_forward(const float* scores, const float* mask_add, float* probs, float* dropped,
                                       const AttentionDims& d, float scale_divisor, const DropoutDraw& draw) {
  const int64_t rows = d.B * d.NH * d.Tq;
  if (rows == 0 || d.Tk == 0) return;
  softmax_forward_kernel<<<static_cast<unsigned>(rows), kSoftmaxThreads, 0, stream()>>>(
      scores, mask_add, probs, dropped, d.NH * d.Tq, d.Tk, scale_divisor, draw);
  check_launch("attention_softmax_forward");
}

void attention_softmax_forward(const float* scores, const float* mask_add, float* probs, const AttentionDims& d,
                               float scale_divisor) {
  attention_softmax_dropout_forward(scores, mask_add, probs, nullptr, d, scale_divisor, DropoutDraw{});
}

void attention_softmax_dropout_backward(const float* probs, const float* ddropped, float* dscores,
                                        const AttentionDims& d, float scale_divisor, const DropoutDraw& draw,
                                        float* dropped) {
  const int64_t rows = d.B * d.NH * d.Tq;
  if (rows == 0 || d.Tk == 0) return;
  softmax_backward_kernel<<<static_cast<unsigned>(rows), kSoftmaxThreads, 0, stream()>>>(
      probs, ddropped, dscores, draw.active() ? dropped : nullptr, d.Tk, scale_divisor, draw);
  check_launch("attention_softmax_backward");
}

void attention_softmax_backward(const float* probs, const float* dprobs, float* dscores, const AttentionDims& d,
                                float scale_divisor) {
  attention_softmax_dropout_backward(probs, dprobs, dscores, d, scale_divisor, DropoutDraw{}, nullptr);
}

}  // namespace accent::cuda
