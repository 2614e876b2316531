// ops/cuda/elementwise.cu — the memory-bound ops of tensor_ops.h, activation.h and dropout.h on the GPU.
// Grid-stride loops; the activation formulas and the dropout mask test are the shared host/device definitions
// (ops/activation_math.h, ops/dropout.h), so a mask drawn here equals the cpu path's bit for bit.
#include "ops/activation_math.h"
#include "ops/attention_softmax.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

#define GRID_STRIDE(i, n)                                                                \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void add_kernel(const float* a, const float* b, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] = a[i] + b[i];
}
__global__ void add_inplace_kernel(const float* a, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] += a[i];
}
__global__ void multiply_inplace_kernel(const float* a, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] *= a[i];
}
__global__ void scale_inplace_kernel(float s, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] *= s;
}

// x (B, T, P, NH, D) → y (P, B, NH, T, D) when to_heads, the inverse otherwise; i runs over the destination.
// P = 1: split_heads / merge_heads; P = 3: a fused q|k|v projection (GPT-2's c_attn).
__global__ void permute_heads_kernel(const float* x, float* y, int64_t B, int64_t T, int64_t P, int64_t NH, int64_t D,
                                     bool to_heads) {
  const int64_t n = P * B * T * NH * D;
  GRID_STRIDE(i, n) {
    const int64_t d = i % D;
    if (to_heads) {  // i indexes (p, b, h, t, d)
      const int64_t t = (i / D) % T, h = (i / (D * T)) % NH, b = (i / (D * T * NH)) % B, p = i / (D * T * NH * B);
      y[i] = x[(((b * T + t) * P + p) * NH + h) * D + d];
    } else {  // i indexes (b, t, p, h, d)
      const int64_t h = (i / D) % NH, p = (i / (D * NH)) % P, t = (i / (D * NH * P)) % T, b = i / (D * NH * P * T);
      y[i] = x[(((p * B + b) * NH + h) * T + t) * D + d];
    }
  }
}

// scores (BNH, T, T): every key j after query i gets finfo.min.
__global__ void fill_causal_kernel(float* scores, int64_t BNH, int64_t T) {
  const int64_t n = BNH * T * T;
  GRID_STRIDE(idx, n) {
    const int64_t j = idx % T, i = (idx / T) % T;
    if (j > i) scores[idx] = kAttentionMaskMin;
  }
}

__global__ void gather_rows_kernel(const float* x, float* y, int64_t B, int64_t T, int64_t C, int64_t index) {
  GRID_STRIDE(i, B * C) {
    const int64_t b = i / C, c = i % C;
    y[i] = x[(b * T + index) * C + c];
  }
}
__global__ void scatter_rows_kernel(const float* dy, float* dx, int64_t B, int64_t T, int64_t C, int64_t index) {
  GRID_STRIDE(i, B * T * C) {
    const int64_t c = i % C, t = (i / C) % T, b = i / (C * T);
    dx[i] = t == index ? dy[b * C + c] : 0.0f;
  }
}

__global__ void activation_forward_kernel(Activation act, const float* x, float* y, int64_t n) {
  GRID_STRIDE(i, n) y[i] = activation_math::forward_one(act, x[i]);
}
__global__ void activation_backward_kernel(Activation act, const float* x, const float* dy, float* dx, int64_t n) {
  GRID_STRIDE(i, n) dx[i] = dy[i] * activation_math::derivative_one(act, x[i]);
}
__global__ void activation_with_derivative_kernel(Activation act, const float* x, float* y, float* dydx, int64_t n) {
  GRID_STRIDE(i, n) {
    const float v = x[i];
    y[i] = activation_math::forward_one(act, v);
    dydx[i] = activation_math::derivative_one(act, v);
  }
}

// y = x·keep/(1 − p); mask (may be null) records keep. An inactive draw copies.
__global__ void dropout_forward_kernel(const float* x, float* y, uint8_t* mask, int64_t n, DropoutDraw draw) {
  const float scale = draw.scale();
  GRID_STRIDE(i, n) {
    const bool keep = !draw.active() || draw.keeps(i);
    if (mask) mask[i] = keep ? 1 : 0;
    y[i] = draw.active() ? (keep ? x[i] * scale : 0.0f) : x[i];
  }
}
__global__ void dropout_backward_kernel(const float* dy, float* dx, int64_t n, DropoutDraw draw) {
  const float scale = draw.scale();
  GRID_STRIDE(i, n) dx[i] = draw.active() ? (draw.keeps(i) ? dy[i] * scale : 0.0f) : dy[i];
}
__global__ void dropout_backward_mask_kernel(const float* dy, const uint8_t* mask, float* dx, int64_t n, float scale) {
  GRID_STRIDE(i, n) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

#undef GRID_STRIDE

}  // namespace

