#include "nn/linear.h"

#include <utility>

#include "nn/lora.h"
#include "nn/parameter_init.h"
#include "ops/matmul.h"
#include "ops/precision.h"

namespace accent {

Linear::Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  weight = make_parameter(name + ".weight", {out_features, in_features}, /*decay=*/true);
  if (bias) this->bias = make_parameter(name + ".bias", {out_features}, /*decay=*/false);
}

const uint16_t* Linear::refresh_weight_bf16() const {
  if (weight_bf16_.dtype() != DType::BF16 || weight_bf16_.numel() != weight.value.numel())
    weight_bf16_ = Tensor(DType::BF16, weight.value.shape());
  uint16_t* w16 = weight_bf16_.data_as<uint16_t>();
  convert_f32_to_bf16(weight.value.f32(), w16, weight.value.numel());
  return w16;
}

void Linear::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) const {
  if (ctx.precision == Precision::BF16) {
    GemmShape s;
    s.M = rows, s.N = out_, s.K = in_, s.trans_b = true;  // y = x (rows, in) · Wᵀ, W (out, in) = (N, K)
    gemm_bf16_weights(ctx, s, x, refresh_weight_bf16(), has_bias_ ? bias.value.f32() : nullptr, y, false);
  } else {
    linear_forward(ctx, x, weight.value.f32(), has_bias_ ? bias.value.f32() : nullptr, y, rows, in_, out_);
  }
  if (lora) lora->forward_add(ctx, x, y, rows);
}

void Linear::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                      bool accumulate_dx) {
  if (lora) lora->backward_params(ctx, x, dy, rows);  // reads x before dx (which may alias it) is written
  float* dbias = has_bias_ && bias.trainable ? bias.grad.f32() : nullptr;
  if (weight.trainable) {
    linear_backward_weight(ctx, x, dy, weight.grad.f32(), dbias, rows, in_, out_);
  } else if (dbias) {
    column_sum_accumulate(ctx, dy, dbias, rows, out_);  // frozen weight: no dW product
  }
  if (!dx) return;
  GemmShape s;
  s.M = rows, s.N = in_, s.K = out_;  // dx = dy (rows, out) · W (out, in)
  if (ctx.precision == Precision::BF16) {
    const bool fresh = weight_bf16_.dtype() == DType::BF16 && weight_bf16_.numel() == weight.value.numel();
    const uint16_t* w16 = fresh ? std::as_const(weight_bf16_).data_as<uint16_t>() : refresh_weight_bf16();
    gemm_bf16_weights(ctx, s, dy, w16, nullptr, dx, accumulate_dx);
  } else {
    gemm(ctx, s, dy, weight.value.f32(), nullptr, dx, accumulate_dx);
  }
  if (lora) lora->backward_input_add(ctx, dx, rows);
}

void Linear::collect(ParameterList& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

}  // namespace accent
