#include "nn/rms_norm.h"

#include "nn/parameter_init.h"
#include "ops/rms_norm.h"

namespace accent {

RmsNorm::RmsNorm(const std::string& name, int64_t C, float eps) : C_(C), eps_(eps) {
  weight = make_parameter(name + ".weight", {C}, /*decay=*/false);
  init_constant(weight, 1.0f);
}

void RmsNorm::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  rms_norm_forward(ctx, x, weight.value.f32(), y, rstd_.f32(rows), rows, C_, eps_);
}

void RmsNorm::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  // A frozen weight has no gradient buffer (nn/freeze.h): its sum is not computed.
  rms_norm_backward(ctx, dy, x, weight.value.f32(), rstd_.f32(rows), dx, weight.trainable ? weight.grad.f32() : nullptr,
                    rows, C_);
}

void RmsNorm::collect(ParameterList& out) { out.push_back(&weight); }

}  // namespace accent
