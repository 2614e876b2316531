#include "nn/layer_norm.h"

#include "nn/parameter_init.h"
#include "ops/layernorm.h"

namespace accent {

LayerNorm::LayerNorm(const std::string& name, int64_t C, float eps) : C_(C), eps_(eps) {
  weight = make_parameter(name + ".weight", {C}, /*decay=*/false);
  bias = make_parameter(name + ".bias", {C}, /*decay=*/false);
  init_constant(weight, 1.0f);
}

void LayerNorm::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  layernorm_forward(ctx, x, weight.value.f32(), bias.value.f32(), y, mean_.f32(rows), rstd_.f32(rows), rows, C_, eps_);
}

void LayerNorm::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  // A frozen weight/bias has no gradient buffer (nn/freeze.h): its (C) sums go to a small discard buffer.
  float* discard = (!weight.trainable || !bias.trainable) ? discard_.f32(2 * C_) : nullptr;
  layernorm_backward(ctx, dy, x, weight.value.f32(), mean_.f32(rows), rstd_.f32(rows), dx,
                     weight.trainable ? weight.grad.f32() : discard, bias.trainable ? bias.grad.f32() : discard + C_,
                     rows, C_);
}

void LayerNorm::collect(ParameterList& out) {
  out.push_back(&weight);
  out.push_back(&bias);
}

}  // namespace accent