void add(const float* a, const float* b, float* y, int64_t n) {
  if (n == 0) return;
  add_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a, b, y, n);
  check_launch("add");
}
void add_inplace(const float* a, float* y, int64_t n) {
  if (n == 0) return;
  add_inplace_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a, y, n);
  check_launch("add_inplace");
}
void multiply_inplace(const float* a, float* y, int64_t n) {
  if (n == 0) return;
  multiply_inplace_kernel<<<grid_for(n), kThreads, 0, stream()>>>(a, y, n);
  check_launch("multiply_inplace");
}
void scale_inplace(float s, float* y, int64_t n) {
  if (n == 0) return;
  scale_inplace_kernel<<<grid_for(n), kThreads, 0, stream()>>>(s, y, n);
  check_launch("scale_inplace");
}
void split_heads(const float* x, float* y, int64_t B, int64_t T, int64_t P, int64_t NH, int64_t D) {
  const int64_t n = P * B * T * NH * D;
  if (n == 0) return;
  permute_heads_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, y, B, T, P, NH, D, true);
  check_launch("split_heads");
}
void merge_heads(const float* x, float* y, int64_t B, int64_t T, int64_t P, int64_t NH, int64_t D) {
  const int64_t n = P * B * T * NH * D;
  if (n == 0) return;
  permute_heads_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, y, B, T, P, NH, D, false);
  check_launch("merge_heads");
}
void fill_causal(float* scores, int64_t BNH, int64_t T) {
  const int64_t n = BNH * T * T;
  if (n == 0) return;
  fill_causal_kernel<<<grid_for(n), kThreads, 0, stream()>>>(scores, BNH, T);
  check_launch("fill_causal");
}
void gather_rows(const float* x, float* y, int64_t B, int64_t T, int64_t C, int64_t index) {
  if (B * C == 0) return;
  gather_rows_kernel<<<grid_for(B * C), kThreads, 0, stream()>>>(x, y, B, T, C, index);
  check_launch("gather_rows");
}
void scatter_rows(const float* dy, float* dx, int64_t B, int64_t T, int64_t C, int64_t index) {
  if (B * T * C == 0) return;
  scatter_rows_kernel<<<grid_for(B * T * C), kThreads, 0, stream()>>>(dy, dx, B, T, C, index);
  check_launch("scatter_rows");
}

void activation_forward(Activation act, const float* x, float* y, int64_t n) {
  if (n == 0) return;
  activation_forward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(act, x, y, n);
  check_launch("activation_forward");
}
void activation_backward(Activation act, const float* x, const float* dy, float* dx, int64_t n) {
  if (n == 0) return;
  activation_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(act, x, dy, dx, n);
  check_launch("activation_backward");
}
void activation_forward_with_derivative(Activation act, const float* x, float* y, float* dydx, int64_t n) {
  if (n == 0) return;
  activation_with_derivative_kernel<<<grid_for(n), kThreads, 0, stream()>>>(act, x, y, dydx, n);
  check_launch("activation_forward_with_derivative");
}

void dropout_forward(const float* x, float* y, const DropoutDraw& draw, int64_t n) {
  if (n == 0) return;
  dropout_forward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, y, nullptr, n, draw);
  check_launch("dropout_forward");
}
void dropout_backward(const float* dy, const DropoutDraw& draw, float* dx, int64_t n) {
  if (n == 0) return;
  dropout_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dy, dx, n, draw);
  check_launch("dropout_backward");
}
void dropout_forward_mask(const float* x, float* y, uint8_t* mask, int64_t n, const DropoutDraw& draw) {
  if (n == 0) return;
  // The stored-mask form always records the mask: p = 0 keeps everything (scale 1).
  DropoutDraw d = draw;
  dropout_forward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(x, y, mask, n, d);
  check_launch("dropout_forward");
}
void dropout_backward_mask(const float* dy, const uint8_t* mask, float* dx, int64_t n, float p) {
  if (n == 0) return;
  const float scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
  dropout_backward_mask_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dy, mask, dx, n, scale);
  check_launch("dropout_backward");
}

}  // namespace accent::cuda
