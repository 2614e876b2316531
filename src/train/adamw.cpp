#include "train/adamw.h"

#include "ops/memory.h"

#include <cmath>
#include <set>
#include <utility>

#include "core/error.h"
#include "nn/bf16_weight_cache.h"
#include "ops/multi_tensor.h"

namespace accent {

AdamW::AdamW(ParameterList params, AdamWOptions options, OpContext ctx)
    : params_(std::move(params)), options_(options), ctx_(ctx) {
  std::set<const Parameter*> seen;
  for (Parameter* p : params_) {
    ACCENT_CHECK(p != nullptr, "AdamW: null parameter");
    // Listed twice, a parameter would be updated twice per step (and, with zero_grad in the pass, from a zeroed
    // gradient the second time).
    ACCENT_CHECK(seen.insert(p).second, "AdamW: parameter ", p->name, " is listed twice");
    if (!p->trainable) continue;
    ACCENT_CHECK(p->value.dtype() == DType::F32, "AdamW: parameter ", p->name, " must be F32 master weights");
    ACCENT_CHECK(p->grad.dtype() == DType::F32 && p->grad.shape() == p->value.shape(), "AdamW: parameter ", p->name,
                 " has gradient of shape ", shape_str(p->grad.shape()), ", expected ", shape_str(p->value.shape()));
    const MemoryResource& memory = p->value.memory();
    slots_.push_back({p, Tensor::zeros(p->value.shape(), DType::F32, memory),
                      Tensor::zeros(p->value.shape(), DType::F32, memory)});
  }
}

void AdamW::update(double lr, float grad_scale, bool zero_grad) {
  ++step_;
  const double t = static_cast<double>(step_);
  // Python-side scalar math of torch.optim._functional.adamw (double), then cast to the tensor's float.
  const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
  const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
  const float neg_step_size = static_cast<float>(-(lr / bias_correction1));
  const float bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  AdamWScalars scalars;
  scalars.beta1 = static_cast<float>(options_.beta1);
  scalars.one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
  scalars.beta2 = static_cast<float>(options_.beta2);
  scalars.one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
  scalars.eps = static_cast<float>(options_.eps);
  scalars.neg_step_size = neg_step_size;
  scalars.bias_correction2_sqrt = bias_correction2_sqrt;
  scalars.grad_scale = grad_scale;
  scalars.zero_grad = zero_grad;
  std::vector<AdamWTensor>& tensors = update_list_;
  tensors.clear();
  for (Slot& s : slots_) {
    const double wd = s.param->decay ? options_.weight_decay : 0.0;
    float* value = s.param->value.f32();  // stamps the version the update leaves
    // The layer's bf16 copy, refreshed in the same pass (host memory; a device copy is converted by its next use).
    const Bf16WeightCache* cache = s.param->bf16_cache.cache;
    uint16_t* bf16_copy = ctx_.backend != Backend::Cuda && cache ? cache->copy_to_refresh(s.param->value) : nullptr;
    tensors.push_back({value, s.param->grad.f32(), s.exp_avg.f32(), s.exp_avg_sq.f32(), s.param->value.numel(),
                       static_cast<float>(1.0 - lr * wd), bf16_copy});
  }
  adamw_update(ctx_, tensors.data(), static_cast<int>(tensors.size()), scalars);
  // The copies written are current only now that the whole update ran (tensors[i] is slots_[i]'s).
  for (size_t i = 0; i < slots_.size(); ++i)
    if (tensors[i].bf16_copy) slots_[i].param->bf16_cache.cache->mark_refreshed(slots_[i].param->value);
}

void AdamW::zero_grad() {
  for (Slot& s : slots_) fill_zero(ctx_, s.param->grad.data(), s.param->grad.nbytes());
}

std::map<std::string, Tensor> AdamW::state_tensors() const {
  std::map<std::string, Tensor> out;
  for (const Slot& s : slots_) {
    out[s.param->name + ".exp_avg"] = s.exp_avg;
    out[s.param->name + ".exp_avg_sq"] = s.exp_avg_sq;
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, Tensor>& tensors, int64_t step_count, const std::string& origin) {
  ACCENT_CHECK(step_count >= 0, origin, ": negative optimizer step count ", step_count);
  for (Slot& s : slots_) {
    for (const char* which : {".exp_avg", ".exp_avg_sq"}) {
      const std::string key = s.param->name + which;
      auto it = tensors.find(key);
      ACCENT_CHECK(it != tensors.end(), origin, ": optimizer state tensor ", key, " is missing");
      ACCENT_CHECK(it->second.shape() == s.param->value.shape(), origin, ": optimizer state tensor ", key,
                   " has shape ", shape_str(it->second.shape()), ", expected ", shape_str(s.param->value.shape()));
      Tensor copy = it->second.to(DType::F32).clone().to_memory(s.param->value.memory());
      (std::string(which) == ".exp_avg" ? s.exp_avg : s.exp_avg_sq) = copy;
    }
  }
  step_ = step_count;
}

}  // namespace accent
