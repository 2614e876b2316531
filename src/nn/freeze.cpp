#include "nn/freeze.h"

namespace accent {

void freeze(Parameter& p) {
  p.trainable = false;
  p.grad = Tensor();
}

void unfreeze(Parameter& p) {
  p.trainable = true;
  if (p.grad.shape() != p.value.shape() || p.grad.numel() != p.value.numel() || p.grad.data() == nullptr)
    p.grad = Tensor::zeros(p.value.shape(), DType::F32, p.value.memory());
}

int64_t gradient_bytes(const ParameterList& params) {
  int64_t total = 0;
  for (const Parameter* p : params) total += p->trainable ? static_cast<int64_t>(p->grad.nbytes()) : 0;
  return total;
}

bool any_trainable(const ParameterList& params) {
  for (const Parameter* p : params)
    if (p->trainable) return true;
  return false;
}

}  // namespace accent
