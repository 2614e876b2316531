#include "models/gpt2_conv1d.h"

#include "nn/parameter_init.h"
#include "ops/matmul.h"

namespace accent {

Conv1D::Conv1D(const std::string& name, int64_t in_features, int64_t out_features)
    : in_(in_features), out_(out_features) {
  weight = make_parameter(name + ".weight", {in_features, out_features}, /*decay=*/true);
  bias = make_parameter(name + ".bias", {out_features}, /*decay=*/false);
}

void Conv1D::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) const {
  // (rows, in) · (in, out) + b
  gemm(ctx, GemmShape{1, rows, out_, in_, false, false}, x, weight.value.f32(), bias.value.f32(), y, false);
}

void Conv1D::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  // dW (in, out) += xᵀ (in, rows) · dy (rows, out)
  gemm(ctx, GemmShape{1, in_, out_, rows, true, false}, x, dy, nullptr, weight.grad.f32(), true);
  column_sum_accumulate(ctx, dy, bias.grad.f32(), rows, out_);
  // dx (rows, in) = dy (rows, out) · Wᵀ, W stored (in, out) = (N, K) for trans_b
  if (dx) gemm(ctx, GemmShape{1, rows, in_, out_, false, true}, dy, weight.value.f32(), nullptr, dx, false);
}

void Conv1D::collect(ParameterList& out) {
  out.push_back(&weight);
  out.push_back(&bias);
}

}  // namespace accent
