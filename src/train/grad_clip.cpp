#include "train/grad_clip.h"

#include <cmath>
#include <vector>

#include "ops/multi_tensor.h"

namespace accent {

namespace {

// The trainable parameters' gradients as multi-tensor descriptors (grow-only per thread: no allocation per step).
const std::vector<GradTensor>& trainable_grads(const ParameterList& params) {
  thread_local std::vector<GradTensor> list;
  list.clear();
  for (Parameter* p : params)
    if (p->trainable) list.push_back({p->grad.f32(), p->grad.numel()});
  return list;
}

}  // namespace

double grad_global_norm(const ParameterList& params, const OpContext& ctx) {
  const auto& grads = trainable_grads(params);
  return global_grad_norm(ctx, grads.data(), static_cast<int>(grads.size()));
}

void scale_grads(const ParameterList& params, float coef, const OpContext& ctx) {
  const auto& grads = trainable_grads(params);
  scale_tensors(ctx, grads.data(), static_cast<int>(grads.size()), coef);
}

float clip_coefficient(double total_norm, double max_norm) {
  if (max_norm <= 0.0 || !std::isfinite(total_norm)) return 1.0f;
  const float coef = static_cast<float>(max_norm) / (static_cast<float>(total_norm) + 1e-6f);
  return coef < 1.0f ? coef : 1.0f;
}

double clip_grad_norm(const ParameterList& params, double max_norm, const OpContext& ctx) {
  const double total = grad_global_norm(params, ctx);
  const float coef = clip_coefficient(total, max_norm);
  if (coef < 1.0f) scale_grads(params, coef, ctx);
  return total;
}

}  // namespace accent
