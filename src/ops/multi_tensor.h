// ops/multi_tensor.h — the optimizer's elementwise work over every trainable tensor at once: AdamW's update and
// the global gradient norm of clipping (train/adamw.h, train/grad_clip.h hold the torch semantics and call these).
// On CUDA each is one launch over all tensors (a bert-base step has ~200 parameter tensors; one launch per tensor
// would be ~600 launches per step), with no host round trip per tensor.
//
// AdamW, element by element (torch.optim.AdamW single-tensor kernel, float arithmetic in this order):
//   g ← g·grad_scale                          clipping's coef (torch scales the gradients in place before the step;
//                                             here the same float product is taken as the update reads g)
//   p ← p·decay_factor                        decay_factor = 1 − lr·wd (1 for parameters without decay)
//   m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g·g
//   p ← p + neg_step_size · m / (√v / √(1−β2^t) + ε)          neg_step_size = −lr/(1−β1^t)
// Global norm (torch.nn.utils.clip_grad_norm_): total = ‖(‖g_1‖, …, ‖g_n‖)‖ with each ‖g_i‖ rounded to float, as
// torch stacks float norms; sums of squares in double, in a fixed order (deterministic on every backend).
// Clip: g ← g·coef for every tensor when coef = max_norm/(total + 1e-6) < 1.
#pragma once
#include <cmath>
#include <cstdint>

#include "core/host_device.h"
#include "ops/backend.h"

namespace accent {

struct AdamWScalars {
  float beta1 = 0.9f, one_minus_beta1 = 0.1f;
  float beta2 = 0.999f, one_minus_beta2 = 0.001f;
  float eps = 1e-8f;
  float neg_step_size = 0.0f;          // −lr / (1 − β1^t)
  float bias_correction2_sqrt = 1.0f;  // √(1 − β2^t)
  float grad_scale = 1.0f;             // g·grad_scale is the gradient the update uses (1: unclipped)
  bool zero_grad = false;              // the gradient is set to 0 once read (zero_grad in the same pass)
};

struct AdamWTensor {
  float* param = nullptr;
  float* grad = nullptr;  // written only with AdamWScalars::zero_grad
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  int64_t n = 0;
  float decay_factor = 1.0f;  // 1 − lr·wd
  uint16_t* bf16_copy = nullptr;  // cpu only, optional: receives bf16(p) after the update (a bf16 weight cache's
                                  // copy, nn/bf16_weight_cache.h copy_to_refresh, made in the same pass)
};

// One element of the update (shared by the cpu loop and the CUDA kernel: the same float sequence everywhere). g is
// the stored gradient times s.grad_scale (clip: grads.mul_(clip_coef), the same float product); the caller zeroes
// the stored gradient after when s.zero_grad.
ACCENT_HD inline void adamw_update_element(float& p, float& m, float& v, float g, float decay_factor,
                                           const AdamWScalars& s) {
  float pi = p * decay_factor;                           // param.mul_(1 - lr * wd)
  const float mi = m * s.beta1 + s.one_minus_beta1 * g;  // exp_avg.mul_(β1).add_(g, alpha=1-β1)
  const float vi = v * s.beta2 + s.one_minus_beta2 * g * g;  // exp_avg_sq.mul_(β2).addcmul_(g, g, 1-β2)
  const float denom = sqrtf(vi) / s.bias_correction2_sqrt + s.eps;
  pi = pi + s.neg_step_size * mi / denom;  // param.addcdiv_(exp_avg, denom, value=-step_size)
  m = mi;
  v = vi;
  p = pi;
}

void adamw_update(const OpContext& ctx, const AdamWTensor* tensors, int count, const AdamWScalars& scalars);

struct GradTensor {
  float* grad = nullptr;
  int64_t n = 0;
};
// The global L2 norm (see above) of the tensors' values; NaN/inf propagate.
double global_grad_norm(const OpContext& ctx, const GradTensor* tensors, int count);
// g ← g·coef for every tensor.
void scale_tensors(const OpContext& ctx, const GradTensor* tensors, int count, float coef);

}  // namespace accent
