#include "nn/linear.h"

#include "nn/parameter_init.h"
#include "ops/matmul.h"

namespace accent {

Linear::Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  weight = make_parameter(name + ".weight", {out_features, in_features}, /*decay=*/true);
  if (bias) this->bias = make_parameter(name + ".bias", {out_features}, /*decay=*/false);
}

void Linear::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) const {
  linear_forward(ctx, x, weight.value.f32(), has_bias_ ? bias.value.f32() : nullptr, y, rows, in_, out_);
}

void Linear::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                      bool accumulate_dx) {
  linear_backward_weight(ctx, x, dy, weight.grad.f32(), has_bias_ ? bias.grad.f32() : nullptr, rows, in_, out_);
  if (!dx) return;
  GemmShape s;
  s.M = rows, s.N = in_, s.K = out_;  // dx = dy (rows, out) · W (out, in)
  gemm(ctx, s, dy, weight.value.f32(), nullptr, dx, accumulate_dx);
}

void Linear::collect(ParameterList& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

}  // namespace accent
